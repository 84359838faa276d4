package executor

import (
	"context"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/planner"
)

// Forecast is what the next run will do: the plan seen through the
// journal and the selection, priced only where it will submit. Run makes
// the same decisions (selectWork, decide), so `dubline plan` and
// `run --dry-run` show exactly what `run` then submits, budget allowing.
type Forecast struct {
	Plan   *planner.Plan
	Jobs   []ForecastJob // selected jobs, in the order the run takes them
	Window Window        // the budget window in force now (zero: the run opens one)
	// Left is what the budget still allows in the window (0 with no budget).
	Left kling.Price
	// Checked says whether the outputs of succeeded jobs were looked at.
	Checked bool
}

// ForecastJob is one selected job and what the run will do with it.
type ForecastJob struct {
	Job    *planner.Job
	Est    kling.Price // what a task reserves: the estimate, or the quote when larger
	Quote  kling.Price // Runware's dry-run price (0: not quoted)
	Action string      // one of the Action* constants
	Note   string
	// Fits: a job to submit fits in what the budget leaves, in the run's
	// order (the run stops at the first one that does not).
	Fits bool
}

// What a run does with a job (ForecastJob.Action).
const (
	ActionSubmit     = "submit"        // never submitted
	ActionRetry      = "retry"         // its last task failed: a new task
	ActionRedo       = "redo"          // succeeded, redone: output missing, changed (--only changed) or --redo
	ActionResume     = "resume"        // in flight: polled or re-sent with its taskUUID, already counted
	ActionSkip       = "skip"          // succeeded, up to date
	ActionChanged    = "changed"       // succeeded, inputs or parameters changed since; not redone (use --only changed)
	ActionUnverified = "check-failed"  // the destination could not be checked; the run reports the job failed
	ActionBlocked    = "output-exists" // to submit, but objects Dubline did not write are at its keys (--overwrite); the run fails it
)

// Submits reports whether the action sends a new task (and costs money).
func (j ForecastJob) Submits() bool {
	switch j.Action {
	case ActionSubmit, ActionRetry, ActionRedo:
		return true
	}
	return false
}

// Forecast reads the journal (without locking it: a run may hold it) and
// decides every selected job as Run would. With opt.Dest set, the outputs
// of succeeded jobs are checked as Run checks them; without, they are
// taken as up to date. API and Inputs are not used.
func ForecastRun(ctx context.Context, plan *planner.Plan, opt Options) (*Forecast, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.StateDir == "" {
		return nil, fmt.Errorf("executor: Options.StateDir is required")
	}
	jobs, err := opt.Selection.Jobs(plan)
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	data, err := readJournal(JournalPath(opt.StateDir, plan.Name))
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	works, forgotten := selectWork(jobs, data, opt)
	f := &Forecast{Plan: plan, Checked: opt.Dest != nil}
	f.Window, _ = startWindow(data, forgotten, opt, plan)
	// The run dispatches in-flight jobs first, then the rest in plan order.
	sort.SliceStable(works, func(a, b int) bool { return works[a].act == actResume && works[b].act != actResume })
	f.Jobs = make([]ForecastJob, len(works))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(plan.Concurrency, 8))
	for i, w := range works {
		f.Jobs[i] = ForecastJob{Job: w.job, Est: w.est, Quote: opt.Quotes[w.job.ID], Note: w.rep.Note}
		fj := &f.Jobs[i]
		fj.Action = freshAction(w)
		switch {
		case fj.Action == ActionResume:
		case fj.Action != "" && opt.Dest != nil && !w.known && !opt.Overwrite:
			// As fresh(): objects at the keys of a job the journal never
			// saw submitted are not ours, and block it.
			g.Go(func() error {
				existing, err := existingOutputs(gctx, opt.Dest, w.job)
				switch {
				case gctx.Err() != nil:
					return gctx.Err()
				case err != nil:
					fj.Action, fj.Note = ActionUnverified, "could not check the destination: "+err.Error()
				case blocksSubmit(existing, w.known, opt.Overwrite):
					fj.Action, fj.Note = ActionBlocked, fmt.Sprintf("output %q already exists; use --overwrite to replace it", existing[0])
				}
				return nil
			})
		case fj.Action != "":
		case opt.Dest == nil:
			fj.Action = verifiedAction(w)
		default: // as runJob's actVerify
			g.Go(func() error {
				_, ok, err := verifyOutputs(gctx, opt.Dest, w.job)
				switch {
				case gctx.Err() != nil:
					return gctx.Err()
				case err != nil:
					fj.Action, fj.Note = ActionUnverified, "could not check the outputs: "+err.Error()
				case ok:
					fj.Action = verifiedAction(w)
				default:
					fj.Action, fj.Note = ActionRedo, joinNote(w.rep.Note, "output missing from the destination; redone")
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	f.fit(works, data)
	return f, nil
}

// freshAction is the action of a job that does not need its outputs
// checked first: resumed or submitted ("" for a succeeded job to verify).
func freshAction(w *work) string {
	switch {
	case w.act == actResume:
		return ActionResume
	case w.act != actFresh:
		return ""
	case w.js != nil && w.js.State == StateSucceeded:
		return ActionRedo
	case w.js != nil && w.js.State == StateFailed:
		return ActionRetry
	}
	return ActionSubmit
}

// verifiedAction is the action for a succeeded job whose outputs are there.
func verifiedAction(w *work) string {
	if w.js != nil && w.js.lastFP() != "" && w.js.lastFP() != w.job.Fingerprint {
		return ActionChanged
	}
	return ActionSkip
}

// fit marks the jobs to submit that the budget allows, as the run
// reserves (resume): in-flight tasks from before any window count first,
// then each submission its estimate, and the run stops at the first that
// does not fit.
func (f *Forecast) fit(works []*work, data *journalData) {
	budget := f.Plan.Budget
	used := f.Window.Spent + f.Window.Reserved
	for i, w := range works {
		if f.Jobs[i].Action != ActionResume || w.js.Billed {
			continue
		}
		_, counted := data.money.inWindow(w.js.Task, f.Window)
		if !counted && !data.money.countsElsewhere(w.js.Task, f.Window) {
			used += w.est
		}
	}
	if budget > 0 {
		f.Left = max(budget-used, 0)
	}
	stopped := false
	for i := range f.Jobs {
		fj := &f.Jobs[i]
		if !fj.Submits() {
			continue
		}
		if budget > 0 && (stopped || used+fj.Est > budget) {
			stopped = true
			continue
		}
		used += fj.Est
		fj.Fits = true
	}
}

// Totals of a forecast.
type ForecastTotals struct {
	ToRun, Fitting     int         // jobs to submit; those the budget allows
	ToRunCost, FitCost kling.Price // their estimates
	Counts             map[string]int
}

// Totals counts jobs by action and prices what will be submitted.
func (f *Forecast) Totals() ForecastTotals {
	t := ForecastTotals{Counts: map[string]int{}}
	for _, j := range f.Jobs {
		t.Counts[j.Action]++
		if !j.Submits() {
			continue
		}
		t.ToRun++
		t.ToRunCost += j.Est
		if j.Fits {
			t.Fitting++
			t.FitCost += j.Est
		}
	}
	return t
}

// OverBudget reports whether some job to submit does not fit the budget.
func (f *Forecast) OverBudget() bool {
	t := f.Totals()
	return t.Fitting < t.ToRun
}
