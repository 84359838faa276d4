package executor

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/dubline/dubline/planner"
	"github.com/dubline/dubline/storage"
)

// Options configures Run. API, Dest, Inputs and StateDir are required;
// everything the plan settles (concurrency, budget, URL lifetimes) is
// taken from the plan.
type Options struct {
	API    API                 // the Runware client
	Dest   storage.Destination // where results go
	Inputs Inputs              // planned input -> URL Runware can fetch

	// StateDir holds the journal.
	StateDir string
	// Selection narrows the run to some of the plan's jobs.
	Selection
	// Overwrite allows replacing output objects the journal does not own.
	Overwrite bool
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
	// Quotes are Runware's dry-run prices by job id (QuoteJobs); a job
	// whose quote is above its estimate reserves and is counted at the
	// quote.
	Quotes Quotes
	// NewWindow opens a new budget window now, recorded in the journal:
	// what earlier runs spent no longer counts against the budget.
	NewWindow bool

	journalHook func([]byte) error // tests: inject journal write failures
}

// withDefaults checks opt and fills the defaults of the executor's own knobs.
func (opt Options) withDefaults(plan *planner.Plan) (Options, error) {
	if opt.API == nil || opt.Dest == nil || opt.Inputs == nil || opt.StateDir == "" {
		return opt, fmt.Errorf("executor: Options.API, Dest, Inputs and StateDir are required")
	}
	if plan.Concurrency < 1 {
		return opt, fmt.Errorf("executor: plan concurrency %d: the planner sets at least 1", plan.Concurrency)
	}
	if plan.BudgetWindow <= 0 {
		return opt, fmt.Errorf("executor: plan budget window %s: the planner sets it", plan.BudgetWindow)
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
	if opt.DeliveryTimeout <= 0 {
		opt.DeliveryTimeout = max(plan.JobTimeout, 10*time.Minute)
	}
	return opt, nil
}
