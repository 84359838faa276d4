package planner

import (
	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/pipeline"
)

// checkParams checks one set of Runware parameters against their specs
// (kling.Params) and returns the resolved request. Fields inherited from
// `defaults` carry the defaults' position and path, and sortDiags drops
// the repeats.
func checkParams(d *diags, p pipeline.Params, model string) kling.Request {
	r := kling.Request{Model: model}
	for i := range kling.Params {
		spec, f := &kling.Params[i], p[i]
		r.V[i] = f.Or(spec.Default)
		if f.Set {
			if msg := spec.Check(f.V); msg != "" {
				fieldErr(d, f, "%s", msg)
			}
		}
	}
	return r
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}
