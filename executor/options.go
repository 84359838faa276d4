package executor

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/planner"
)

// Values of Options.Only.
const (
	OnlyAll     = ""
	OnlyFailed  = "failed"
	OnlyPending = "pending"
	OnlyChanged = "changed"
)

// Options configures Run. API, Sink and Inputs are required.
type Options struct {
	API    API    // the Runware client
	Sink   Sink   // where results go
	Inputs Inputs // planned input -> URL Runware can fetch

	// StateDir holds the journal; "" means <plan.ManifestDir>/.dubline.
	StateDir string
	// Concurrency overrides plan.Concurrency when > 0 (default 4).
	Concurrency int
	// Budget overrides plan.Budget when > 0; 0 and no plan budget: none.
	Budget kling.Price
	// Only is "", "failed", "pending" or "changed" (see the package doc).
	Only string
	// IDs and Tags narrow the selection; empty means all.
	IDs, Tags []string
	// Shard {I, N} keeps the jobs whose id hashes to I mod N; zero: all.
	Shard [2]int
	// Overwrite allows replacing output objects the journal does not own.
	Overwrite bool
	// PresignTTL is the validity of presigned upload URLs (default
	// plan.Output.PresignTTL, else 2 h).
	PresignTTL time.Duration
	// Logger receives progress; default: discard.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// NewUUID makes taskUUIDs (default uuid.NewString, v4).
	NewUUID func() string
	// MaxRegenerate is how many new tasks a job gets after
	// Regenerate-class failures (0: default 2; negative: none).
	MaxRegenerate int
	// Grace is how long in-flight jobs may still record their state after
	// ctx is cancelled (default 10 s).
	Grace time.Duration
	// CopyAttempts and CopyBackoff govern the fallback copy of videoURL
	// (defaults 3 and 2 s, doubling).
	CopyAttempts int
	CopyBackoff  time.Duration
	// DeliveryTimeout bounds the delivery of one job's results (Stat and
	// copies from videoURL); when it passes the job is left undelivered and
	// the next run retries (default max(plan.JobTimeout, 10 min)).
	DeliveryTimeout time.Duration
	// Secrets are strings (e.g. the API key) scrubbed from every message.
	Secrets []string
	// ForgetInflight treats tasks an earlier run left in flight
	// (submitting, accepted, inflight, undelivered) as never submitted:
	// the job gets a new taskUUID, and the journal a "forgotten" record
	// saying so. It is for the in-process sandbox, whose emulator forgets
	// its tasks when the process exits. Only for an API that bills
	// nothing: against Runware it would pay again for tasks that may
	// already be paid for.
	ForgetInflight bool

	journalHook func([]byte) error // tests: inject journal write failures
}

// withDefaults returns opt with defaults filled from the plan.
func (opt Options) withDefaults(plan *planner.Plan) (Options, error) {
	if opt.API == nil || opt.Sink == nil || opt.Inputs == nil {
		return opt, fmt.Errorf("executor: Options.API, Sink and Inputs are required")
	}
	switch opt.Only {
	case OnlyAll, OnlyFailed, OnlyPending, OnlyChanged:
	default:
		return opt, fmt.Errorf("executor: --only %q: want failed, pending or changed", opt.Only)
	}
	if i, n := opt.Shard[0], opt.Shard[1]; (n != 0 || i != 0) && (n < 1 || i < 0 || i >= n) {
		return opt, fmt.Errorf("executor: shard %d/%d: want I/N with 0 <= I < N", i, n)
	}
	if opt.StateDir == "" {
		opt.StateDir = filepath.Join(plan.ManifestDir, ".dubline")
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = plan.Concurrency
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 4
	}
	if opt.Budget <= 0 {
		opt.Budget = plan.Budget
	}
	if opt.PresignTTL <= 0 {
		opt.PresignTTL = plan.Output.PresignTTL
	}
	if opt.PresignTTL <= 0 {
		opt.PresignTTL = 2 * time.Hour
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.NewUUID == nil {
		opt.NewUUID = uuid.NewString
	}
	if opt.MaxRegenerate == 0 {
		opt.MaxRegenerate = 2
	}
	if opt.MaxRegenerate < 0 {
		opt.MaxRegenerate = 0
	}
	if opt.Grace <= 0 {
		opt.Grace = 10 * time.Second
	}
	if opt.CopyAttempts <= 0 {
		opt.CopyAttempts = 3
	}
	if opt.DeliveryTimeout <= 0 {
		opt.DeliveryTimeout = max(plan.JobTimeout, 10*time.Minute)
	}
	if opt.CopyBackoff <= 0 {
		opt.CopyBackoff = 2 * time.Second
	}
	return opt, nil
}
