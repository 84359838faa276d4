// Package pipeline reads a Dubline manifest: YAML decoding with positions
// (through yaml.Node), unknown-key detection, ${ENV} expansion, jobsFrom
// CSV/JSONL import, and merging of defaults into jobs.
//
// It checks shapes and types only (is outputQuality an integer?). Whether
// values are allowed (is 120 a valid outputQuality?) is the planner's job;
// every value therefore carries the position it came from, so the planner
// can report file:line:col.
//
// Choices made where the design is silent:
//   - Every problem is collected and returned at once as Diags, sorted by
//     file (the manifest, then jobsFrom files in order), line and column.
//   - YAML null (or an empty value) leaves a field unset. String fields take
//     any scalar as written (id: 0042 is "0042"); typed fields follow the
//     YAML tag, so a quoted "95" is a string and is rejected as an integer.
//   - ${VAR} expands in string values; a quoted string or CSV cell that holds
//     ${VAR} in a typed field is expanded and then typed like a plain scalar,
//     so concurrency: "${N}" works. ${VAR:-def} uses def when VAR is unset
//     or empty (as the shell does). Inside a YAML flow list, quote values
//     that start with ${: [${A}] is a YAML syntax error.
//   - JSONL lines are decoded by yaml.v3 too (JSON is YAML), so types and
//     messages are the manifest's own. CSV cells are typed like plain YAML
//     scalars and trimmed; positions are line and column number.
//   - Manifests of 1 MiB and more are decoded in chunks of jobs when their
//     shape allows (see chunk.go), so peak memory stays near that of the
//     yaml.Node tree alone; results are identical to a whole-file parse.
package pipeline

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dubline/dubline/kling"
)

// Pos is where a value came from. For YAML, Line and Col are 1-based. For a
// CSV row, Line is the 1-based row number (header = 1) and Col the 1-based
// column; for JSONL, Line is the line number and Col 0.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return "<defaults>"
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// Field is one manifest value: the value, whether the manifest set it, and
// where. Path is the user-facing name, e.g. "jobs[3].outputQuality" or
// "defaults.safety.mode".
type Field[T any] struct {
	V    T
	Set  bool
	Pos  Pos
	Path string
}

// Or returns the value if set, else def.
func (f Field[T]) Or(def T) T {
	if f.Set {
		return f.V
	}
	return def
}

// Diag is one problem (or warning) found in a manifest:
// "file:line:col: path: message".
type Diag struct {
	Pos  Pos
	Path string
	Msg  string
}

func (d Diag) String() string {
	var b strings.Builder
	b.WriteString(d.Pos.String())
	b.WriteString(": ")
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	b.WriteString(d.Msg)
	return b.String()
}

// Diags is a list of problems; as an error it prints one per line.
type Diags []Diag

// Sorted returns the problems ordered by file, line and column, without
// exact repeats (a bad value in defaults is reported once, not once per
// job that inherits it).
func (ds Diags) Sorted() Diags {
	out := slices.Clone(ds)
	slices.SortStableFunc(out, func(a, b Diag) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	seen := make(map[Diag]bool, len(out))
	n := 0
	for _, d := range out {
		if !seen[d] {
			seen[d] = true
			out[n] = d
			n++
		}
	}
	return out[:n]
}

func (ds Diags) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Params are the Runware request parameters a manifest may set in
// `defaults` and override per job. Names are the seed page's names.
type Params [kling.NParams]Field[kling.Value]

// Get returns the field of the parameter named name (kling.Params).
func (p *Params) Get(name string) Field[kling.Value] { return p[kling.Lookup(name)] }

// Provider is the `provider` section.
type Provider struct {
	URL   Field[string]
	Model Field[string]
}

// Output is the `output` section.
type Output struct {
	URL        Field[string] // s3://bucket/prefix/, file:///abs/dir/, or a path relative to the manifest
	Key        Field[string] // key template, default "{id}.{ext}"
	Endpoint   Field[string] // S3-compatible endpoint
	Region     Field[string]
	PathStyle  Field[bool]
	PresignTTL Field[time.Duration]
	Staging    Field[string] // s3://bucket/prefix/ for local inputs; default: <output url>/.dubline-staging/
}

// Limits is the `limits` section.
type Limits struct {
	Concurrency Field[int]
	BudgetUSD   Field[string]        // the decimal text as written; parsed exactly by the planner
	Deadline    Field[string]        // RFC 3339 time, "HH:MM" wall-clock time, or a Go duration
	JobTimeout  Field[time.Duration] // per-job poll deadline
	PriceBasis  Field[string]        // "audio" (default) or "max": price on max(audio, video) seconds
	// BudgetWindow is how long one budget lasts (planner.DefaultBudgetWindow).
	BudgetWindow Field[time.Duration]
	// MaxFailures is a count ("5") or a percentage of the selected jobs ("10%").
	MaxFailures Field[string]
}

// Job is one video+audio pair after defaults were merged in. Index is its
// place in the expanded job list (manifest jobs first, then each jobsFrom
// file in order); Path is "jobs[3]" for manifest jobs and "jobsFrom[k][i]"
// for the i-th (0-based) data row of the k-th jobsFrom file. Fields never
// set (neither by the job nor by defaults) still carry a Path and the
// job's Pos, so "required" messages can name them.
type Job struct {
	Index        int
	Path         string
	Pos          Pos
	Dir          string // directory relative local input paths resolve against (the manifest's, or the jobsFrom file's)
	ID           Field[string]
	Video        Field[string]
	Audio        Field[string]
	AudioSeconds Field[float64] // optional; otherwise probed
	VideoSeconds Field[float64] // optional; otherwise probed when needed
	Tags         Field[[]string]
	Params       Params
}

// Manifest is a decoded manifest. File is the path as given; Dir the
// directory relative paths (local inputs, jobsFrom, output) resolve against.
type Manifest struct {
	File     string
	Dir      string
	Version  Field[int]
	Name     Field[string]
	Provider Provider
	Output   Output
	Limits   Limits
	Defaults Params
	Jobs     []Job
}
