package executor

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/dubline/dubline/kling"
)

// The JSON report (contract for scripts): money in US dollars as numbers
// (exact to $0.0001), times in RFC 3339.
type wireReport struct {
	Run        string      `json:"run"`
	Started    *time.Time  `json:"started,omitempty"`
	Finished   *time.Time  `json:"finished,omitempty"`
	ExitCode   *int        `json:"exitCode,omitempty"` // absent in status, which runs nothing
	StoppedBy  string      `json:"stoppedBy,omitempty"`
	FatalError string      `json:"fatalError,omitempty"`
	Warnings   []string    `json:"warnings,omitempty"`
	Totals     wireTotals  `json:"totals"`
	Window     *wireWindow `json:"budgetWindow,omitempty"`
	Jobs       []wireJob   `json:"jobs"`
}

type wireTotals struct {
	Jobs         int      `json:"jobs"`
	Succeeded    int      `json:"succeeded"`
	Skipped      int      `json:"skipped"`
	Failed       int      `json:"failed"`
	Pending      int      `json:"pending"`
	InFlight     int      `json:"inFlight"`
	EstimatedUSD float64  `json:"estimatedUSD"`
	SpentUSD     float64  `json:"spentUSD"`
	DriftUSD     float64  `json:"driftUSD"`
	ReservedUSD  float64  `json:"reservedUSD"`
	RemainingUSD float64  `json:"remainingUSD"`
	BudgetUSD    *float64 `json:"budgetUSD"` // null: no budget
}

// wireWindow is the budget window: what every invocation of the run name
// spent and holds in it.
type wireWindow struct {
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	SpentUSD    float64   `json:"spentUSD"`
	ReservedUSD float64   `json:"reservedUSD"`
}

type wireJob struct {
	ID           string         `json:"id"`
	State        string         `json:"state"`
	Skipped      bool           `json:"skipped,omitempty"`
	TaskUUID     string         `json:"taskUUID,omitempty"`
	Attempts     int            `json:"attempts"`
	Outputs      []OutputReport `json:"outputs,omitempty"`
	EstimatedUSD float64        `json:"estimatedUSD"`
	ActualUSD    *float64       `json:"actualUSD,omitempty"` // present when billed in this run
	DriftUSD     *float64       `json:"driftUSD,omitempty"`
	Error        *wireError     `json:"error,omitempty"`
	Note         string         `json:"note,omitempty"`
	Started      *time.Time     `json:"started,omitempty"`
	Finished     *time.Time     `json:"finished,omitempty"`
}

type wireError struct {
	Class   string `json:"class"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

func usdPtr(p kling.Price) *float64 { v := p.USD(); return &v }

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// WriteJSON writes the report as indented JSON with the run's exit code
// (the caller's mapping of the outcome); a negative exitCode is left out.
func (r *Report) WriteJSON(w io.Writer, exitCode int) error {
	t := r.Totals
	out := wireReport{
		Run: r.Run, Started: timePtr(r.Started), Finished: timePtr(r.Finished),
		StoppedBy: r.StoppedBy, FatalError: r.FatalError, Warnings: r.Warnings,
		Totals: wireTotals{
			Jobs: t.Jobs, Succeeded: t.Succeeded, Skipped: t.Skipped, Failed: t.Failed, Pending: t.Pending, InFlight: t.InFlight,
			EstimatedUSD: t.Estimated.USD(), SpentUSD: t.Spent.USD(), DriftUSD: t.Drift.USD(),
			ReservedUSD: t.Reserved.USD(), RemainingUSD: t.Remaining.USD(),
		},
		Jobs: make([]wireJob, 0, len(r.Jobs)),
	}
	if t.Budget > 0 {
		out.Totals.BudgetUSD = usdPtr(t.Budget)
	}
	if w := r.Window; !w.Start.IsZero() {
		out.Window = &wireWindow{Start: w.Start, End: w.End, SpentUSD: w.Spent.USD(), ReservedUSD: w.Reserved.USD()}
	}
	if exitCode >= 0 {
		out.ExitCode = &exitCode
	}
	for _, j := range r.Jobs {
		wj := wireJob{
			ID: j.ID, State: j.State, Skipped: j.Skipped, TaskUUID: j.TaskUUID, Attempts: j.Attempts,
			Outputs: j.Outputs, EstimatedUSD: j.Estimated.USD(), Note: j.Note,
			Started: timePtr(j.Started), Finished: timePtr(j.Finished),
		}
		if j.Billed {
			wj.ActualUSD, wj.DriftUSD = usdPtr(j.Actual), usdPtr(j.Drift())
		}
		if j.ErrorClass != "" || j.ErrorMessage != "" {
			wj.Error = &wireError{Class: j.ErrorClass, Code: j.ErrorCode, Message: j.ErrorMessage}
		}
		out.Jobs = append(out.Jobs, wj)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteSummary writes a short human summary: counts by state, money,
// why the run stopped, and every job that did not succeed with its reason.
func (r *Report) WriteSummary(w io.Writer) {
	t := r.Totals
	fmt.Fprintf(w, "run %q: %d job(s): %d succeeded (%d already done), %d failed, %d in flight, %d pending\n",
		r.Run, t.Jobs, t.Succeeded, t.Skipped, t.Failed, t.InFlight, t.Pending)
	budget := "none"
	if t.Budget > 0 {
		budget = t.Budget.String()
	}
	fmt.Fprintf(w, "money: this run estimated %s, spent %s (drift %s); pending %s\n",
		t.Estimated, t.Spent, signed(t.Drift), t.Remaining)
	if win := r.Window; !win.Start.IsZero() {
		fmt.Fprintf(w, "budget window %s to %s: spent %s, reserved %s (in flight), budget %s\n",
			win.Start.Format(time.RFC3339), win.End.Format(time.RFC3339), win.Spent, win.Reserved, budget)
	} else {
		fmt.Fprintf(w, "budget window: none open (the next submission opens one), budget %s\n", budget)
	}
	if r.StoppedBy != "" {
		fmt.Fprintf(w, "stopped by %s", r.StoppedBy)
		if r.FatalError != "" {
			fmt.Fprintf(w, ": %s", r.FatalError)
		}
		fmt.Fprintln(w)
	}
	for _, j := range r.Jobs {
		if d := j.Drift(); d != 0 {
			fmt.Fprintf(w, "  drift %-20s estimated %s, billed %s (%s)\n", j.ID, j.Estimated, j.Actual, signed(d))
		}
	}
	for _, j := range r.Jobs {
		if j.State == StateSucceeded || j.State == StatePending {
			continue
		}
		fmt.Fprintf(w, "  %-12s %-20s", j.State, j.ID)
		if j.ErrorClass != "" {
			fmt.Fprintf(w, " %s", j.ErrorClass)
		}
		if j.ErrorCode != "" {
			fmt.Fprintf(w, " %s", j.ErrorCode)
		}
		if j.ErrorMessage != "" {
			fmt.Fprintf(w, ": %s", j.ErrorMessage)
		}
		fmt.Fprintln(w)
	}
	for _, j := range r.Jobs {
		if j.Note != "" {
			fmt.Fprintf(w, "  note %-20s %s\n", j.ID, j.Note)
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

func signed(p kling.Price) string {
	if p > 0 {
		return "+" + p.String()
	}
	return p.String()
}

// ReadStatus reports what the journal of runName in stateDir says, without
// changing it (a torn tail is reported, not truncated). Every job the
// journal knows is listed, in order of first appearance; Billed/Actual are
// the last recorded costs; Window is the budget window open now (window
// is its length, plan.BudgetWindow).
func ReadStatus(stateDir, runName string, window time.Duration) (*Report, error) {
	d, err := readJournal(JournalPath(stateDir, runName))
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	rep := &Report{Run: runName, Warnings: d.warnings, Window: d.money.window(time.Now(), window)}
	for _, id := range d.order {
		s := d.states[id]
		state := s.State
		if state == "" {
			state = StatePending
		}
		rep.Jobs = append(rep.Jobs, JobReport{
			ID: id, State: state, TaskUUID: s.Task, Outputs: s.Outputs,
			Estimated: s.Est, Actual: s.Cost, Billed: s.Billed, Attempts: s.Tasks,
			ErrorClass: s.Class, ErrorCode: s.Code, ErrorMessage: s.Msg,
			Started: s.Started, Finished: s.Finished,
		})
	}
	rep.total(0, 0)
	for _, j := range rep.Jobs {
		if j.State != StateSucceeded && j.State != StateFailed && j.State != StatePending && j.State != StateUndelivered {
			rep.Totals.Reserved += j.Estimated
		}
	}
	return rep, nil
}
