package pipeline

import (
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// manifest decodes the top-level mapping into m.
func (d *decoder) manifest(root *yaml.Node, m *Manifest) {
	var s slots
	d.gather(root, topKeys, "", &s)
	if n := s[tVersion].val; n != nil {
		d.intField(&m.Version, n, "version")
		if m.Version.Set && m.Version.V != 1 {
			d.add(m.Version.Pos, "version", "unsupported version "+strconv.Itoa(m.Version.V)+"; supported versions: 1")
		}
	}
	d.strField(&m.Name, s[tName].val, "name")
	if n := d.section(s[tProvider].val, "provider"); n != nil {
		d.provider(n, &m.Provider)
	}
	if n := d.section(s[tOutput].val, "output"); n != nil {
		d.output(n, &m.Output)
	}
	if n := d.section(s[tLimits].val, "limits"); n != nil {
		d.limits(n, &m.Limits)
	}
	if n := d.section(s[tDefaults].val, "defaults"); n != nil {
		var ps slots
		d.gather(n, paramKeys, "defaults", &ps)
		d.params(ps[:len(paramKeyList)], &m.Defaults, &defaultsPaths)
		d.st.defaultsSet = setMask(&m.Defaults)
	}
	files := d.jobsFromList(s[tJobsFrom].val, m.Dir)
	d.jobs(s[tJobs].val, files, m)
}

// section returns the mapping under a section key, nil if absent or null,
// reporting anything else.
func (d *decoder) section(n *yaml.Node, path string) *yaml.Node {
	if n == nil {
		return nil
	}
	r := resolve(n)
	switch {
	case r.Kind == yaml.MappingNode:
		return r
	case isNull(r):
		return nil
	}
	d.st.typeErr(d.leafOf(n), path, "must be a mapping")
	return nil
}

func (d *decoder) provider(n *yaml.Node, p *Provider) {
	var s slots
	d.gather(n, providerKeys, "provider", &s)
	d.strField(&p.URL, s[0].val, "provider.url")
	d.strField(&p.Model, s[1].val, "provider.model")
}

func (d *decoder) output(n *yaml.Node, o *Output) {
	var s slots
	d.gather(n, outputKeys, "output", &s)
	d.strField(&o.URL, s[oURL].val, "output.url")
	d.strField(&o.Key, s[oKey].val, "output.key")
	d.strField(&o.Endpoint, s[oEndpoint].val, "output.endpoint")
	d.strField(&o.Region, s[oRegion].val, "output.region")
	d.boolField(&o.PathStyle, s[oPathStyle].val, "output.pathStyle")
	d.durField(&o.PresignTTL, s[oPresignTTL].val, "output.presignTTL")
	d.strField(&o.Staging, s[oStaging].val, "output.staging")
}

func (d *decoder) limits(n *yaml.Node, l *Limits) {
	var s slots
	d.gather(n, limitsKeys, "limits", &s)
	d.intField(&l.Concurrency, s[lConcurrency].val, "limits.concurrency")
	if n := s[lBudgetUSD].val; n != nil {
		if txt, ok := d.st.decimal(d.leafOf(n), "limits.budgetUSD"); ok {
			l.BudgetUSD = Field[string]{V: txt, Set: true, Pos: d.pos(n), Path: "limits.budgetUSD"}
		}
	}
	d.strField(&l.Deadline, s[lDeadline].val, "limits.deadline")
	d.durField(&l.JobTimeout, s[lJobTimeout].val, "limits.jobTimeout")
	d.strField(&l.PriceBasis, s[lPriceBasis].val, "limits.priceBasis")
	d.durField(&l.BudgetWindow, s[lBudgetWindow].val, "limits.budgetWindow")
	if n := s[lMaxFailures].val; n != nil {
		if txt, ok := d.st.decimal(d.leafOf(n), "limits.maxFailures"); ok {
			l.MaxFailures = Field[string]{V: txt, Set: true, Pos: d.pos(n), Path: "limits.maxFailures"}
		}
	}
}

// The setters below leave f untouched when the value is null (unset) or
// wrong (after reporting it); the YAML wrappers also when n is nil (absent).

func (st *state) setStr(f *Field[string], l leaf, path string) {
	if v, ok := st.str(l, path); ok {
		*f = Field[string]{V: v, Set: true, Pos: l.pos, Path: path}
	}
}

func (st *state) setInt(f *Field[int], l leaf, path string) {
	if v, ok := st.integer(l, path); ok {
		*f = Field[int]{V: v, Set: true, Pos: l.pos, Path: path}
	}
}

func (st *state) setFloat(f *Field[float64], l leaf, path string) {
	if v, ok := st.number(l, path); ok {
		*f = Field[float64]{V: v, Set: true, Pos: l.pos, Path: path}
	}
}

func (st *state) setBool(f *Field[bool], l leaf, path string) {
	if v, ok := st.boolean(l, path); ok {
		*f = Field[bool]{V: v, Set: true, Pos: l.pos, Path: path}
	}
}

func (st *state) setDur(f *Field[time.Duration], l leaf, path string) {
	if v, ok := st.duration(l, path); ok {
		*f = Field[time.Duration]{V: v, Set: true, Pos: l.pos, Path: path}
	}
}

func (d *decoder) strField(f *Field[string], n *yaml.Node, path string) {
	if n != nil {
		d.st.setStr(f, d.leafOf(n), path)
	}
}

func (d *decoder) intField(f *Field[int], n *yaml.Node, path string) {
	if n != nil {
		d.st.setInt(f, d.leafOf(n), path)
	}
}

func (d *decoder) boolField(f *Field[bool], n *yaml.Node, path string) {
	if n != nil {
		d.st.setBool(f, d.leafOf(n), path)
	}
}

func (d *decoder) durField(f *Field[time.Duration], n *yaml.Node, path string) {
	if n != nil {
		d.st.setDur(f, d.leafOf(n), path)
	}
}
