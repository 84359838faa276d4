package executor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/runware"
)

func TestRunAllSucceed(t *testing.T) {
	e := newEnv(t, 5)
	rep := e.run(context.Background())
	if !rep.Done() || rep.Totals.Succeeded != 5 {
		t.Fatalf("stopped %q, totals %+v", rep.StoppedBy, rep.Totals)
	}
	if got := e.api.accepted(); got != 5 {
		t.Errorf("accepted %d tasks, want 5", got)
	}
	if c := e.sink.copyCount(); c != 0 {
		t.Errorf("uploadEndpoint delivered everything, but %d copies were made", c)
	}
	for _, j := range rep.Jobs {
		if len(j.Outputs) != 1 || j.Outputs[0].Size <= 0 || j.Outputs[0].ContentType != "video/mp4" {
			t.Errorf("%s outputs %+v", j.ID, j.Outputs)
		}
		if j.Attempts != 1 || j.TaskUUID == "" || !j.Billed {
			t.Errorf("%s: %+v", j.ID, j)
		}
	}
	for _, task := range e.api.submitted() {
		if task.Request.UploadEndpoint() == "" || task.Resend || task.Request.Model != kling.Model {
			t.Errorf("task %+v", task)
		}
	}
}

// Guarantee 1: never more than Concurrency jobs in flight; the bound is
// reached (the counting blocker releases only when told).
func TestConcurrencyBound(t *testing.T) {
	for _, limit := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			e := newEnv(t, 24)
			e.plan.Concurrency = limit
			release := make(chan struct{})
			var once sync.Once
			e.api.onWait = func(ctx context.Context, ft *fakeTask) error {
				if e.api.active.Load() >= int64(limit) {
					once.Do(func() { close(release) })
				}
				select {
				case <-release:
				case <-time.After(2 * time.Second): // bound not reached: let the test fail on peak
				}
				return nil
			}
			rep := e.run(context.Background())
			if !rep.Done() {
				t.Fatalf("stopped %q", rep.StoppedBy)
			}
			if p := e.api.peak.Load(); p != int64(limit) {
				t.Errorf("peak in flight %d, want exactly %d", p, limit)
			}
		})
	}
}

// Guarantee 1: one job's failure is recorded and does not stop the others.
func TestOneFailureDoesNotCancelOthers(t *testing.T) {
	e := newEnv(t, 6)
	e.api.onSubmit = func(task runware.Task, call int) error {
		if task.Video == "https://inputs.test/job-002.mp4?X-Amz-Signature="+inputSig {
			return &runware.Error{Class: runware.Permanent, Code: "invalidVideo", Message: "no face found", HTTPStatus: 400}
		}
		return nil
	}
	rep := e.run(context.Background())
	if rep.StoppedBy != "" || rep.Done() {
		t.Fatalf("stopped %q stopped %q", rep.StoppedBy, rep.StoppedBy)
	}
	j := jobByID(t, rep, "job-002")
	if j.State != StateFailed || j.ErrorCode != "invalidVideo" || j.ErrorClass != "permanent" {
		t.Errorf("job-002 %+v", j)
	}
	if rep.Totals.Succeeded != 5 || rep.Totals.Failed != 1 {
		t.Errorf("totals %+v", rep.Totals)
	}
	if rep.Totals.Reserved != 0 {
		t.Errorf("a rejected task must release its reservation; reserved %s", rep.Totals.Reserved)
	}
}

// Guarantee 2: the budget binds exactly.
func TestBudgetBinds(t *testing.T) {
	cases := []struct {
		name        string
		budget      kling.Price
		conc        int
		wantSubmits int
		wantStop    string
	}{
		{"exactly all", 10 * 462, 4, 10, ""},
		{"one unit short", 10*462 - 1, 4, 9, StopBudget},
		{"exactly five", 5 * 462, 3, 5, StopBudget},
		{"less than one", 461, 2, 0, StopBudget},
		{"none", 0, 4, 10, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 10)
			e.plan.Budget, e.plan.Concurrency = c.budget, c.conc
			e.api.cost = func(runware.Task) (float64, bool) { return 0.0462, true }
			rep := e.run(context.Background())
			if rep.StoppedBy != c.wantStop || (c.wantStop == "") != rep.Done() {
				t.Errorf("stopped %q, want %q (%s)", rep.StoppedBy, c.wantStop, rep.FatalError)
			}
			if got := e.api.submitCount(); got != c.wantSubmits {
				t.Errorf("submitted %d, want %d", got, c.wantSubmits)
			}
			if rep.Totals.Pending != 10-c.wantSubmits || rep.Totals.Succeeded != c.wantSubmits {
				t.Errorf("totals %+v", rep.Totals)
			}
			if c.budget > 0 && rep.Totals.Spent > c.budget {
				t.Errorf("spent %s over budget %s", rep.Totals.Spent, c.budget)
			}
			// Pending jobs run on a later invocation with a larger budget.
			if c.wantStop == StopBudget {
				e.plan.Budget = 0
				rep2 := e.run(context.Background())
				if !rep2.Done() || rep2.Totals.Skipped != c.wantSubmits || e.api.accepted() != 10 {
					t.Errorf("second run stopped %q totals %+v accepted %d", rep2.StoppedBy, rep2.Totals, e.api.accepted())
				}
			}
		})
	}
}

// Guarantee 2: spent + reserved never exceeds the budget. When the price
// rule underestimates (billed $0.0500 for an estimate of $0.0462), later
// reservations are scaled by the worst ratio seen, so with one job at a time
// nothing is overspent, and with N at a time at most the N-1 jobs already in
// flight when the first underestimate was billed can overrun, by their drift.
func TestBudgetUnderestimatedPrice(t *testing.T) {
	for _, conc := range []int{1, 8} {
		t.Run(fmt.Sprint(conc), func(t *testing.T) {
			e := newEnv(t, 40)
			e.plan.Concurrency, e.plan.Budget = conc, 17*462
			e.api.cost = func(runware.Task) (float64, bool) { return 0.05, true }
			rep := e.run(context.Background())
			if rep.StoppedBy != StopBudget {
				t.Fatalf("stopped %q", rep.StoppedBy)
			}
			over := rep.Totals.Spent + rep.Totals.Reserved - e.plan.Budget
			if allowed := kling.Price(conc-1) * (500 - 462); over > allowed {
				t.Errorf("spent %s + reserved %s is %s over budget %s (allowed %s)",
					rep.Totals.Spent, rep.Totals.Reserved, over, e.plan.Budget, allowed)
			}
			if conc == 1 && rep.Totals.Succeeded != 15 {
				t.Errorf("%d jobs at $0.05 within $0.7854; want 15", rep.Totals.Succeeded)
			}
			if rep.Totals.Drift != kling.Price(rep.Totals.Succeeded)*38 {
				t.Errorf("drift %s for %d jobs", rep.Totals.Drift, rep.Totals.Succeeded)
			}
		})
	}
}

// Guarantee 2: reconciliation with reported cost, and drift.
func TestCostReconcileAndDrift(t *testing.T) {
	e := newEnv(t, 3)
	e.api.cost = func(task runware.Task) (float64, bool) {
		switch task.Video {
		case "https://inputs.test/job-000.mp4?X-Amz-Signature=" + inputSig:
			return 0.0462, true // as estimated
		case "https://inputs.test/job-001.mp4?X-Amz-Signature=" + inputSig:
			return 0.0924, true // billed a higher tier
		}
		return 0, false // not reported: the estimate stands
	}
	rep := e.run(context.Background())
	want := map[string][2]kling.Price{"job-000": {462, 0}, "job-001": {924, 462}, "job-002": {462, 0}}
	for id, w := range want {
		j := jobByID(t, rep, id)
		if j.Actual != w[0] || j.Drift() != w[1] {
			t.Errorf("%s actual %s drift %s, want %s %s", id, j.Actual, j.Drift(), w[0], w[1])
		}
	}
	if rep.Totals.Spent != 462+924+462 || rep.Totals.Drift != 462 || rep.Totals.Estimated != 3*462 {
		t.Errorf("totals %+v", rep.Totals)
	}
	d := e.journal()
	if s := d.states["job-001"]; s.Cost != 924 || !s.CostReported {
		t.Errorf("journal cost %+v", s)
	}
	if s := d.states["job-002"]; s.Cost != 462 || s.CostReported {
		t.Errorf("journal cost %+v", s)
	}
}

// Fatal errors stop new submissions at once; exit 3 with the reason.
func TestFatalStopsRun(t *testing.T) {
	e := newEnv(t, 10)
	e.plan.Concurrency = 1
	e.api.onSubmit = func(task runware.Task, call int) error {
		if call >= 3 {
			return &runware.Error{Class: runware.Fatal, Code: "insufficientCredits", HTTPStatus: 402, Message: "add credits"}
		}
		return nil
	}
	rep := e.run(context.Background())
	if rep.StoppedBy != StopFatal {
		t.Fatalf("stopped %q stopped %q", rep.StoppedBy, rep.StoppedBy)
	}
	if got := e.api.submitCount(); got != 3 {
		t.Errorf("%d submissions, want 3 (none after the fatal error)", got)
	}
	if c := countStates(rep); c[StateSucceeded] != 2 || c[StateFailed] != 1 || c[StatePending] != 7 {
		t.Errorf("states %v", c)
	}
	if rep.FatalError == "" || !strings.Contains(rep.FatalError, "insufficientCredits") {
		t.Errorf("FatalError %q", rep.FatalError)
	}
}

// Guarantee 8: Regenerate-class failures get a new taskUUID, up to
// MaxRegenerate, each journalled.
func TestRegenerate(t *testing.T) {
	for _, c := range []struct {
		name      string
		failures  int
		max       int
		wantState string
		wantTasks int
	}{
		{"recovers", 2, 2, StateSucceeded, 3},
		{"gives up", 5, 2, StateFailed, 3},
		{"disabled", 1, -1, StateFailed, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 1)
			e.opt.MaxRegenerate = c.max
			var n int
			var mu sync.Mutex
			e.api.onWait = func(ctx context.Context, ft *fakeTask) error {
				mu.Lock()
				defer mu.Unlock()
				if n++; n <= c.failures {
					return &runware.Error{Class: runware.Regenerate, Code: "timeoutProvider", TaskUUID: ft.task.TaskUUID}
				}
				return nil
			}
			rep := e.run(context.Background())
			j := rep.Jobs[0]
			if j.State != c.wantState || j.Attempts != c.wantTasks || e.api.accepted() != c.wantTasks {
				t.Errorf("state %s attempts %d accepted %d", j.State, j.Attempts, e.api.accepted())
			}
			s := e.journal().states["job-000"]
			if s.Tasks != c.wantTasks || s.State != c.wantState {
				t.Errorf("journal %+v", s)
			}
			seen := map[string]bool{}
			for _, task := range e.api.submitted() {
				if seen[task.TaskUUID] {
					t.Errorf("taskUUID %s reused for a regeneration", task.TaskUUID)
				}
				seen[task.TaskUUID] = true
			}
			if c.wantState == StateFailed && (rep.StoppedBy != "" || rep.Done() || rep.Totals.Reserved != 0) {
				t.Errorf("stopped %q reserved %s", rep.StoppedBy, rep.Totals.Reserved)
			}
		})
	}
}

func TestUnknownIDAndBadOptions(t *testing.T) {
	e := newEnv(t, 2)
	for _, mod := range []func(*Options){
		func(o *Options) { o.IDs = []string{"job-000", "nope"} },
		func(o *Options) { o.Shard = Shard{2, 2} },
		func(o *Options) { o.StateDir = "" },
		func(o *Options) { o.API = nil },
	} {
		opt := e.opt
		mod(&opt)
		if _, err := Run(context.Background(), e.plan, opt); err == nil {
			t.Errorf("want an error for %+v", opt)
		}
	}
	if e.api.submitCount() != 0 {
		t.Error("submitted despite bad options")
	}
}

func TestSelection(t *testing.T) {
	e := newEnv(t, 10)
	e.opt.IDs = []string{"job-001", "job-002", "job-003"}
	e.opt.Tags = []string{"odd"}
	rep := e.run(context.Background())
	if len(rep.Jobs) != 2 || rep.Jobs[0].ID != "job-001" || rep.Jobs[1].ID != "job-003" {
		t.Errorf("selected %+v", rep.Jobs)
	}
	// Shards partition the jobs.
	seen := map[string]int{}
	for i := 0; i < 3; i++ {
		jobs, err := Selection{Shard: Shard{i, 3}}.Jobs(e.plan)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			seen[j.ID]++
		}
	}
	if len(seen) != 10 {
		t.Errorf("shards cover %d of 10 jobs", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s in %d shards", id, n)
		}
	}
}
