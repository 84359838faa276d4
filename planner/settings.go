package planner

import (
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/pipeline"
)

// Defaults for settings the manifest leaves out.
const (
	DefaultConcurrency = 8
	MaxConcurrency     = 1000
	DefaultJobTimeout  = 30 * time.Minute
	DefaultPresignTTL  = 2 * time.Hour
	DefaultKeyTemplate = "{id}.{ext}"
	// DefaultBudgetWindow makes one night's runs (crash-resumes, retries,
	// reruns) share one budget while the next night, 24 h later, gets a
	// fresh one, with 4 h of slack either way.
	DefaultBudgetWindow = 20 * time.Hour
)

// commandLine positions the values of command-line overrides in messages.
var commandLine = pipeline.Pos{File: "command line"}

// override returns the manifest field f, or the command-line flag's value
// in its place when the flag was given, so both pass the same checks.
func override[T any](f pipeline.Field[T], flag string, v T, given bool) pipeline.Field[T] {
	if !given {
		return f
	}
	return pipeline.Field[T]{V: v, Set: true, Pos: commandLine, Path: flag}
}

// checkSettings checks the manifest-wide sections, with the command-line
// overrides in opt, and fills the plan's settings. now anchors relative
// deadlines.
func checkSettings(d *diags, m *pipeline.Manifest, p *Plan, opt Options, now time.Time) {
	p.Name = RunName(m)
	if !safeID(p.Name) {
		d.errf(m.Name.Pos, "name", "%q cannot name a journal; use letters, digits, '.', '_' and '-'", p.Name)
	}

	p.ProviderURL = m.Provider.URL.Or("")
	if f := m.Provider.URL; f.Set {
		if msg := kling.CheckHTTPURL(f.V); msg != "" {
			fieldErr(d, f, "%s", msg)
		}
	}
	if f := m.Provider.Model; f.Set && f.V != kling.Model {
		fieldErr(d, f, "%q is not supported; allowed: %s (Dubline drives KlingAI Lip-Sync only)", f.V, kling.Model)
	}

	checkOutput(d, m, p)

	conc := override(m.Limits.Concurrency, "--concurrency", opt.Concurrency, opt.Concurrency != 0)
	p.Concurrency = conc.Or(DefaultConcurrency)
	if f := conc; f.Set && (f.V < 1 || f.V > MaxConcurrency) {
		fieldErr(d, f, "%d is out of range 1..%d", f.V, MaxConcurrency)
	}
	if f := override(m.Limits.BudgetUSD, "--budget", opt.Budget, opt.Budget != ""); f.Set {
		b, err := kling.ParseUSD(f.V)
		switch {
		case err != nil:
			fieldErr(d, f, "%v", err)
		case b == 0:
			fieldErr(d, f, "a budget of $0 allows nothing; leave it out for no budget")
		default:
			p.Budget = b
		}
	}
	p.JobTimeout = m.Limits.JobTimeout.Or(DefaultJobTimeout)
	if f := m.Limits.JobTimeout; f.Set && f.V <= 0 {
		fieldErr(d, f, "%s must be positive", f.V)
	}
	if f := m.Limits.Deadline; f.Set {
		t, err := ParseDeadline(f.V, now)
		if err != nil {
			fieldErr(d, f, "%v", err)
		}
		p.Deadline = t
	}
	p.BudgetWindow = m.Limits.BudgetWindow.Or(DefaultBudgetWindow)
	if f := m.Limits.BudgetWindow; f.Set && (f.V < time.Minute || f.V > 31*24*time.Hour) {
		fieldErr(d, f, "%s is out of range 1m..744h", f.V)
	}
	if f := m.Limits.MaxFailures; f.Set {
		t, err := ParseThreshold(f.V)
		if err != nil {
			fieldErr(d, f, "%v", err)
		}
		p.MaxFailures = t
	}
	basis := override(m.Limits.PriceBasis, "--price-on", opt.PriceBasis, opt.PriceBasis != "")
	p.PriceBasis = basis.Or("audio")
	if f := basis; f.Set && f.V != "audio" && f.V != "max" {
		fieldErr(d, f, "%q is not allowed; allowed: audio|max", f.V)
	}
	if p.Output.PresignTTL < p.JobTimeout && p.Output.Kind == "s3" {
		d.warnf(m.Output.PresignTTL.Pos, "output.presignTTL",
			"%s is shorter than the job deadline (%s): an upload URL may expire before Runware delivers; Dubline then copies from videoURL itself",
			p.Output.PresignTTL, p.JobTimeout)
	}
}

// RunName names a manifest's run, journal and report: its `name`, else
// the file name without its extension.
func RunName(m *pipeline.Manifest) string {
	if n := m.Name.Or(""); n != "" {
		return n
	}
	base := filepath.Base(m.File)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

func checkOutput(d *diags, m *pipeline.Manifest, p *Plan) {
	o := &p.Output
	o.Endpoint = m.Output.Endpoint.Or("")
	o.Region = m.Output.Region.Or("")
	o.PathStyle = m.Output.PathStyle.Or(false)
	o.PresignTTL = m.Output.PresignTTL.Or(DefaultPresignTTL)
	if f := m.Output.PresignTTL; f.Set && (f.V < time.Minute || f.V > 7*24*time.Hour) {
		fieldErr(d, f, "%s is out of range 1m..168h (S3 presigned URLs last at most 7 days)", f.V)
	}
	if f := m.Output.Endpoint; f.Set {
		if msg := kling.CheckHTTPURL(f.V); msg != "" {
			fieldErr(d, f, "%s", msg)
		}
	}
	f := m.Output.URL
	if !f.Set || f.V == "" {
		d.errf(pipeline.Pos{File: m.File, Line: 1, Col: 1}, "output.url",
			"is required: s3://bucket/prefix/, file:///abs/dir/ or a directory relative to the manifest")
		return
	}
	u := f.V
	switch {
	case strings.HasPrefix(u, "s3://"):
		bucket, prefix, err := splitS3(u)
		if err != nil {
			fieldErr(d, f, "%v", err)
			return
		}
		o.Kind, o.Bucket, o.Prefix = "s3", bucket, prefix
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			o.Prefix += "/"
		}
	case strings.HasPrefix(u, "file://"):
		pu, err := url.Parse(u)
		if err != nil || pu.Path == "" || !filepath.IsAbs(pu.Path) {
			fieldErr(d, f, "%q must be file:///absolute/dir/", u)
			return
		}
		o.Kind, o.Dir = "dir", filepath.Clean(pu.Path)
	case strings.Contains(u, "://"):
		fieldErr(d, f, "%q: scheme not supported; allowed: s3://, file:// or a local directory", u)
		return
	default:
		dir := u
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(m.Dir, dir)
		}
		o.Kind, o.Dir = "dir", filepath.Clean(dir)
	}
	if s := m.Output.Staging; s.Set {
		if _, _, err := splitS3(s.V); err != nil {
			fieldErr(d, s, "%v", err)
		} else {
			o.Staging = s.V
		}
	} else if o.Kind == "s3" {
		o.Staging = "s3://" + o.Bucket + "/" + o.Prefix + ".dubline-staging/"
	}
}

// splitS3 splits s3://bucket/prefix into bucket and prefix.
func splitS3(u string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// URL", u)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if !validBucket(bucket) {
		return "", "", fmt.Errorf("%q: bucket name %q is not valid (3-63 characters: lower-case letters, digits, '.', '-')", u, bucket)
	}
	return bucket, key, nil
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// ParseDeadline reads limits.deadline: an RFC 3339 time, a wall-clock
// "HH:MM" (the next such time after now, in local time), or a Go duration
// from now ("6h30m").
func ParseDeadline(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("15:04", s, now.Location()); err == nil {
		d := time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, now.Location())
		if !d.After(now) {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	if dur, err := time.ParseDuration(s); err == nil && dur > 0 {
		return now.Add(dur), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a deadline; allowed: an RFC 3339 time (2026-11-26T06:00:00Z), a wall-clock time (06:00) or a duration (6h)", s)
}

// Threshold is limits.maxFailures: a count, or a percentage of the
// selected jobs. The zero Threshold is no limit.
type Threshold struct {
	Set     bool
	Count   int
	Percent float64 // used when > 0
}

// ParseThreshold reads "5" or "10%".
func ParseThreshold(s string) (Threshold, error) {
	txt, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(txt, 64)
	switch {
	case err != nil || v < 0 || math.IsInf(v, 0):
		return Threshold{}, fmt.Errorf("%q is not allowed; allowed: a count of jobs (5) or a percentage of the selected jobs (10%%)", s)
	case pct && v > 100:
		return Threshold{}, fmt.Errorf("%q is over 100%%", s)
	case pct:
		return Threshold{Set: true, Percent: v}, nil
	case v != math.Trunc(v):
		return Threshold{}, fmt.Errorf("%q: a count must be a whole number (or write a percentage, 10%%)", s)
	}
	return Threshold{Set: true, Count: int(v)}, nil
}

// Of is the number of failures allowed among n selected jobs (the
// percentage rounded down), or -1 for no limit.
func (t Threshold) Of(n int) int {
	switch {
	case !t.Set:
		return -1
	case t.Percent > 0:
		return int(math.Floor(t.Percent * float64(n) / 100))
	}
	return t.Count
}

// String is how the threshold reads in messages.
func (t Threshold) String() string {
	if t.Percent > 0 {
		return strconv.FormatFloat(t.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(t.Count)
}
