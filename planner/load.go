package planner

import (
	"context"
	"errors"

	"github.com/dubline/dubline/pipeline"
)

// Load reads, decodes and plans the manifest at path; env looks up
// ${VAR}s. A manifest with decoding problems is still checked, offline,
// so that every problem is reported in one run: the error is then a
// pipeline.Diags of them all, sorted, and the Plan nil (a manifest with
// problems is never run).
func Load(ctx context.Context, path string, env func(string) (string, bool), opt Options) (*Plan, error) {
	m, decodeErr := pipeline.Load(path, env)
	if m == nil {
		return nil, decodeErr
	}
	if decodeErr == nil {
		return Build(ctx, m, opt)
	}
	opt.Offline = true
	_, planErr := Build(ctx, m, opt)
	var ds, more pipeline.Diags
	errors.As(decodeErr, &ds)
	if errors.As(planErr, &more) {
		ds = append(ds, more...)
	}
	return nil, ds.Sorted()
}

// UsesS3 reports whether the run needs an S3 client: for its output or
// for any input.
func (p *Plan) UsesS3() bool {
	if p.Output.Kind == "s3" {
		return true
	}
	for i := range p.Jobs {
		if p.Jobs[i].Video.Kind == InputS3 || p.Jobs[i].Audio.Kind == InputS3 {
			return true
		}
	}
	return false
}
