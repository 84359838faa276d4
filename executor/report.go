package executor

import (
	"time"

	"github.com/dubline/dubline/kling"
)

// StoppedBy, in order of precedence: "internal" when the journal could
// not be written; "interrupt" when ctx was cancelled and "deadline" when
// plan.Deadline passed before every selected job succeeded (state saved,
// run again to resume); "fatal" when a Fatal API error stopped the run
// (FatalError says why); "budget" when the budget did. cmd/dubline maps
// these and the totals to exit codes.

// Report is what a run did (or, from ReadStatus, what the journal says).
type Report struct {
	Run      string
	Started  time.Time
	Finished time.Time
	Jobs     []JobReport // selected jobs, in plan order
	Totals   Totals
	// Window is the budget window: every invocation's spend in it, this
	// one's included (ledger.go). Its Start is zero when none is open.
	Window     Window
	StoppedBy  string // "", "budget", "fatal", "interrupt", "deadline", "internal"
	FatalError string // why a fatal API error or an internal error stopped the run
	Warnings   []string
}

// Done reports whether nothing stopped the run early and every selected
// job succeeded (or was already done).
func (r *Report) Done() bool { return r.StoppedBy == "" && r.Totals.AllSucceeded() }

// OutputReport is one verified output object.
type OutputReport struct {
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
}

// JobReport is one job's outcome.
type JobReport struct {
	ID        string
	State     string // pending, submitting, accepted, inflight, succeeded, failed, undelivered
	TaskUUID  string
	Outputs   []OutputReport
	Estimated kling.Price
	Actual    kling.Price // cost billed in this run (reported cost, else the estimate)
	Billed    bool        // a result was billed in this run; Actual - Estimated is drift
	Attempts  int         // taskUUIDs the job has had, over all runs
	// Error* describe the last failure (also for jobs left in flight).
	ErrorClass   string
	ErrorCode    string
	ErrorMessage string
	Started      time.Time
	Finished     time.Time
	Skipped      bool   // done in an earlier run, outputs verified; cost 0
	Note         string // why a job was treated unexpectedly (e.g. changed but not redone)
}

// Drift is Actual - Estimated for a billed job, else 0.
func (j JobReport) Drift() kling.Price {
	if !j.Billed {
		return 0
	}
	return j.Actual - j.Estimated
}

// Totals sums the jobs.
type Totals struct {
	Jobs      int // selected
	Succeeded int // including Skipped
	Skipped   int
	Failed    int // failed or undelivered
	Pending   int
	InFlight  int // submitting, accepted or inflight: resumed by the next run
	// Money, in units of $0.0001.
	Estimated kling.Price // estimates of the jobs billed in this run
	Spent     kling.Price // actual cost billed in this run
	Drift     kling.Price // Spent - Estimated
	Reserved  kling.Price // estimates held by tasks whose outcome is unknown
	Remaining kling.Price // estimates of pending jobs
	Budget    kling.Price // 0: none
}

// AllSucceeded reports whether every selected job succeeded.
func (t Totals) AllSucceeded() bool { return t.Succeeded == t.Jobs }

// total fills r.Totals from r.Jobs.
func (r *Report) total(budget, reserved kling.Price) {
	t := Totals{Jobs: len(r.Jobs), Budget: budget, Reserved: reserved}
	for _, j := range r.Jobs {
		switch j.State {
		case StateSucceeded:
			t.Succeeded++
			if j.Skipped {
				t.Skipped++
			}
		case StateFailed, StateUndelivered:
			t.Failed++
		case StatePending:
			t.Pending++
			t.Remaining += j.Estimated
		default:
			t.InFlight++
		}
		if j.Billed {
			t.Estimated += j.Estimated
			t.Spent += j.Actual
		}
	}
	t.Drift = t.Spent - t.Estimated
	r.Totals = t
}
