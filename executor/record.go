package executor

import (
	"time"

	"github.com/dubline/dubline/kling"
)

// Journal events (record.Ev). Each is a state change of a job, except
// evRun (a run started) and evSubmitError (information; the state stays
// submitting). evForgotten (ForgetInflight) makes an in-flight job pending.
const (
	evRun         = "run"
	evPlanned     = "planned"
	evSubmitting  = "submitting"
	evSubmitError = "submit-error"
	evAccepted    = "accepted"
	evSucceeded   = "succeeded"
	evFailed      = "failed"
	evInflight    = "inflight"
	evUndelivered = "undelivered"
	evForgotten   = "forgotten" // ForgetInflight: the task is dropped, the job is pending again
	evWindow      = "window"    // a budget window opens (ledger.go)
)

// Job states as reported (JobReport.State).
const (
	StatePending     = "pending"     // not submitted (yet)
	StateSubmitting  = "submitting"  // the request may have left; re-send with the same taskUUID
	StateAccepted    = "accepted"    // Runware has the task; poll it
	StateInflight    = "inflight"    // poll deadline passed or state unknown; poll it next run
	StateSucceeded   = "succeeded"   // outputs verified in the destination
	StateFailed      = "failed"      // terminal failure of the last task
	StateUndelivered = "undelivered" // generated and billed, output not stored; poll again next run
)

// record is one journal line. It never holds a URL or a key.
type record struct {
	T            time.Time      `json:"t"`
	Ev           string         `json:"ev"`
	Run          string         `json:"run,omitempty"`
	Job          string         `json:"job,omitempty"`
	Task         string         `json:"task,omitempty"`
	FP           string         `json:"fp,omitempty"`
	Est          kling.Price    `json:"est,omitempty"`
	Copy         bool           `json:"copy,omitempty"` // outputs must be copied, a Stat is not proof
	Outputs      []OutputReport `json:"outputs,omitempty"`
	Cost         kling.Price    `json:"cost,omitempty"`
	CostReported bool           `json:"costReported,omitempty"`
	Billed       bool           `json:"billed,omitempty"` // failed: the task may have been billed (Cost, else its estimate)
	Budget       kling.Price    `json:"budget,omitempty"` // window: the budget in force when it opened
	Class        string         `json:"class,omitempty"`
	Code         string         `json:"code,omitempty"`
	Msg          string         `json:"msg,omitempty"`
}

// jobState is what the journal says about one job.
type jobState struct {
	ID           string
	State        string
	FP           string // fingerprint last recorded (planned or submitted)
	DoneFP       string // fingerprint of the submission that succeeded
	submitFP     string
	Est          kling.Price
	Task         string // current/last taskUUID
	Tasks        int    // distinct taskUUIDs over all runs
	Submitted    bool   // a submission was ever journalled
	Copy         bool
	Outputs      []OutputReport
	Cost         kling.Price
	CostReported bool
	Billed       bool // the last task's cost is recorded (succeeded or undelivered)
	Class        string
	Code         string
	Msg          string
	Started      time.Time
	Finished     time.Time
}

// apply folds one record into the state.
func (s *jobState) apply(r record) {
	switch r.Ev {
	case evPlanned:
		if s.State == "" {
			s.State = StatePending
		}
		s.FP, s.Est = r.FP, r.Est
		return
	case evSubmitting:
		if r.Task != s.Task {
			s.Tasks++
		}
		s.Task, s.Submitted, s.Copy, s.submitFP = r.Task, true, r.Copy, r.FP
		if r.FP != "" {
			s.FP = r.FP
		}
		if r.Est != 0 {
			s.Est = r.Est
		}
		s.Started, s.Billed = r.T, false
		s.Class, s.Code, s.Msg = "", "", ""
		s.State = StateSubmitting
	case evSubmitError:
		s.Class, s.Code, s.Msg = r.Class, r.Code, r.Msg
	case evAccepted:
		s.State = StateAccepted
	case evInflight:
		s.State = StateInflight
		s.Class, s.Code, s.Msg = r.Class, r.Code, r.Msg
	case evUndelivered:
		s.State, s.Billed = StateUndelivered, true
		s.Cost, s.CostReported = r.Cost, r.CostReported
		s.Class, s.Code, s.Msg = r.Class, r.Code, r.Msg
	case evSucceeded:
		s.State, s.Billed, s.Finished = StateSucceeded, true, r.T
		s.Outputs, s.Cost, s.CostReported = r.Outputs, r.Cost, r.CostReported
		s.DoneFP = s.submitFP
		s.Class, s.Code, s.Msg = "", "", ""
	case evForgotten:
		s.State, s.Billed = StatePending, false
		s.Class, s.Code, s.Msg = "", "", ""
	case evFailed:
		s.State, s.Finished = StateFailed, r.T
		s.Class, s.Code, s.Msg = r.Class, r.Code, r.Msg
	}
}

// inFlight reports whether the job has a task that must be resumed.
func (s *jobState) inFlight() bool {
	switch s.State {
	case StateSubmitting, StateAccepted, StateInflight, StateUndelivered:
		return true
	}
	return false
}

// lastFP is the fingerprint the journal holds for the job's current state.
func (s *jobState) lastFP() string {
	if s.State == StateSucceeded && s.DoneFP != "" {
		return s.DoneFP
	}
	return s.FP
}
