package executor

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// forecastEnv is eight jobs in every state the journal can hold.
func forecastEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, 8)
	e.plan.Concurrency = 1
	var recs []record
	done := func(i int, fp string) {
		id := e.plan.Jobs[i].ID
		task := "dddddddd-0000-4000-8000-00000000000" + string(rune('0'+i))
		recs = append(recs, record{Ev: evSubmitting, Job: id, Task: task, FP: fp, Est: 462},
			record{Ev: evSucceeded, Job: id, Task: task, Cost: 462, Outputs: []OutputReport{{Key: id + ".mp4"}}})
	}
	done(0, "fp-job-000") // skip
	done(1, "fp-job-001") // output deleted below: redo
	done(4, "fp-old")     // changed since: not redone
	recs = append(recs, record{Ev: evSubmitting, Job: "job-002", Task: "dddddddd-0000-4000-8000-000000000002", FP: "fp-job-002", Est: 462},
		record{Ev: evFailed, Job: "job-002", Task: "dddddddd-0000-4000-8000-000000000002", Class: "permanent"}) // retry
	recs = append(recs, record{Ev: evSubmitting, Job: "job-003", Task: crashedUUID, FP: "fp-job-003", Est: 462},
		record{Ev: evAccepted, Job: "job-003", Task: crashedUUID}) // resume
	e.seedAt(time.Now().Add(-time.Hour), recs...)
	e.preAccept(3, crashedUUID)
	for _, i := range []int{0, 4} {
		e.sink.put(e.plan.Jobs[i].OutputKeys[0], 1234, "video/mp4")
	}
	e.sink.put("job-006.mp4", 99, "video/mp4") // not ours: blocks job-006
	return e
}

func submittedIDs(e *env) []string {
	var ids []string
	for _, task := range e.api.submitted() {
		if task.Resend {
			continue
		}
		ids = append(ids, strings.TrimSuffix(keyFromURL(task.Request.UploadEndpoint()), ".mp4"))
	}
	slices.Sort(ids)
	return ids
}

func toSubmit(f *Forecast) []string {
	var ids []string
	for _, j := range f.Jobs {
		if j.Submits() && j.Fits {
			ids = append(ids, j.Job.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// The forecast names the action Run takes for every journal state, and
// Run then submits exactly the jobs it lists.
func TestForecastIsTheRun(t *testing.T) {
	e := forecastEnv(t)
	f, err := ForecastRun(context.Background(), e.plan, e.opt)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"job-000": ActionSkip, "job-001": ActionRedo, "job-002": ActionRetry, "job-003": ActionResume,
		"job-004": ActionChanged, "job-005": ActionSubmit, "job-006": ActionBlocked, "job-007": ActionSubmit,
	}
	for _, j := range f.Jobs {
		if j.Action != want[j.Job.ID] {
			t.Errorf("%s: action %s, want %s (%s)", j.Job.ID, j.Action, want[j.Job.ID], j.Note)
		}
	}
	if f.Jobs[0].Job.ID != "job-003" {
		t.Errorf("first job %s: the run takes in-flight jobs first", f.Jobs[0].Job.ID)
	}
	if got := f.Summary(); got != "4 to run ($0.1848); 1 up to date; 1 changed (use --only changed); 1 in flight (resumed, already counted)" {
		t.Errorf("summary %q", got)
	}
	rep := e.run(context.Background())
	if got, want := submittedIDs(e), toSubmit(f); !slices.Equal(got, want) {
		t.Errorf("run submitted %v, forecast said %v", got, want)
	}
	if j := jobByID(t, rep, "job-006"); j.State != StateFailed || j.ErrorCode != "outputExists" {
		t.Errorf("job-006 %+v", j)
	}
}

// With a budget the forecast walks the jobs in the run's order against
// what the window leaves, and the run stops where it says.
func TestForecastBudgetFit(t *testing.T) {
	e := forecastEnv(t)
	// The seeded journal has no window record, so the resumed job-003
	// counts against the new window first (462), leaving room for one.
	e.plan.Budget = 2*462 + 100
	f, err := ForecastRun(context.Background(), e.plan, e.opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := toSubmit(f); !slices.Equal(got, []string{"job-001"}) {
		t.Errorf("fits %v, want [job-001] (the resumed job-003 is counted first)", got)
	}
	if !f.OverBudget() || f.Left != 2*462+100-462 {
		t.Errorf("over budget %t, left %s", f.OverBudget(), f.Left)
	}
	e.run(context.Background())
	if got := submittedIDs(e); !slices.Equal(got, []string{"job-001"}) {
		t.Errorf("run submitted %v", got)
	}
}

// Without a destination (plan --offline) succeeded jobs are taken as up to
// date, and the summary says the outputs were not checked.
func TestForecastOffline(t *testing.T) {
	e := forecastEnv(t)
	e.opt.Dest = nil
	f, err := ForecastRun(context.Background(), e.plan, e.opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := toSubmit(f); !slices.Equal(got, []string{"job-002", "job-005", "job-006", "job-007"}) {
		t.Errorf("offline: %v", got)
	}
	if !strings.Contains(f.Summary(), "2 up to date (outputs not checked)") {
		t.Errorf("summary %q", f.Summary())
	}
}
