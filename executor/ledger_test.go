package executor

import (
	"context"
	"strings"
	"sync"
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
