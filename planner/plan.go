// Package planner turns a decoded manifest into an immutable Plan: every
// value checked against the model's page, every input found and probed,
// every job priced, the budget checked. It reports all problems at once.
package planner

import (
	"time"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/pipeline"
)

// InputKind says where an input lives.
type InputKind string

const (
	InputLocal   InputKind = "local"   // a file on this machine (Path)
	InputS3      InputKind = "s3"      // s3://bucket/key
	InputHTTP    InputKind = "http"    // http:// or https:// URL, passed through to Runware
	InputRunware InputKind = "runware" // a Runware media UUID, passed through
)

// Input is one resolved job input.
type Input struct {
	Raw     string    // as written in the manifest (after ${ENV} expansion)
	Kind    InputKind //
	Path    string    // absolute path, for InputLocal
	Bucket  string    // for InputS3
	Key     string    // for InputS3
	URL     string    // for InputHTTP; the UUID for InputRunware
	Size    int64     // bytes; 0 if unknown (offline, UUID)
	Seconds float64   // probed duration; 0 if not probed
	Width   int       // video only; 0 if unknown
	Height  int       // video only; 0 if unknown
	Format  string    // probed container, e.g. "mp4", "wav"; "" if not probed
	Tracks  string    // probed tracks: "video", "audio", "video+audio"; "" if not probed
	Version string    // what changes when the content does: mtime (local), ETag (S3, HTTP); "" if unknown
}

// Job is one planned job. It is immutable once the Plan is built.
type Job struct {
	Index           int
	ID              string
	Pos             pipeline.Pos
	Video           Input
	Audio           Input
	Tags            []string
	Request         *kling.Request // the resolved Runware parameters; jobs with equal requests share one
	AudioSeconds    float64        // given (audioSeconds) or probed
	VideoSeconds    float64        // given, probed or 0 when unknown
	BillableSeconds int            // ceil of the priced seconds
	Tier            string         // kling.Tier(BillableSeconds)
	Estimate        kling.Price    // price of the whole job (all results)
	OutputKeys      []string       // one object key (relative to Output.URL) per result
	Fingerprint     string         // hex sha256 of inputs and request parameters
	Warnings        []pipeline.Diag
}

// Output is the resolved destination of results.
type Output struct {
	Kind       string // "s3" or "dir"
	Bucket     string // s3
	Prefix     string // s3: key prefix, ends with "/" or is empty
	Dir        string // dir: absolute directory
	Endpoint   string
	Region     string
	PathStyle  bool
	PresignTTL time.Duration
	Staging    string // s3://bucket/prefix/ for local inputs ("" when output is a dir and inputs need no staging)
}

// Plan is the whole run, ready for the executor.
type Plan struct {
	Manifest    string // manifest path as given
	ManifestDir string
	Name        string // run name (manifest `name`, else the file name without extension)
	ProviderURL string
	Output      Output
	Concurrency int
	Budget      kling.Price // 0: no budget
	Deadline    time.Time   // zero: none
	JobTimeout  time.Duration
	PriceBasis  string // "audio" or "max"
	// BudgetWindow is how long one budget lasts (see executor's ledger).
	BudgetWindow time.Duration
	MaxFailures  Threshold // limits.maxFailures
	Jobs         []Job
	Total        kling.Price
	ByTag        map[string]kling.Price
	Warnings     []pipeline.Diag // plan-wide and per-job warnings, in job order
}
