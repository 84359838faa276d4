package pipeline

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Field numbers: a job's fields in one list. 0..5 are the job-only fields
// (slot numbers sID..sTags), then the params without safety, then the two
// safety fields. The CSV column set uses the same numbering.
const (
	fCheckContent = jobOnly + pSafety
	fSafetyMode   = fCheckContent + 1
	nFields       = fSafetyMode + 1
)

// fieldSuffixes are the path suffixes of a job's fields.
var fieldSuffixes = func() (s [nFields]string) {
	for i, n := range jobOnlyNames {
		s[i] = "." + n
	}
	for p := 0; p < pSafety; p++ {
		s[jobOnly+p] = "." + paramNames[p]
	}
	s[fCheckContent] = ".safety.checkContent"
	s[fSafetyMode] = ".safety.mode"
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
	for k, set := range [...]bool{
		p.OutputFormat.Set, p.OutputQuality.Set, p.NumberResults.Set, p.OriginalAudioVolume.Set,
		p.SoundVolume.Set, p.IncludeCost.Set, p.TTL.Set, p.WebhookURL.Set, p.UploadEndpoint.Set,
		p.CheckContent.Set, p.SafetyMode.Set,
	} {
		if set {
			m |= 1 << (jobOnly + k)
		}
	}
	return m
}

// slotMask is the mask of fields a job's gathered slots write.
func slotMask(s *slots) uint32 {
	var m uint32
	for fi := 0; fi < jobOnly+pSafety; fi++ {
		if s[fi].val != nil {
			m |= 1 << fi
		}
	}
	if s[jobOnly+pSafety].val != nil {
		m |= 1<<fCheckContent | 1<<fSafetyMode
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

// safetyPath is "<job>.safety", cut from the checkContent path.
func (p *paths) safetyPath() string {
	s := p.f[fCheckContent]
	if len(s) <= len(".checkContent") {
		return p.job + ".safety" // not built for this job; only on error paths
	}
	return s[:len(s)-len(".checkContent")]
}

// params decodes gathered param slots (paramKeys numbering) into p.
func (d *decoder) params(s []slot, p *Params, ps *paths) {
	for k := 0; k < pSafety; k++ {
		if n := s[k].val; n != nil {
			d.st.setParam(p, jobOnly+k, d.leafOf(n), ps.f[jobOnly+k])
		}
	}
	d.safety(s[pSafety].val, p, ps)
}

// safety decodes a `safety: {checkContent, mode}` mapping (n may be nil).
func (d *decoder) safety(n *yaml.Node, p *Params, ps *paths) {
	if n == nil {
		return
	}
	m := d.section(n, ps.safetyPath())
	if m == nil {
		return
	}
	var ss slots
	d.gather(m, safetyKeys, ps.safetyPath(), &ss)
	if v := ss[0].val; v != nil {
		d.st.setParam(p, fCheckContent, d.leafOf(v), ps.f[fCheckContent])
	}
	if v := ss[1].val; v != nil {
		d.st.setParam(p, fSafetyMode, d.leafOf(v), ps.f[fSafetyMode])
	}
}

// setParam sets param field fi (field numbering) from l.
func (st *state) setParam(p *Params, fi int, l leaf, path string) {
	switch fi {
	case jobOnly + pOutputFormat:
		st.setStr(&p.OutputFormat, l, path)
	case jobOnly + pOutputQuality:
		st.setInt(&p.OutputQuality, l, path)
	case jobOnly + pNumberResults:
		st.setInt(&p.NumberResults, l, path)
	case jobOnly + pOriginalAudioVolume:
		st.setFloat(&p.OriginalAudioVolume, l, path)
	case jobOnly + pSoundVolume:
		st.setFloat(&p.SoundVolume, l, path)
	case jobOnly + pIncludeCost:
		st.setBool(&p.IncludeCost, l, path)
	case jobOnly + pTTL:
		st.setInt(&p.TTL, l, path)
	case jobOnly + pWebhookURL:
		st.setStr(&p.WebhookURL, l, path)
	case jobOnly + pUploadEndpoint:
		st.setStr(&p.UploadEndpoint, l, path)
	case fCheckContent:
		st.setBool(&p.CheckContent, l, path)
	case fSafetyMode:
		st.setStr(&p.SafetyMode, l, path)
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
		st.setParam(&j.Params, fi, l, path)
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
		m.Jobs = append(m.Jobs, Job{Index: len(m.Jobs), Pos: d.pos(e), Dir: m.Dir})
		d.yamlJob(e, i, &m.Jobs[len(m.Jobs)-1], &m.Defaults)
	}
	for _, s := range srcs {
		d.st.importJobs(s, m)
	}
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
	for fi := 0; fi < jobOnly+pSafety; fi++ {
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
	d.safety(s[jobOnly+pSafety].val, &j.Params, &ps)
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
	p := &j.Params
	merge(&p.OutputFormat, &def.OutputFormat, ps.f[jobOnly+pOutputFormat], at)
	merge(&p.OutputQuality, &def.OutputQuality, ps.f[jobOnly+pOutputQuality], at)
	merge(&p.NumberResults, &def.NumberResults, ps.f[jobOnly+pNumberResults], at)
	merge(&p.OriginalAudioVolume, &def.OriginalAudioVolume, ps.f[jobOnly+pOriginalAudioVolume], at)
	merge(&p.SoundVolume, &def.SoundVolume, ps.f[jobOnly+pSoundVolume], at)
	merge(&p.IncludeCost, &def.IncludeCost, ps.f[jobOnly+pIncludeCost], at)
	merge(&p.TTL, &def.TTL, ps.f[jobOnly+pTTL], at)
	merge(&p.WebhookURL, &def.WebhookURL, ps.f[jobOnly+pWebhookURL], at)
	merge(&p.UploadEndpoint, &def.UploadEndpoint, ps.f[jobOnly+pUploadEndpoint], at)
	merge(&p.CheckContent, &def.CheckContent, ps.f[fCheckContent], at)
	merge(&p.SafetyMode, &def.SafetyMode, ps.f[fSafetyMode], at)
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
