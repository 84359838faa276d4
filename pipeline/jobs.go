package pipeline

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dubline/dubline/kling"
)

// Field numbers: a job's fields in one list. 0..5 are the job-only fields
// (slot numbers sID..sTags), then kling.Params in order (field jobOnly+i
// is parameter i). The CSV column set uses the same numbering.
const nFields = jobOnly + kling.NParams

// Field masks are uint32.
var _ [32 - nFields]struct{}

// fieldSuffixes are the path suffixes of a job's fields.
var fieldSuffixes = func() (s [nFields]string) {
	for i, n := range jobOnlyNames {
		s[i] = "." + n
	}
	for i := range kling.Params {
		s[jobOnly+i] = "." + kling.Params[i].Name
	}
	return s
}()

// paths are the user-facing names of one job's fields ("jobs[3].video").
type paths struct {
	job string
	f   [nFields]string
}

// Masks of field numbers.
const (
	jobOnlyMask = 1<<jobOnly - 1
	paramMask   = (1<<nFields - 1) &^ jobOnlyMask
	allFields   = 1<<nFields - 1
)

// newPaths builds the paths of the fields in need (a mask of field
// numbers) as substrings of a single string: one allocation per job
// instead of one per field. Fields the defaults fill need no path of
// their own (they keep the defaults' path), so most jobs only name their
// own few fields; at 100,000 jobs that saves tens of megabytes.
func newPaths(prefix string, need uint32) paths {
	total := 0
	for k, s := range fieldSuffixes {
		if need&(1<<k) != 0 {
			total += len(prefix) + len(s)
		}
	}
	var b strings.Builder
	b.Grow(total)
	var ends [nFields]int
	for k, s := range fieldSuffixes {
		if need&(1<<k) != 0 {
			b.WriteString(prefix)
			b.WriteString(s)
		}
		ends[k] = b.Len()
	}
	all := b.String()
	p := paths{job: prefix}
	start := 0
	for k := range ends {
		p.f[k] = all[start:ends[k]]
		start = ends[k]
	}
	return p
}

// itemPath is head + i + "]", e.g. "jobs[3]" or "jobsFrom[1][7]".
func itemPath(head string, i int) string {
	var nb [20]byte
	return head + string(strconv.AppendInt(nb[:0], int64(i), 10)) + "]"
}

// setMask is the mask of p's fields that are set.
func setMask(p *Params) uint32 {
	var m uint32
	for i := range p {
		if p[i].Set {
			m |= 1 << (jobOnly + i)
		}
	}
	return m
}

// slotMask is the mask of fields a job's gathered slots write.
func slotMask(s *slots) uint32 {
	var m uint32
	for fi := 0; fi < jobOnly; fi++ {
		if s[fi].val != nil {
			m |= 1 << fi
		}
	}
	for k, pk := range paramKeyList {
		if s[jobOnly+k].val == nil {
			continue
		}
		n := 1
		if pk.group != nil {
			n = len(pk.group.names)
		}
		for i := pk.first; i < pk.first+n; i++ {
			m |= 1 << (jobOnly + i)
		}
	}
	return m
}

// defaultsPaths names the defaults' fields ("defaults.safety.mode").
var defaultsPaths = func() paths {
	p := paths{job: "defaults"}
	for k, s := range fieldSuffixes {
		p.f[k] = "defaults" + s
	}
	return p
}()

// groupPath is "<job>.<group>", cut from its first member's path.
func (p *paths) groupPath(pk paramKey) string {
	s := p.f[jobOnly+pk.first]
	cut := len(pk.group.names[0]) + 1
	if len(s) <= cut {
		return p.job + "." + pk.name // not built for this job; only on error paths
	}
	return s[:len(s)-cut]
}

// params decodes gathered param slots (paramKeyList numbering) into p.
func (d *decoder) params(s []slot, p *Params, ps *paths) {
	for k, pk := range paramKeyList {
		n := s[k].val
		switch {
		case n == nil:
		case pk.group == nil:
			d.st.setParam(p, pk.first, d.leafOf(n), ps.f[jobOnly+pk.first])
		default:
			d.group(n, pk, p, ps)
		}
	}
}

// group decodes a group's mapping, e.g. `safety: {checkContent, mode}`.
func (d *decoder) group(n *yaml.Node, pk paramKey, p *Params, ps *paths) {
	path := ps.groupPath(pk)
	m := d.section(n, path)
	if m == nil {
		return
	}
	var ss slots
	d.gather(m, pk.group, path, &ss)
	for k := range pk.group.names {
		if v := ss[k].val; v != nil {
			i := pk.first + k
			d.st.setParam(p, i, d.leafOf(v), ps.f[jobOnly+i])
		}
	}
}

// setParam sets parameter i (kling.Params numbering) from l.
func (st *state) setParam(p *Params, i int, l leaf, path string) {
	var v kling.Value
	ok := false
	switch kling.Params[i].Kind {
	case kling.String:
		var s string
		s, ok = st.str(l, path)
		v = kling.Str(s)
	case kling.Int:
		var n int
		n, ok = st.integer(l, path)
		v.N = float64(n)
	case kling.Float:
		v.N, ok = st.number(l, path)
	case kling.Bool:
		var b bool
		b, ok = st.boolean(l, path)
		v = kling.Flag(b)
	}
	if ok {
		p[i] = Field[kling.Value]{V: v, Set: true, Pos: l.pos, Path: path}
	}
}

// setJobField sets job field fi (field numbering) from l; tags are a
// CSV-style cell here (split on ';' or '|').
func (st *state) setJobField(j *Job, fi int, l leaf, path string) {
	switch fi {
	case sID:
		st.setStr(&j.ID, l, path)
	case sVideo:
		st.setStr(&j.Video, l, path)
	case sAudio:
		st.setStr(&j.Audio, l, path)
	case sAudioSeconds:
		st.setFloat(&j.AudioSeconds, l, path)
	case sVideoSeconds:
		st.setFloat(&j.VideoSeconds, l, path)
	case sTags:
		if s, ok := st.str(l, path); ok {
			j.Tags = Field[[]string]{V: splitTags(s), Set: true, Pos: l.pos, Path: path}
		}
	default:
		st.setParam(&j.Params, fi-jobOnly, l, path)
	}
}

// jobs decodes the `jobs` list, then the jobsFrom files, into m.Jobs.
func (d *decoder) jobs(n *yaml.Node, files []jobsFile, m *Manifest) {
	var list []*yaml.Node
	if n != nil {
		switch r := resolve(n); {
		case r.Kind == yaml.SequenceNode:
			list = r.Content
		case !isNull(r):
			d.st.typeErr(d.leafOf(n), "jobs", "must be a list of jobs")
		}
	}
	srcs := d.st.readJobsFiles(files)
	total := len(list)
	if d.chunks != nil {
		total = d.chunks.count
	}
	for _, s := range srcs {
		total += s.maxJobs
	}
	// Sized once: growing a slice of 100,000 large structs would briefly
	// hold two copies.
	m.Jobs = make([]Job, 0, total)
	if d.chunks != nil {
		d.chunkedJobs(m)
		if d.fallback {
			return
		}
	}
	for i, e := range list {
		d.yamlJob(e, i, m.newJob(d.pos(e), m.Dir), &m.Defaults)
	}
	for _, s := range srcs {
		d.st.importJobs(s, m)
	}
}

// newJob adds a job to m. Within the capacity decode sized, the slice is
// extended in place: its memory is already zero, and appending a Job
// literal (1.4 kB) would build and copy one per job.
func (m *Manifest) newJob(pos Pos, dir string) *Job {
	if len(m.Jobs) < cap(m.Jobs) {
		m.Jobs = m.Jobs[:len(m.Jobs)+1]
	} else {
		m.Jobs = append(m.Jobs, Job{})
	}
	j := &m.Jobs[len(m.Jobs)-1]
	j.Index, j.Pos, j.Dir = len(m.Jobs)-1, pos, dir
	return j
}

// yamlJob decodes one element of `jobs` into j.
func (d *decoder) yamlJob(n *yaml.Node, i int, j *Job, defaults *Params) {
	d.mappingJob(n, j, "jobs[", i, defaults)
}

// mappingJob decodes a job mapping (from the manifest or a JSONL line);
// its path is head + i + "]".
func (d *decoder) mappingJob(n *yaml.Node, j *Job, head string, i int, defaults *Params) {
	unset := paramMask &^ d.st.defaultsSet
	r := resolve(n)
	if r.Kind != yaml.MappingNode {
		ps := newPaths(itemPath(head, i), jobOnlyMask|unset)
		j.Path = ps.job
		d.st.typeErr(d.leafOf(n), ps.job, "must be a mapping (a job with id, video, audio, ...)")
		finishJob(j, &ps, defaults)
		return
	}
	var s slots
	// Gather first, so only the paths this job needs are built; the
	// gather's own messages build theirs when they happen.
	jobPath := itemPath(head, i)
	d.gather(r, jobKeys, jobPath, &s)
	ps := newPaths(jobPath, jobOnlyMask|unset|slotMask(&s))
	j.Path = ps.job
	for fi := 0; fi < jobOnly; fi++ {
		v := s[fi].val
		switch {
		case v == nil:
		case fi == sTags:
			if t, ok := d.tags(v, ps.f[sTags]); ok {
				j.Tags = Field[[]string]{V: t, Set: true, Pos: d.pos(v), Path: ps.f[sTags]}
			}
		default:
			d.st.setJobField(j, fi, d.leafOf(v), ps.f[fi])
		}
	}
	d.params(s[jobOnly:], &j.Params, &ps)
	finishJob(j, &ps, defaults)
}

// finishJob merges the defaults into j's unset params (keeping the
// defaults' Pos and Path, so errors point at the line that set them) and
// names every field still unset, positioned at the job.
func finishJob(j *Job, ps *paths, def *Params) {
	at := j.Pos
	name(&j.ID, ps.f[sID], at)
	name(&j.Video, ps.f[sVideo], at)
	name(&j.Audio, ps.f[sAudio], at)
	name(&j.AudioSeconds, ps.f[sAudioSeconds], at)
	name(&j.VideoSeconds, ps.f[sVideoSeconds], at)
	name(&j.Tags, ps.f[sTags], at)
	for i := range j.Params {
		merge(&j.Params[i], &def[i], ps.f[jobOnly+i], at)
	}
}

func name[T any](f *Field[T], path string, at Pos) {
	if !f.Set {
		f.Path, f.Pos = path, at
	}
}

func merge[T any](f, def *Field[T], path string, at Pos) {
	switch {
	case f.Set:
	case def.Set:
		*f = *def
	default:
		f.Path, f.Pos = path, at
	}
}
