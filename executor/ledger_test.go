package executor

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/runware"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// One budget binds every invocation inside its window: a rerun with the
// same budget submits nothing, --budget sets the window's total (not an
// addition), the next night gets a fresh window, and NewWindow opens one
// on purpose.
func TestBudgetWindowAcrossRuns(t *testing.T) {
	e := newEnv(t, 12)
	clk := &clock{t: time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)}
	e.opt.Now = clk.now
	e.plan.Budget, e.plan.Concurrency = 3*462, 1
	steps := []struct {
		name       string
		budget     kling.Price
		advance    time.Duration
		newWindow  bool
		wantNew    int // tasks accepted by this run
		wantSpent  kling.Price
		wantStop   string
		wantWindow int // window records in the journal after it
	}{
		{"first run", 3 * 462, 0, false, 3, 3 * 462, StopBudget, 1},
		{"rerun, same budget", 3 * 462, time.Hour, false, 0, 3 * 462, StopBudget, 1},
		{"rerun, doubled budget", 6 * 462, time.Hour, false, 3, 6 * 462, StopBudget, 1},
		{"next night", 6 * 462, 20 * time.Hour, false, 6, 6 * 462, "", 2},
	}
	total := 0
	for _, s := range steps {
		clk.add(s.advance)
		e.plan.Budget, e.opt.NewWindow = s.budget, s.newWindow
		before := e.api.accepted()
		rep := e.run(context.Background())
		total += s.wantNew
		if got := e.api.accepted() - before; got != s.wantNew || rep.StoppedBy != s.wantStop {
			t.Fatalf("%s: %d new tasks (want %d), stopped %q (want %q): %s", s.name, got, s.wantNew, rep.StoppedBy, s.wantStop, rep.FatalError)
		}
		if rep.Window.Spent != s.wantSpent || rep.Window.Spent > s.budget || rep.Window.Start.IsZero() {
			t.Errorf("%s: window %+v, want spent %s", s.name, rep.Window, s.wantSpent)
		}
		if s.wantStop == StopBudget && !strings.Contains(rep.FatalError, "window") {
			t.Errorf("%s: stop message %q does not name the window", s.name, rep.FatalError)
		}
		d := e.journal()
		if len(d.money.windows) != s.wantWindow {
			t.Errorf("%s: %d window records, want %d", s.name, len(d.money.windows), s.wantWindow)
		}
		if w := d.money.window(clk.now(), e.plan.BudgetWindow); w.Spent != s.wantSpent {
			t.Errorf("%s: journal says the window spent %s, want %s", s.name, w.Spent, s.wantSpent)
		}
	}
	if e.api.accepted() != total {
		t.Errorf("accepted %d", e.api.accepted())
	}

	// NewWindow: what was spent no longer counts.
	e2 := newEnv(t, 6)
	e2.opt.Now = clk.now
	e2.plan.Budget, e2.plan.Concurrency = 2*462, 1
	e2.run(context.Background())
	e2.opt.NewWindow = true
	rep := e2.run(context.Background())
	if e2.api.accepted() != 4 || rep.Window.Spent != 2*462 {
		t.Errorf("new window: accepted %d, window spent %s", e2.api.accepted(), rep.Window.Spent)
	}
	if d := e2.journal(); len(d.money.windows) != 2 {
		t.Errorf("window records %d, want 2 (one opened by NewWindow)", len(d.money.windows))
	}
}

// Tasks a killed invocation left in flight stay reserved in the window:
// a resumed run can only submit what is left beside them.
func TestKilledRunsTasksStayReserved(t *testing.T) {
	e := newEnv(t, 6)
	clk := &clock{t: time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)}
	e.opt.Now = clk.now
	e.plan.Budget, e.plan.Concurrency = 4*462, 1
	// What a kill -9 after two submissions leaves: a window and two
	// tasks whose submit may have reached Runware (the fake never saw
	// them, so each re-send is accepted now).
	at := clk.now().Add(-time.Hour)
	e.seedAt(at, record{Ev: evWindow, Budget: 4 * 462},
		record{Ev: evSubmitting, Job: "job-000", Task: "aaaaaaaa-0000-4000-8000-000000000000", FP: "fp-job-000", Est: 462},
		record{Ev: evSubmitting, Job: "job-001", Task: "aaaaaaaa-0000-4000-8000-000000000001", FP: "fp-job-001", Est: 462})
	if w := e.journal().money.window(clk.now(), e.plan.BudgetWindow); w.Reserved != 2*462 || w.Spent != 0 {
		t.Fatalf("window before resume %+v: the two tasks must stay reserved", w)
	}
	rep := e.run(context.Background())
	if e.api.accepted() != 4 || rep.StoppedBy != StopBudget || rep.Window.Spent != 4*462 || rep.Window.Reserved != 0 {
		t.Errorf("accepted %d (2 re-sent + 2 new), stopped %q, window %+v", e.api.accepted(), rep.StoppedBy, rep.Window)
	}
}

// limits.maxFailures: past it no new submission starts, exit 3's reason
// is in the report.
func TestMaxFailuresStopsSubmissions(t *testing.T) {
	e := newEnv(t, 10)
	e.plan.Concurrency = 1
	e.plan.MaxFailures.Set, e.plan.MaxFailures.Count = true, 2
	e.opt.MaxRegenerate = -1
	e.api.onWait = func(ctx context.Context, ft *fakeTask) error {
		return permTaskErr("invalidAudio", "the audio is silent")
	}
	rep := e.run(context.Background())
	if rep.StoppedBy != StopFailures || e.api.submitCount() != 3 || rep.Totals.Failed != 3 || rep.Totals.Pending != 7 {
		t.Fatalf("stopped %q submits %d totals %+v", rep.StoppedBy, e.api.submitCount(), rep.Totals)
	}
	if !strings.Contains(rep.FatalError, "limits.maxFailures 2") {
		t.Errorf("reason %q", rep.FatalError)
	}
}

func permTaskErr(code, msg string) error {
	return &runware.Error{Class: runware.Permanent, Code: code, Message: msg, Terminal: true}
}

// A billed task stays billed: a later failed record without a cost (an
// input failure while redoing the job, whose report still names the old
// task) does not free it.
func TestLedgerBillNeverTakenBack(t *testing.T) {
	e := newEnv(t, 1)
	clk := &clock{t: time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)}
	e.opt.Now, e.plan.Budget = clk.now, 10*462
	e.run(context.Background())
	e.sink.del("job-000.mp4") // output lost: the next run redoes it
	e.opt.Inputs = fakeInputs{fail: true}
	clk.add(time.Minute)
	e.run(context.Background())
	if w := e.journal().money.window(clk.now(), e.plan.BudgetWindow); w.Spent != 462 {
		t.Errorf("window spent %s after a failed redo, want $0.0462", w.Spent)
	}
}

// A resumed undelivered task (billed $0.0500 by an earlier run) that
// Runware forgot but whose output is found keeps its reported cost.
func TestLedgerGoneDeliveredKeepsCost(t *testing.T) {
	e := newEnv(t, 1)
	clk := &clock{t: time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)}
	e.opt.Now, e.plan.Budget = clk.now, 10*462
	e.seedAt(clk.now().Add(-time.Hour), record{Ev: evWindow, Budget: 10 * 462},
		record{Ev: evSubmitting, Job: "job-000", Task: crashedUUID, FP: "fp-job-000", Est: 462},
		record{Ev: evAccepted, Job: "job-000", Task: crashedUUID},
		record{Ev: evUndelivered, Job: "job-000", Task: crashedUUID, Cost: 500, CostReported: true})
	e.sink.put("job-000.mp4", 1234, "video/mp4") // Runware's PUT did land
	rep := e.run(context.Background())           // the fake answers taskNotFound
	if j := rep.Jobs[0]; j.State != StateSucceeded || j.Actual != 500 || j.Billed {
		t.Fatalf("job %+v: succeeded, cost $0.0500, billed by the earlier run", j)
	}
	if w := e.journal().money.window(clk.now(), e.plan.BudgetWindow); w.Spent != 500 {
		t.Errorf("window spent %s, want $0.0500", w.Spent)
	}
}

// Window membership is by journal position: submissions whose clock
// reading came before the one that opened the window (preempted between
// Now and the journal) are still in it, so the ledger counts every task.
func TestLedgerWindowByPosition(t *testing.T) {
	e := newEnv(t, 16)
	e.plan.Concurrency, e.plan.Budget = 16, 100*462
	var calls atomic.Int64
	base := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	e.opt.Now = func() time.Time {
		n := calls.Add(1)
		ts := base.Add(time.Duration(n) * time.Microsecond)
		time.Sleep(time.Duration(16-n%16) * time.Millisecond) // reorder the goroutines
		return ts
	}
	e.run(context.Background())
	w := e.journal().money.window(base.Add(time.Hour), e.plan.BudgetWindow)
	if got, want := w.Spent+w.Reserved, kling.Price(e.api.accepted()*462); got != want || e.api.accepted() != 16 {
		t.Errorf("ledger counts %s in the window for %d accepted tasks (%s)", got, e.api.accepted(), want)
	}
}

// A task left in flight by last night counts in last night's window,
// whichever invocation resumes it: tonight's invocations all agree on
// tonight's spend, and tonight's budget pays for tonight's tasks.
func TestLedgerEarlierWindowTask(t *testing.T) {
	e := newEnv(t, 4)
	clk := &clock{t: time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)}
	e.opt.Now = clk.now
	e.plan.Budget, e.plan.Concurrency = 2*462, 1
	e.seedAt(clk.now().Add(-30*time.Hour), record{Ev: evWindow, Budget: 2 * 462},
		record{Ev: evSubmitting, Job: "job-000", Task: crashedUUID, FP: "fp-job-000", Est: 462},
		record{Ev: evAccepted, Job: "job-000", Task: crashedUUID})
	e.preAccept(0, crashedUUID)
	a := e.run(context.Background())
	clk.add(time.Hour)
	b := e.run(context.Background())
	if a.Window.Spent != 2*462 || b.Window.Spent != a.Window.Spent || e.api.accepted() != 3 {
		t.Errorf("window A %s, B %s; tasks %d (want 1 resumed + 2 new)", a.Window.Spent, b.Window.Spent, e.api.accepted())
	}
	if j := jobByID(t, a, "job-000"); j.State != StateSucceeded || !j.Billed {
		t.Errorf("resumed job %+v", j)
	}
	if m := e.journal().money.tasks[crashedUUID]; m.window != 1 || m.state != moneyBilled {
		t.Errorf("last night's task %+v: billed in window 1", m)
	}
}

// Tasks the sandbox forgets (ForgetInflight) bill nothing and hold no
// reservation: the rehearsal's budget is all for its new tasks.
func TestLedgerForgottenTasksFree(t *testing.T) {
	e := newEnv(t, 4)
	clk := &clock{t: time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)}
	e.opt.Now = clk.now
	e.plan.Budget, e.plan.Concurrency = 4*462, 1
	e.opt.ForgetInflight = true
	e.seedAt(clk.now().Add(-time.Hour), record{Ev: evWindow, Budget: 4 * 462},
		record{Ev: evSubmitting, Job: "job-000", Task: crashedUUID, FP: "fp-job-000", Est: 462},
		record{Ev: evSubmitting, Job: "job-001", Task: "22222222-2222-4222-8222-222222222222", FP: "fp-job-001", Est: 462})
	rep := e.run(context.Background())
	if rep.StoppedBy != "" || e.api.accepted() != 4 {
		t.Errorf("stopped %q with %d of 4 budgeted jobs", rep.StoppedBy, e.api.accepted())
	}
}
