package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dubline/dubline/planner"
	"github.com/dubline/dubline/runware"
	"github.com/dubline/dubline/storage"
)

// How the outcome of one task is classified when an answer leaves its fate
// in doubt: money must never be spent twice for one job, and a task that
// is known to be finished must not be polled forever.

// A Fatal Wait error the server reported for the task itself (e.g.
// insufficientCredits after the generation) ends the task: the job is
// failed (failed tasks are not billed) and the run stops. A request-level
// Fatal error (401/402 for the whole request) stops the run but says
// nothing about the task: it stays in flight.
func TestWaitFatal(t *testing.T) {
	for _, c := range []struct {
		terminal       bool
		wantState      string
		wantReserved   int64
		wantNewTaskRun bool // the next run submits a new task for job-000
	}{
		{true, StateFailed, 0, true},
		{false, StateInflight, 462, false},
	} {
		t.Run(fmt.Sprintf("terminal=%t", c.terminal), func(t *testing.T) {
			e := newEnv(t, 3)
			e.plan.Concurrency = 1
			e.api.onWait = func(ctx context.Context, ft *fakeTask) error {
				return &runware.Error{Class: runware.Fatal, Code: "insufficientCredits", HTTPStatus: 402,
					Message: "add credits", TaskUUID: ft.task.TaskUUID, Terminal: c.terminal}
			}
			rep := e.run(context.Background())
			if rep.StoppedBy != StopFatal || e.api.submitCount() != 1 {
				t.Fatalf("stopped %q submits %d", rep.StoppedBy, e.api.submitCount())
			}
			if rep.FatalError != "insufficientCredits: add credits" {
				t.Errorf("FatalError %q", rep.FatalError)
			}
			j := jobByID(t, rep, "job-000")
			if j.State != c.wantState || j.ErrorCode != "insufficientCredits" || int64(rep.Totals.Reserved) != c.wantReserved {
				t.Errorf("job-000 %+v reserved %s", j, rep.Totals.Reserved)
			}
			if s := e.journal().states["job-000"]; s.State != c.wantState {
				t.Errorf("journal state %s, want %s", s.State, c.wantState)
			}
			first := j.TaskUUID

			e.api.onWait = nil
			rep = e.run(context.Background())
			if !rep.Done() {
				t.Fatalf("second run stopped %q %+v", rep.StoppedBy, rep.Jobs)
			}
			j = jobByID(t, rep, "job-000")
			if (j.TaskUUID != first) != c.wantNewTaskRun {
				t.Errorf("second run task %s (first %s), want new task %t", j.TaskUUID, first, c.wantNewTaskRun)
			}
			e.api.mu.Lock()
			waits := e.api.tasks[first].waits
			e.api.mu.Unlock()
			if wantWaits := map[bool]int{true: 1, false: 2}[c.terminal]; waits != wantWaits {
				t.Errorf("the first task was polled %d times, want %d", waits, wantWaits)
			}
		})
	}
}

// A Permanent Wait error about the request (not reported for the task)
// leaves the task in flight: failing the job would make the next run pay
// for a new task while the first one may be billed. A Permanent error the
// server reported for the task fails the job; a task Runware no longer
// knows is said to be gone.
func TestWaitPermanent(t *testing.T) {
	for _, c := range []struct {
		name      string
		err       *runware.Error
		wantState string
		wantMsg   string
	}{
		{"request-level", &runware.Error{Class: runware.Permanent, Code: "invalidRequest", HTTPStatus: 400, Message: "bad batch"},
			StateInflight, "bad batch"},
		{"task failed", &runware.Error{Class: runware.Permanent, Code: "contentModeration", Message: "blocked", Terminal: true},
			StateFailed, "blocked"},
		{"task expired", &runware.Error{Class: runware.Permanent, Code: "taskExpired", Message: "expired", Terminal: true},
			StateFailed, "gone from Runware and its output is not in the destination"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 1)
			e.api.onWait = func(ctx context.Context, ft *fakeTask) error { return c.err }
			rep := e.run(context.Background())
			j := rep.Jobs[0]
			if j.State != c.wantState || !strings.Contains(j.ErrorMessage, c.wantMsg) || j.ErrorCode != c.err.Code {
				t.Fatalf("job %+v", j)
			}
			if s := e.journal().states["job-000"]; s.State != c.wantState {
				t.Errorf("journal state %s", s.State)
			}
			e.api.onWait = nil
			rep = e.run(context.Background())
			wantAccepted := map[string]int{StateInflight: 1, StateFailed: 2}[c.wantState]
			if !rep.Done() || e.api.accepted() != wantAccepted {
				t.Errorf("second run stopped %q accepted %d, want %d", rep.StoppedBy, e.api.accepted(), wantAccepted)
			}
		})
	}
}

// A task Runware has forgotten after delivering through uploadEndpoint is
// succeeded, not paid again: the output keys are checked first. With no
// output it fails, billed at the estimate (the ledger keeps counting it).
// An object that was there before the submission (copy) proves nothing.
func TestGoneTaskWithDeliveredOutput(t *testing.T) {
	for _, c := range []struct {
		name      string
		delivered bool
		copy      bool
		want      string
	}{
		{"delivered", true, false, StateSucceeded},
		{"missing", false, false, StateFailed},
		{"stale object", true, true, StateFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 1)
			e.seed(record{Ev: evPlanned, Job: "job-000", FP: "fp-job-000", Est: 462},
				record{Ev: evSubmitting, Job: "job-000", Task: crashedUUID, FP: "fp-job-000", Est: 462, Copy: c.copy},
				record{Ev: evAccepted, Job: "job-000", Task: crashedUUID})
			if c.delivered {
				e.sink.put("job-000.mp4", 1234, "video/mp4")
			}
			rep := e.run(context.Background()) // the fake never saw crashedUUID: taskNotFound
			j := rep.Jobs[0]
			if j.State != c.want || e.api.submitCount() != 0 || rep.Totals.Reserved != 0 {
				t.Fatalf("job %+v submits %d reserved %s", j, e.api.submitCount(), rep.Totals.Reserved)
			}
			if !j.Billed || j.Actual != 462 || rep.Window.Spent != 462 {
				t.Errorf("billed %t actual %s window spent %s: a forgotten task counts at the estimate", j.Billed, j.Actual, rep.Window.Spent)
			}
			if c.want == StateSucceeded && (len(j.Outputs) != 1 || !strings.Contains(j.Note, "found and verified")) {
				t.Errorf("outputs %v note %q", j.Outputs, j.Note)
			}
			if c.want == StateFailed && !strings.Contains(j.ErrorMessage, "billed at the estimate") {
				t.Errorf("message %q", j.ErrorMessage)
			}
			if m := e.journal().money.tasks[crashedUUID]; m == nil || m.state != moneyBilled || m.cost != 462 {
				t.Errorf("ledger line %+v: want billed $0.0462", m)
			}
			rep = e.run(context.Background())
			if want := map[string]int{StateSucceeded: 0, StateFailed: 1}[c.want]; e.api.accepted() != want || !rep.Done() {
				t.Errorf("second run: %d new tasks, want %d (stopped %q)", e.api.accepted(), want, rep.StoppedBy)
			}
		})
	}
}

// A journalled task the server no longer knows (taskNotFound for the task)
// and whose output is missing is failed with a message saying so, and
// regenerated by the next run.
func TestResumedTaskGoneFromRunware(t *testing.T) {
	e := newEnv(t, 1)
	e.seed(record{Ev: evPlanned, Job: "job-000", FP: "fp-job-000", Est: 462},
		record{Ev: evSubmitting, Job: "job-000", Task: crashedUUID, FP: "fp-job-000"},
		record{Ev: evAccepted, Job: "job-000", Task: crashedUUID})
	rep := e.run(context.Background()) // the fake never saw crashedUUID
	j := rep.Jobs[0]
	if j.State != StateFailed || j.ErrorCode != "taskNotFound" || !strings.Contains(j.ErrorMessage, "gone from Runware") ||
		e.api.submitCount() != 0 || rep.Totals.Reserved != 0 || rep.Totals.Spent != 462 {
		t.Fatalf("job %+v submits %d reserved %s", j, e.api.submitCount(), rep.Totals.Reserved)
	}
	rep = e.run(context.Background())
	if j := rep.Jobs[0]; !rep.Done() || j.TaskUUID == crashedUUID || e.api.accepted() != 1 {
		t.Errorf("regeneration: stopped %q %+v", rep.StoppedBy, j)
	}
}

// A submission that may have been accepted by an earlier attempt (a
// re-send of a journalled "submitting" task, or a Submit whose client made
// several HTTP attempts) is never failed by a Permanent or Fatal answer:
// it stays submitting and is re-sent with the same taskUUID. Fatal still
// stops the run. A single-attempt first submission may fail.
func TestSubmitRejectionAfterPossibleAcceptance(t *testing.T) {
	for _, c := range []struct {
		name      string
		resend    bool
		class     runware.Class
		attempts  int
		wantState string
		wantStop  string
	}{
		{"resend permanent", true, runware.Permanent, 1, StateSubmitting, ""},
		{"resend fatal", true, runware.Fatal, 1, StateSubmitting, StopFatal},
		{"retried permanent", false, runware.Permanent, 2, StateSubmitting, ""},
		{"retried fatal", false, runware.Fatal, 3, StateSubmitting, StopFatal},
		{"single permanent", false, runware.Permanent, 1, StateFailed, ""},
		{"single fatal", false, runware.Fatal, 1, StateFailed, StopFatal},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 1)
			if c.resend {
				e.seed(record{Ev: evPlanned, Job: "job-000", FP: "fp-job-000", Est: 462},
					record{Ev: evSubmitting, Job: "job-000", Task: crashedUUID, FP: "fp-job-000"})
			}
			e.api.onSubmit = func(task runware.Task, call int) error {
				return &runware.Error{Class: c.class, Code: "invalidVideo", Message: "rejected", Attempts: c.attempts, Terminal: true}
			}
			rep := e.run(context.Background())
			j := rep.Jobs[0]
			if j.State != c.wantState || rep.StoppedBy != c.wantStop || j.ErrorCode != "invalidVideo" {
				t.Fatalf("state %s stopped %q %+v", j.State, rep.StoppedBy, j)
			}
			if s := e.journal().states["job-000"]; s.State != c.wantState {
				t.Errorf("journal state %s", s.State)
			}
			first := j.TaskUUID
			e.api.onSubmit = nil
			rep = e.run(context.Background())
			subs := e.api.submitted()
			last := subs[len(subs)-1]
			if !rep.Done() || len(subs) != 2 {
				t.Fatalf("second run stopped %q submissions %d", rep.StoppedBy, len(subs))
			}
			if resent := last.TaskUUID == first; resent != (c.wantState == StateSubmitting) || last.Resend != resent {
				t.Errorf("second submission %s resend %t (first %s)", last.TaskUUID, last.Resend, first)
			}
		})
	}
}

// gatedInputs holds input resolution until gate returns, as staging a
// large local file does.
type gatedInputs struct {
	gate func(ctx context.Context) error
}

func (g gatedInputs) URL(ctx context.Context, in planner.Input) (string, error) {
	if err := g.gate(ctx); err != nil {
		return "", err
	}
	return fakeInputs{}.URL(ctx, in)
}

// A SIGINT or the plan deadline that comes while a job resolves its inputs
// stops it before "submitting" is journalled: no request leaves, the job
// stays pending.
func TestNoSubmissionAfterStopWhileStaging(t *testing.T) {
	for _, by := range []string{StopInterrupt, StopDeadline} {
		t.Run(by, func(t *testing.T) {
			e := newEnv(t, 1)
			e.opt.Grace = 10 * time.Second // the job's own context outlives the stop
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var gate func(context.Context) error
			if by == StopInterrupt {
				gate = func(context.Context) error { cancel(); return nil } // SIGINT while staging
			} else {
				e.plan.Deadline = time.Now().Add(50 * time.Millisecond)
				gate = func(jctx context.Context) error { // staging outlasts the deadline
					tm := time.NewTimer(time.Until(e.plan.Deadline) + 50*time.Millisecond)
					defer tm.Stop()
					select {
					case <-tm.C:
						return nil
					case <-jctx.Done():
						return jctx.Err()
					}
				}
			}
			e.opt.Inputs = gatedInputs{gate}
			rep := e.run(ctx)
			if e.api.submitCount() != 0 {
				t.Fatalf("%d submissions after the stop", e.api.submitCount())
			}
			if rep.StoppedBy != by || rep.Jobs[0].State != StatePending || rep.Totals.Reserved != 0 {
				t.Errorf("stopped %q %+v reserved %s", rep.StoppedBy, rep.Jobs[0], rep.Totals.Reserved)
			}
			if s := e.journal().states["job-000"]; s.State != StatePending || s.Submitted {
				t.Errorf("journal %+v", s)
			}
		})
	}
}

// A result Runware no longer serves (the copy from videoURL answers a
// final 403/404/410) is failed with code resultUnavailable, at once and
// without retries, so the next run generates it anew instead of polling a
// task whose result can never be fetched.
func TestResultGoneIsFailed(t *testing.T) {
	gone := fmt.Errorf("GET https://runware.test/video/x.mp4?token=%s: HTTP 404: %w", videoTok, storage.ErrSourceGone)
	for _, resumed := range []bool{false, true} {
		t.Run(map[bool]string{false: "fresh", true: "resumed undelivered"}[resumed], func(t *testing.T) {
			e := newEnv(t, 1)
			e.api.upload = false
			e.sink.copyErr = gone
			wantSpent := 462
			if resumed {
				e.seed(record{Ev: evPlanned, Job: "job-000", FP: "fp-job-000", Est: 462},
					record{Ev: evSubmitting, Job: "job-000", Task: crashedUUID, FP: "fp-job-000", Copy: true},
					record{Ev: evAccepted, Job: "job-000", Task: crashedUUID},
					record{Ev: evUndelivered, Job: "job-000", Task: crashedUUID, Cost: 462, CostReported: true})
				e.preAccept(0, crashedUUID)
				wantSpent = 0 // billed by the earlier run
			}
			rep := e.run(context.Background())
			j := rep.Jobs[0]
			if j.State != StateFailed || j.ErrorClass != "delivery" || j.ErrorCode != "resultUnavailable" {
				t.Fatalf("job %+v", j)
			}
			if strings.Contains(j.ErrorMessage, videoTok) || !strings.Contains(j.ErrorMessage, "no longer") {
				t.Errorf("message %q", j.ErrorMessage)
			}
			if e.sink.copyCount() != 1 || int(rep.Totals.Spent) != wantSpent || rep.Totals.Reserved != 0 {
				t.Errorf("copies %d (a gone source is not retried) spent %s reserved %s", e.sink.copyCount(), rep.Totals.Spent, rep.Totals.Reserved)
			}
			if s := e.journal().states["job-000"]; s.State != StateFailed {
				t.Errorf("journal state %s", s.State)
			}
			e.sink.copyErr = nil
			rep = e.run(context.Background())
			if j := rep.Jobs[0]; !rep.Done() || j.State != StateSucceeded || j.Attempts != 2 {
				t.Errorf("regeneration: stopped %q %+v", rep.StoppedBy, j)
			}
		})
	}
}

// Delivery is bounded by DeliveryTimeout: a copy that hangs leaves the
// job undelivered (retried next run, not paid again) instead of hanging
// the run.
func TestDeliveryTimeout(t *testing.T) {
	e := newEnv(t, 1)
	e.api.upload = false
	e.opt.DeliveryTimeout = 30 * time.Millisecond
	e.sink.copyHook = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	done := make(chan *Report, 1)
	go func() { rep, _ := Run(context.Background(), e.plan, e.opt); done <- rep }()
	var rep *Report
	select {
	case rep = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("delivery hung past DeliveryTimeout")
	}
	j := rep.Jobs[0]
	if j.State != StateUndelivered || !strings.Contains(j.ErrorMessage, "within 30ms") || !j.Billed {
		t.Fatalf("job %+v", j)
	}
	e.sink.copyHook = nil
	rep = e.run(context.Background())
	if !rep.Done() || e.api.accepted() != 1 || rep.Totals.Spent != 0 {
		t.Errorf("retry: stopped %q accepted %d spent %s", rep.StoppedBy, e.api.accepted(), rep.Totals.Spent)
	}
}

func TestDeliveryTimeoutDefault(t *testing.T) {
	e := newEnv(t, 1)
	for _, c := range []struct{ job, want time.Duration }{
		{0, 10 * time.Minute}, {time.Minute, 10 * time.Minute}, {time.Hour, time.Hour},
	} {
		e.plan.JobTimeout = c.job
		opt, err := e.opt.withDefaults(e.plan)
		if err != nil || opt.DeliveryTimeout != c.want {
			t.Errorf("JobTimeout %s: DeliveryTimeout %s, want %s (%v)", c.job, opt.DeliveryTimeout, c.want, err)
		}
	}
}

// ForgetInflight (the in-process sandbox, whose emulator forgets its tasks
// when the process exits) submits every journalled in-flight job anew with
// a new taskUUID and journals that it did.
func TestForgetInflight(t *testing.T) {
	old := []string{
		"11111111-1111-4111-8111-000000000000", "11111111-1111-4111-8111-000000000001",
		"11111111-1111-4111-8111-000000000002", "11111111-1111-4111-8111-000000000003",
	}
	seed := func(e *env) {
		var recs []record
		for i, state := range []string{evSubmitting, evAccepted, evInflight, evUndelivered} {
			id := fmt.Sprintf("job-%03d", i)
			recs = append(recs, record{Ev: evPlanned, Job: id, FP: "fp-" + id, Est: 462},
				record{Ev: evSubmitting, Job: id, Task: old[i], FP: "fp-" + id})
			if state != evSubmitting {
				recs = append(recs, record{Ev: state, Job: id, Task: old[i], Cost: 462})
			}
		}
		e.seed(recs...)
	}
	e := newEnv(t, 4)
	seed(e)
	e.opt.ForgetInflight = true
	e.opt.Only = OnlyPending // forgotten jobs count as never submitted
	rep := e.run(context.Background())
	if !rep.Done() || len(rep.Jobs) != 4 || e.api.accepted() != 4 {
		t.Fatalf("stopped %q jobs %d accepted %d", rep.StoppedBy, len(rep.Jobs), e.api.accepted())
	}
	for i, task := range e.api.submitted() {
		if task.Resend || task.TaskUUID == old[0] || task.TaskUUID == old[1] || task.TaskUUID == old[2] || task.TaskUUID == old[3] {
			t.Errorf("submission %d reused a forgotten task: %+v", i, task)
		}
	}
	for _, j := range rep.Jobs {
		if !strings.Contains(j.Note, "forgotten") || j.State != StateSucceeded {
			t.Errorf("%s: %+v", j.ID, j)
		}
	}
	d := e.journal()
	for i := range old {
		if s := d.states[fmt.Sprintf("job-%03d", i)]; s.State != StateSucceeded || s.Task == old[i] || s.Tasks != 2 {
			t.Errorf("journal %+v", s)
		}
	}

	// Without it, the same journal is resumed: the journalled taskUUIDs.
	e2 := newEnv(t, 4)
	seed(e2)
	e2.run(context.Background())
	if subs := e2.api.submitted(); len(subs) != 1 || subs[0].TaskUUID != old[0] || !subs[0].Resend {
		t.Errorf("without ForgetInflight: submissions %+v", subs)
	}
}

// Messages in reports are composed from the API error's fields: class and
// code are reported beside the message, never repeated inside it; secrets
// are still scrubbed, and context wrapped around the error is kept.
func TestErrorMessages(t *testing.T) {
	r := &runner{scrub: scrubber{secrets: []string{apiSecret}}}
	for _, c := range []struct {
		name           string
		err            error
		cls, code, msg string
	}{
		{"code and message", &runware.Error{Class: runware.Permanent, Code: "downloadFailed", HTTPStatus: 200, Message: "cannot fetch the video"},
			"permanent", "downloadFailed", "cannot fetch the video"},
		{"no code", &runware.Error{Class: runware.Transient, HTTPStatus: 503, Message: "unavailable"},
			"transient", "", "HTTP 503: unavailable"},
		{"transport", &runware.Error{Class: runware.Transient, Err: errors.New(`Post "https://api.test/v1?key=` + apiSecret + `": reset`)},
			"transient", "", `Post "https://api.test/v1?REDACTED": reset`},
		{"parameter", &runware.Error{Class: runware.Permanent, Code: "invalidEnum", Parameter: "outputFormat", Message: "bad value",
			AllowedValues: []string{"MP4", "WEBM"}}, "permanent", "invalidEnum", "parameter outputFormat: bad value (allowed: MP4, WEBM)"},
		{"wrapped", fmt.Errorf("poll: %w", &runware.Error{Class: runware.Fatal, Code: "invalidApiKey", Message: "key " + apiSecret + " rejected"}),
			"fatal", "invalidApiKey", "poll: key REDACTED rejected"},
		{"plain", errors.New("boom"), "transient", "", "boom"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cls, code, msg := r.errInfo(c.err)
			if cls != c.cls || code != c.code || msg != c.msg {
				t.Errorf("got %q %q %q, want %q %q %q", cls, code, msg, c.cls, c.code, c.msg)
			}
		})
	}

	// In the summary: "class code: message", once.
	e := newEnv(t, 1)
	e.api.onWait = func(ctx context.Context, ft *fakeTask) error {
		return &runware.Error{Class: runware.Permanent, Code: "downloadFailed", HTTPStatus: 200,
			Message: "cannot fetch the video", Terminal: true}
	}
	rep := e.run(context.Background())
	var b strings.Builder
	rep.WriteSummary(&b)
	if !strings.Contains(b.String(), "permanent downloadFailed: cannot fetch the video\n") || strings.Count(b.String(), "downloadFailed") != 1 {
		t.Errorf("summary:\n%s", b.String())
	}
}
