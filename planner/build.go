package planner

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dubline/dubline/internal/redact"
	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/pipeline"
)

// Options control how a plan is built.
type Options struct {
	// Offline skips every network check: s3:// and https:// inputs are
	// taken on trust, and must carry audioSeconds to be priced.
	Offline bool
	// NeedPrice makes an input whose duration cannot be learned an error
	// (plan, run). validate sets it false: it checks, it does not price.
	NeedPrice bool
	// HTTPClient is used for https:// inputs (default: http.DefaultClient).
	HTTPClient *http.Client
	// S3 makes the client for s3:// inputs from the plan's output settings
	// (endpoint, region, path style). It is called at most once, when the
	// first s3:// input is checked; nil makes them an error unless Offline.
	S3 func(ctx context.Context, out Output) (S3Source, error)
	// Command-line overrides, checked as the manifest value they replace:
	// Budget (--budget, USD) overrides limits.budgetUSD when not "",
	// Concurrency (--concurrency) limits.concurrency when not 0, and
	// PriceBasis (--price-on) limits.priceBasis when not "".
	Budget      string
	Concurrency int
	PriceBasis  string
	// TierSlack: audio within this many seconds over a price boundary gets
	// a warning with the saving if trimmed (default 1 s).
	TierSlack float64
	// Workers bounds parallel probes (default 16).
	Workers int
	// Now anchors relative deadlines (default time.Now).
	Now func() time.Time
}

// Build checks a decoded manifest and returns its Plan. All problems are
// returned at once as a pipeline.Diags error, sorted by position; the Plan
// is nil then. Warnings never stop a plan; they are in Plan.Warnings.
func Build(ctx context.Context, m *pipeline.Manifest, opt Options) (*Plan, error) {
	if opt.HTTPClient == nil {
		opt.HTTPClient = http.DefaultClient
	}
	if opt.TierSlack == 0 {
		opt.TierSlack = 1
	}
	if opt.Workers <= 0 {
		opt.Workers = 16
	}
	now := time.Now()
	if opt.Now != nil {
		now = opt.Now()
	}
	d := &diags{}
	p := &Plan{Manifest: m.File, ManifestDir: m.Dir, ByTag: map[string]kling.Price{}}
	checkSettings(d, m, p, opt, now)
	tmpl := m.Output.Key.Or(DefaultKeyTemplate)
	tmplOK := true
	if msg := checkKeyTemplate(tmpl); msg != "" {
		d.errf(m.Output.Key.Pos, "output.key", "%s", msg)
		tmplOK = false
	} else if msg := checkKey(expandKey(tmpl, "", "id", "mp4", "run", 1, 0)); msg != "" {
		// A template problem (e.g. "../{id}.{ext}") is reported once, here,
		// not once per job and result.
		d.errf(m.Output.Key.Pos, "output.key", "%q: %s", tmpl, msg)
		tmplOK = false
	}
	if len(m.Jobs) == 0 {
		d.errf(pipeline.Pos{File: m.File, Line: 1, Col: 1}, "jobs", "the manifest has no jobs (add jobs: or jobsFrom:)")
	}

	jobs := make([]Job, len(m.Jobs))
	reqs := map[string]probeReq{}
	firstID := make(map[string]int, len(m.Jobs))
	// Most jobs of a batch resolve to the same request: one copy each
	// keeps a 100,000-job plan small.
	requests := map[kling.Request]*kling.Request{}
	for i := range m.Jobs {
		mj := &m.Jobs[i]
		j := &jobs[i]
		j.Index, j.Pos, j.ID = mj.Index, mj.Pos, mj.ID.V
		switch id := mj.ID; {
		case !id.Set || id.V == "":
			d.errf(mj.Pos, mj.Path+".id", "is required ([A-Za-z0-9._-], at most 128 characters)")
		case !safeID(id.V) || id.V == "." || id.V == "..":
			fieldErr(d, id, "%q is not safe for object keys; allowed: letters, digits, '.', '_' and '-' (at most 128)", id.V)
		default:
			if k, dup := firstID[id.V]; dup {
				fieldErr(d, id, "%q is also the id of %s (at %s); ids must be unique", id.V, m.Jobs[k].Path, m.Jobs[k].ID.Pos)
			} else {
				firstID[id.V] = i
			}
		}
		r := checkParams(d, mj.Params, kling.Model)
		if j.Request = requests[r]; j.Request == nil {
			j.Request = new(r) // only a new request escapes to the heap
			requests[r] = j.Request
		}
		if mj.Tags.Set {
			j.Tags = dedupeTags(mj.Tags.V) // [es, es] must not count a job twice in the totals
		}
		for _, t := range j.Tags {
			if !safeID(t) {
				fieldErr(d, mj.Tags, "tag %q is not allowed; tags use letters, digits, '.', '_' and '-'", t)
			}
		}
		for _, f := range []pipeline.Field[float64]{mj.AudioSeconds, mj.VideoSeconds} {
			if f.Set && (f.V <= 0 || f.V > 3600) {
				fieldErr(d, f, "%g is out of range (0, 3600] seconds", f.V)
			}
		}
		for k, f := range []pipeline.Field[string]{mj.Video, mj.Audio} {
			in, err := classify(f.V, mj.Dir)
			if err != nil {
				if f.Set {
					fieldErr(d, f, "%v", err)
				} else { // missing: report at the job, which has a position
					d.errf(mj.Pos, mj.Path+[]string{".video", ".audio"}[k], "%v", err)
				}
				continue
			}
			probe := k == 0 || !mj.AudioSeconds.Set
			if opt.Offline && in.Kind != InputLocal {
				// Nothing to check or probe: keep it out of the prober.
				if k == 0 {
					j.Video = in
				} else {
					j.Audio = in
				}
				continue
			}
			key := inputKey(in)
			if r, seen := reqs[key]; !seen || (probe && !r.probe) {
				reqs[key] = probeReq{in: in, probe: probe}
			}
			if k == 0 {
				j.Video = in
			} else {
				j.Audio = in
			}
		}
	}

	pr := &prober{offline: opt.Offline, http: opt.HTTPClient, workers: opt.Workers}
	if opt.S3 != nil {
		pr.s3 = sync.OnceValues(func() (S3Source, error) { return opt.S3(ctx, p.Output) })
	}
	res := pr.run(ctx, reqs)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	keyOwner := make(map[string]int, len(m.Jobs))
	endpointOwner := map[string]int{}
	for i := range jobs {
		mj, j := &m.Jobs[i], &jobs[i]
		inputsOK := true
		for k, f := range []pipeline.Field[string]{mj.Video, mj.Audio} {
			in := &j.Video
			if k == 1 {
				in = &j.Audio
			}
			if in.Kind == "" {
				inputsOK = false
				continue
			}
			r, probed := res[inputKey(*in)]
			if !probed {
				r.in = *in
			}
			if r.err != nil {
				fieldErr(d, f, "%v", r.err)
				inputsOK = false
				continue
			}
			*in = r.in
			if k == 0 && mj.VideoSeconds.Set {
				in.Seconds = mj.VideoSeconds.V
			}
			if k == 1 && mj.AudioSeconds.Set {
				in.Seconds = mj.AudioSeconds.V
			}
			checkLimits(d, j, f, k)
		}
		if inputsOK {
			planJob(d, p, mj, j, opt)
		}
		if tmplOK && j.ID != "" {
			j.OutputKeys = outputKeys(tmpl, "", p.Name, j.ID, j.Index, *j.Request)
			for _, key := range j.OutputKeys {
				if msg := checkKey(key); msg != "" {
					d.errf(mj.Pos, mj.Path, "output %s", msg)
					continue
				}
				if k, dup := keyOwner[key]; dup {
					d.errf(mj.Pos, mj.Path, "output key %q is also written by %s (at %s); change an id or output.key", key, m.Jobs[k].Path, m.Jobs[k].Pos)
				} else {
					keyOwner[key] = i
				}
			}
		}
		if ue := j.Request.UploadEndpoint(); ue != "" {
			f := mj.Params.Get("uploadEndpoint")
			if k, dup := endpointOwner[ue]; dup {
				fieldErr(d, f, "the same uploadEndpoint is used by %s; each job needs its own (or leave it out and let Dubline presign one per output)", m.Jobs[k].Path)
			} else {
				endpointOwner[ue] = i
			}
			if j.Request.NumberResults() > 1 {
				fieldErr(d, f, "cannot be used with numberResults %d: Runware would PUT every result to the same URL", j.Request.NumberResults())
			}
		}
		j.Fingerprint = fingerprint(j)
	}

	if len(d.errs) > 0 {
		return nil, sortDiags(d.errs)
	}
	for i := range jobs {
		p.Total += jobs[i].Estimate
		if len(jobs[i].Tags) == 0 {
			p.ByTag[Untagged] += jobs[i].Estimate
		}
		for _, t := range jobs[i].Tags {
			p.ByTag[t] += jobs[i].Estimate
		}
	}
	p.Jobs = jobs
	p.Warnings = sortDiags(d.warns)
	return p, nil
}

// checkLimits checks input k (0 video, 1 audio) of j against the limits
// table: errors stop the plan, warnings are attached to the job.
func checkLimits(d *diags, j *Job, f pipeline.Field[string], k int) {
	table, kind, in := kling.DefaultLimits.Video, "video", j.Video
	if k == 1 {
		table, kind, in = kling.DefaultLimits.Audio, "audio", j.Audio
	}
	if in.Format != "" && !strings.Contains(in.Tracks, kind) {
		fieldErr(d, f, "%s has no %s track (it holds %s)", in, kind, cmp.Or(in.Tracks, "no audio or video"))
		return
	}
	for _, v := range kling.Check(table, kind, limitMedia(in)) {
		if v.Level == kling.Error {
			fieldErr(d, f, "%s", v.Msg)
			continue
		}
		w := pipeline.Diag{Pos: f.Pos, Path: f.Path, Msg: v.Msg + " (Kling's classic lip-sync range; accepted by the newer one)"}
		j.Warnings = append(j.Warnings, w)
		d.warns = append(d.warns, w)
	}
}

// planJob prices one job whose inputs resolved.
func planJob(d *diags, p *Plan, mj *pipeline.Job, j *Job, opt Options) {
	j.VideoSeconds, j.AudioSeconds = j.Video.Seconds, j.Audio.Seconds
	warn := func(path, format string, args ...any) {
		w := pipeline.Diag{Pos: mj.Pos, Path: path, Msg: fmt.Sprintf(format, args...)}
		j.Warnings = append(j.Warnings, w)
		d.warns = append(d.warns, w)
	}
	if j.Audio.Kind == InputRunware || j.Video.Kind == InputRunware {
		warn(mj.Path, "a Runware media UUID cannot be checked against the input limits before submitting")
	}

	seconds := j.AudioSeconds
	if seconds == 0 {
		if opt.NeedPrice {
			d.errf(mj.Audio.Pos, mj.Audio.Path, "cannot learn the audio duration of %s %s; give audioSeconds", offlineWhy(opt, j.Audio), j.Audio)
		}
		return
	}
	if p.PriceBasis == "max" {
		if j.VideoSeconds == 0 {
			if opt.NeedPrice {
				d.errf(mj.Video.Pos, mj.Video.Path, "priceBasis max needs the video duration of %s %s; give videoSeconds", offlineWhy(opt, j.Video), j.Video)
			}
			return
		}
		if j.VideoSeconds > seconds {
			seconds = j.VideoSeconds
		}
	}
	j.BillableSeconds = kling.BillableSeconds(seconds)
	j.Tier = kling.Tier(j.BillableSeconds)
	j.Estimate = kling.JobPrice(seconds, j.Request.NumberResults())
	if edge, saving, ok := kling.TierSaving(seconds, opt.TierSlack); ok {
		warn(mj.Path, "%.2f s is just over the %d s price tier: costs %s instead of %s; trimming %.2f s saves %s",
			seconds, edge, j.Estimate, kling.PriceFor(edge)*kling.Price(j.Request.NumberResults()),
			seconds-float64(edge), saving*kling.Price(j.Request.NumberResults()))
	}
}

func offlineWhy(opt Options, in Input) string {
	switch {
	case in.Kind == InputRunware:
		return "the Runware media"
	case opt.Offline && in.Kind != InputLocal:
		return "(offline) the remote input"
	}
	return "the input"
}

func inputKey(in Input) string {
	switch in.Kind {
	case InputLocal:
		return "file:" + in.Path
	}
	return in.Raw
}

// fingerprint hashes what determines a job's result: its inputs (with
// their size and version, so a replaced file changes it), its resolved
// request and its output keys. A resumed run redoes a succeeded job only
// when its fingerprint changed (see executor).
func fingerprint(j *Job) string {
	var buf [512]byte
	b := buf[:0]
	for _, in := range []*Input{&j.Video, &j.Audio} {
		b = append(b, in.Kind...)
		b = append(b, 0)
		raw := in.Raw
		if in.Kind == InputHTTP {
			raw = redact.URL(raw) // a re-signed URL is the same input
		}
		b = append(b, raw...)
		b = append(b, 0)
		b = strconv.AppendInt(b, in.Size, 10)
		b = append(b, 0)
		b = append(b, in.Version...)
		b = append(b, 0)
	}
	b = j.Request.AppendCanonical(b)
	for _, k := range j.OutputKeys {
		b = append(b, 0)
		b = append(b, k...)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func dedupeTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// Untagged is the ByTag entry of jobs without tags.
const Untagged = "(untagged)"

// OverBudget reports whether the plan's total exceeds its budget.
func (p *Plan) OverBudget() bool { return p.Budget > 0 && p.Total > p.Budget }
