package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/planner"
)

// Shutdown. On cancellation no new submission starts (the stop is checked
// again right before "submitting" is journalled, after the inputs were
// resolved and staged, which can take long; a job stopped there stays
// pending, a journalled re-send stays submitting); jobs already in flight
// keep their context for Options.Grace (default 10 s) to record their
// state, then are cancelled. The journal is consistent at every fsync.

// Reasons a run stopped early (Report.StoppedBy).
const (
	StopBudget    = "budget"
	StopFatal     = "fatal"
	StopInterrupt = "interrupt"
	StopDeadline  = "deadline"
	StopInternal  = "internal"
	StopFailures  = "failures" // more jobs failed than plan.MaxFailures allows
)

// Run executes the selected jobs of plan and reports what happened. It
// returns an error only when it could not start (bad options, unknown ids,
// journal unreadable or locked); everything after that is in the Report:
// why it stopped early, if it did, and every job's outcome.
func Run(ctx context.Context, plan *planner.Plan, opt Options) (*Report, error) {
	if plan == nil {
		return nil, errors.New("executor: nil plan")
	}
	opt, err := opt.withDefaults(plan)
	if err != nil {
		return nil, err
	}
	jobs, err := opt.Selection.Jobs(plan)
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	j, data, err := openJournal(JournalPath(opt.StateDir, plan.Name), opt.journalHook)
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	r := &runner{
		plan: plan, opt: opt, log: opt.Logger, j: j,
		scrub: scrubber{secrets: opt.Secrets},
		money: &data.money,
	}
	r.report.Warnings = data.warnings
	for _, w := range data.warnings {
		r.log.Warn("journal torn tail ignored", "warning", w)
	}
	r.decideAll(jobs, data)
	teach(opt.API, data)
	r.win, r.winCount = startWindow(data, r.forgotten, opt, plan)
	r.bud = &budget{limit: plan.Budget, spent: r.win.Spent, reserved: r.win.Reserved}
	r.maxFailures = plan.MaxFailures.Of(len(r.works))
	r.run(ctx)
	if err := j.close(); err != nil && r.report.StoppedBy != StopInternal {
		r.stop(StopInternal, fmt.Sprintf("close journal: %v", err))
	}
	r.finishReport(ctx)
	return &r.report, nil
}

// runner is the state of one Run.
type runner struct {
	plan   *planner.Plan
	opt    Options
	log    *slog.Logger
	scrub  scrubber
	j      *journal
	bud    *budget
	money  *ledger // what the journal said when the run started
	works  []*work
	report Report

	forgotten []record // ForgetInflight: journalled before any job starts

	deadlineHit bool

	winMu    sync.Mutex
	win      Window // the budget window (opened by the run's first submission when none is)
	winCount int    // window records in the journal

	failures    atomic.Int64 // jobs this run ended failed or undelivered
	maxFailures int          // plan.MaxFailures of the selected jobs; -1: no limit

	stopMu  sync.Mutex
	stopBy  string
	stopMsg string
}

// work is one selected job in this run.
type work struct {
	job      *planner.Job
	est      kling.Price // what a task of the job reserves: the estimate, or Runware's quote when larger
	js       *jobState   // nil: unknown to the journal
	act      action
	rep      JobReport
	reserved kling.Price // budget held by this job
	known    bool        // the journal saw it submitted: outputs at its keys are ours
	held     bool        // reserved stays counted: the current task may have been billed, cost unknown
	billed   bool        // its current task's cost is already recorded (resumed undelivered)
	outside  bool        // its current task was submitted in an earlier budget window and counts there
	copy     bool        // outputs must be copied from videoURL, a Stat is no proof
}

// decideAll decides the action for every selected job.
func (r *runner) decideAll(jobs []*planner.Job, data *journalData) {
	r.works, r.forgotten = selectWork(jobs, data, r.opt)
}

// startWindow is the budget window a run (or its forecast) starts in: the
// one open now, or none (NewWindow, or the last one ended). Tasks the
// sandbox forgets (selectWork's forgotten records) are folded in first:
// they bill nothing.
func startWindow(data *journalData, forgotten []record, opt Options, plan *planner.Plan) (Window, int) {
	for _, f := range forgotten {
		data.money.add(f)
	}
	if opt.NewWindow {
		return Window{}, len(data.money.windows)
	}
	return data.money.window(opt.Now(), plan.BudgetWindow), len(data.money.windows)
}

// selectWork decides what a run does with each selected job, given the
// journal: the one decision both Run and Forecast use.
func selectWork(jobs []*planner.Job, data *journalData, opt Options) (works []*work, forgotten []record) {
	for _, job := range jobs {
		js := data.states[job.ID]
		var forgot *record
		if js != nil && opt.ForgetInflight && js.inFlight() {
			forgot = &record{Ev: evForgotten, Job: job.ID, Task: js.Task,
				Msg: "ForgetInflight: task " + js.State + " in an earlier process is treated as never submitted"}
			cp := *js
			cp.apply(*forgot)
			js = &cp
		}
		act, ok, note := decide(job, js, opt.Only, opt.Selection.redo(job.ID))
		if !ok {
			continue
		}
		if forgot != nil {
			forgotten = append(forgotten, *forgot)
			note = joinNote(note, "earlier task "+forgot.Task+" forgotten (ForgetInflight); submitted anew")
		}
		w := &work{job: job, js: js, act: act, est: max(job.Estimate, opt.Quotes[job.ID])}
		w.rep = JobReport{ID: job.ID, State: StatePending, Estimated: w.est, Note: note}
		if js != nil {
			w.known = js.Submitted
			w.rep.TaskUUID, w.rep.Attempts = js.Task, js.Tasks
			if js.inFlight() {
				w.rep.State = js.State
				w.rep.ErrorClass, w.rep.ErrorCode, w.rep.ErrorMessage = js.Class, js.Code, js.Msg
			}
		}
		works = append(works, w)
	}
	return works, forgotten
}

// run journals the plan, then dispatches jobs (in-flight ones first) on a
// bounded errgroup. A job never returns an error to the group: one job's
// failure must not cancel the others.
func (r *runner) run(ctx context.Context) {
	r.report.Run, r.report.Started = r.plan.Name, r.opt.Now()
	runCtx := ctx
	if !r.plan.Deadline.IsZero() {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, r.plan.Deadline)
		defer cancel()
	}
	// In-flight jobs outlive a cancellation by the grace period, so they
	// can record their state; no new submission starts after it.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	stopGrace := context.AfterFunc(runCtx, func() { time.AfterFunc(r.opt.Grace, cancelJobs) })
	defer stopGrace()

	if !r.record(nil, r.plannedRecords()...) {
		return
	}
	if r.opt.NewWindow && !r.ensureWindow(r.opt.Now(), "opened by --new-window") {
		return
	}
	g := new(errgroup.Group)
	g.SetLimit(r.plan.Concurrency)
	for _, pass := range []bool{true, false} {
		for _, w := range r.works {
			if (w.act == actResume) != pass {
				continue
			}
			if r.stopped(runCtx) && !(pass && r.mayResume(runCtx)) {
				break
			}
			g.Go(func() error {
				r.runJob(runCtx, jobCtx, w)
				return nil
			})
		}
	}
	_ = g.Wait()
	r.deadlineHit = ctx.Err() == nil && runCtx.Err() != nil
	r.report.Finished = r.opt.Now()
}

// plannedRecords announces jobs the journal does not know yet, or whose
// fingerprint changed while they were still unsubmitted.
func (r *runner) plannedRecords() []record {
	recs := []record{{T: r.opt.Now(), Ev: evRun, Run: r.plan.Name, Budget: r.plan.Budget}}
	for _, f := range r.forgotten {
		f.T = r.opt.Now()
		recs = append(recs, f)
	}
	for _, w := range r.works {
		if w.js == nil || (w.js.State == StatePending && w.js.FP != w.job.Fingerprint) {
			recs = append(recs, record{T: r.opt.Now(), Ev: evPlanned, Job: w.job.ID, FP: w.job.Fingerprint, Est: w.est})
		}
	}
	return recs
}

// ensureWindow makes sure a budget window is open at now before a
// submission, journalling a new one when none is (or, with a reason, in
// any case). The record is durable before ensureWindow returns, and other
// submissions wait for it, so every submitting record after it in the
// journal is in the window (ledger.go). false: the journal failed. The
// budget is not reset when a window ends during a run: conservative.
func (r *runner) ensureWindow(now time.Time, why string) bool {
	r.winMu.Lock()
	defer r.winMu.Unlock()
	if r.win.Open(now) && why == "" {
		return true
	}
	if !r.record(nil, record{T: now, Ev: evWindow, Budget: r.plan.Budget, Msg: why}) {
		return false
	}
	r.winCount++
	r.win = Window{Start: now, End: now.Add(r.plan.BudgetWindow), index: r.winCount}
	return true
}

// windowName says which budget window the run counts against.
func (r *runner) windowName() string {
	r.winMu.Lock()
	defer r.winMu.Unlock()
	if r.win.Start.IsZero() {
		return "a new budget window"
	}
	return "the budget window opened " + r.win.Start.Format(time.RFC3339) + " (until " + r.win.End.Format(time.RFC3339) + ")"
}

// stop records the first reason the run stops starting new work.
func (r *runner) stop(reason, msg string) {
	r.stopMu.Lock()
	defer r.stopMu.Unlock()
	if r.stopBy == "" || reason == StopInternal && r.stopBy != StopInternal {
		r.stopBy, r.stopMsg = reason, msg
		r.log.Warn("run stopping", "reason", reason, "err", msg)
	}
}

func (r *runner) stopReason() (string, string) {
	r.stopMu.Lock()
	defer r.stopMu.Unlock()
	return r.stopBy, r.stopMsg
}

// stopped reports whether new submissions must not start.
func (r *runner) stopped(runCtx context.Context) bool {
	by, _ := r.stopReason()
	return by != "" || runCtx.Err() != nil
}

// maySubmit reports whether w may submit a new task: nothing stopped the
// run, or only the budget did and w holds its reservation (it fits).
func (r *runner) maySubmit(runCtx context.Context, w *work) bool {
	by, _ := r.stopReason()
	return runCtx.Err() == nil && (by == "" || by == StopBudget && w.reserved > 0)
}

// mayResume reports whether journalled in-flight tasks may still be
// resumed: a budget stop does not prevent it (they were committed by an
// earlier run), nor does the failure threshold; an interrupt, a fatal error or a journal failure does.
func (r *runner) mayResume(runCtx context.Context) bool {
	by, _ := r.stopReason()
	return runCtx.Err() == nil && (by == "" || by == StopBudget || by == StopFailures)
}

// finishReport collects job reports, totals and why the run stopped.
func (r *runner) finishReport(ctx context.Context) {
	for _, w := range r.works {
		r.report.Jobs = append(r.report.Jobs, w.rep)
	}
	spent, reserved := r.bud.snapshot()
	r.report.total(r.plan.Budget, reserved)
	r.winMu.Lock()
	r.report.Window = r.win
	r.winMu.Unlock()
	r.report.Window.Spent, r.report.Window.Reserved = spent, reserved
	by, msg := r.stopReason()
	allDone := r.report.Totals.AllSucceeded()
	switch {
	case by == StopInternal:
	case ctx.Err() != nil && !allDone:
		by, msg = StopInterrupt, ""
	case r.deadlineHit && !allDone:
		by, msg = StopDeadline, "plan deadline "+r.plan.Deadline.Format(time.RFC3339)+" reached"
	}
	r.report.StoppedBy, r.report.FatalError = by, msg
}

// Learner is an API whose poll schedule can learn render times from
// earlier runs (*runware.Client).
type Learner interface {
	Learn(renderTimes []time.Duration)
}

// teach gives the API the time from submission to success of the jobs
// the journal saw succeed (the latest 64: render times drift): the poll
// schedule then starts trained. They include delivery, so they are upper
// bounds.
func teach(api API, data *journalData) {
	l, ok := api.(Learner)
	if !ok {
		return
	}
	var d []time.Duration
	for i := len(data.order) - 1; i >= 0 && len(d) < 64; i-- {
		s := data.states[data.order[i]]
		if s.State == StateSucceeded && !s.Started.IsZero() && s.Finished.After(s.Started) {
			d = append(d, s.Finished.Sub(s.Started))
		}
	}
	if len(d) > 0 {
		l.Learn(d)
	}
}
