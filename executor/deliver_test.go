package executor

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dubline/dubline/internal/testutil"
	"github.com/dubline/dubline/kling"

	"github.com/dubline/dubline/runware"
)

// Guarantee 5: a result uploadEndpoint did not deliver (or delivered
// wrong) is copied from videoURL at once; a job succeeds only verified.
func TestOutputFallbackCopy(t *testing.T) {
	cases := []struct {
		name       string
		setup      func(e *env)
		wantCopies int
		wantCT     string
	}{
		{"upload delivered", func(e *env) {}, 0, "video/mp4"},
		{"upload missing", func(e *env) { e.api.upload = false }, 2, "video/mp4"},
		{"wrong content type", func(e *env) { e.api.uploadCT = "application/octet-stream" }, 2, "video/mp4"},
		{"no upload URL", func(e *env) { e.sink.noUpload = true }, 2, "video/mp4"},
		{"user uploadEndpoint", func(e *env) {
			for i := range e.plan.Jobs {
				e.plan.Jobs[i].Request.SetUploadEndpoint("https://user.test/put")
			}
		}, 2, "video/mp4"},
		{"webm", func(e *env) {
			for i := range e.plan.Jobs {
				e.plan.Jobs[i].Request.Set("outputFormat", kling.Str("WEBM"))
				e.plan.Jobs[i].OutputKeys = []string{e.plan.Jobs[i].ID + ".webm"}
			}
		}, 0, "video/webm"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 2)
			c.setup(e)
			rep := e.run(context.Background())
			if !rep.Done() {
				t.Fatalf("stopped %q %+v", rep.StoppedBy, rep.Jobs)
			}
			if got := e.sink.copyCount(); got != c.wantCopies {
				t.Errorf("copies %d, want %d", got, c.wantCopies)
			}
			for _, j := range rep.Jobs {
				o, err := e.sink.Stat(context.Background(), j.Outputs[0].Key)
				if err != nil || o.ContentType != c.wantCT || o.Size <= 0 {
					t.Errorf("%s: object %+v %v", j.ID, o, err)
				}
			}
		})
	}
}

// numberResults > 1: every result is copied to its own key.
func TestMultipleResults(t *testing.T) {
	e := newEnv(t, 1)
	j := &e.plan.Jobs[0]
	j.Request.Set("numberResults", kling.Num(3))
	j.OutputKeys = []string{"a_1.mp4", "a_2.mp4", "a_3.mp4"}
	rep := e.run(context.Background())
	if !rep.Done() || len(rep.Jobs[0].Outputs) != 3 || e.sink.copyCount() != 3 {
		t.Fatalf("stopped %q outputs %+v copies %d", rep.StoppedBy, rep.Jobs[0].Outputs, e.sink.copyCount())
	}
	if sub := e.api.submitted()[0]; sub.Request.UploadEndpoint() != "" || sub.Request.NumberResults() != 3 {
		t.Errorf("task %+v", sub)
	}
	// Fewer results than asked: not a success, and not paid twice.
	e2 := newEnv(t, 1)
	e2.plan.Jobs[0].Request.Set("numberResults", kling.Num(2))
	e2.plan.Jobs[0].OutputKeys = []string{"b_1.mp4", "b_2.mp4"}
	e2.api.items = func(runware.Task) int { return 1 }
	rep = e2.run(context.Background())
	if rep.Jobs[0].State != StateUndelivered || rep.StoppedBy != "" || rep.Done() {
		t.Errorf("short result: %+v", rep.Jobs[0])
	}
}

// Delivery that fails after the task succeeded is journalled as
// undelivered; the next run polls the same task (not billed again) and
// retries the copy.
func TestUndeliveredRetriedWithoutRepaying(t *testing.T) {
	e := newEnv(t, 1)
	e.api.upload = false
	e.sink.copyFail = 100
	rep := e.run(context.Background())
	j := rep.Jobs[0]
	if j.State != StateUndelivered || rep.StoppedBy != "" || rep.Done() || !j.Billed || rep.Totals.Spent != 462 {
		t.Fatalf("stopped %q %+v", rep.StoppedBy, j)
	}
	if e.sink.copyCount() != 1 { // the destination retries inside one copy
		t.Errorf("copies %d, want 1", e.sink.copyCount())
	}
	e.sink.copyFail = 0
	rep = e.run(context.Background())
	j = rep.Jobs[0]
	if !rep.Done() || j.State != StateSucceeded || e.api.submitCount() != 1 || e.api.accepted() != 1 {
		t.Fatalf("second run stopped %q %+v submits %d", rep.StoppedBy, j, e.api.submitCount())
	}
	if j.Billed || rep.Totals.Spent != 0 {
		t.Errorf("billed again in the second run: %+v spent %s", j, rep.Totals.Spent)
	}
	if s := e.journal().states["job-000"]; s.Cost != 462 || s.State != StateSucceeded {
		t.Errorf("journal %+v", s)
	}
}

// Guarantee 5: existing outputs the journal does not own are not
// overwritten unless Overwrite; with Overwrite the new result is copied
// (a Stat of the stale object is no proof).
func TestExistingOutput(t *testing.T) {
	e := newEnv(t, 2)
	e.sink.put("job-001.mp4", 10, "video/mp4")
	rep := e.run(context.Background())
	j := jobByID(t, rep, "job-001")
	if j.State != StateFailed || j.ErrorCode != "outputExists" || !strings.Contains(j.ErrorMessage, "--overwrite") {
		t.Fatalf("job-001 %+v", j)
	}
	if rep.StoppedBy != "" || rep.Done() || e.api.submitCount() != 1 {
		t.Errorf("stopped %q submits %d", rep.StoppedBy, e.api.submitCount())
	}
	e.opt.Overwrite = true
	rep = e.run(context.Background())
	j = jobByID(t, rep, "job-001")
	if j.State != StateSucceeded || e.sink.copyCount() != 1 || j.Outputs[0].Size == 10 {
		t.Errorf("overwrite: %+v copies %d", j, e.sink.copyCount())
	}
}

// Inputs that cannot be resolved fail the job before anything is sent.
func TestInputFailure(t *testing.T) {
	e := newEnv(t, 2)
	e.opt.Inputs = fakeInputs{fail: true}
	rep := e.run(context.Background())
	if rep.StoppedBy != "" || rep.Done() || e.api.submitCount() != 0 || rep.Totals.Failed != 2 || rep.Totals.Reserved != 0 {
		t.Fatalf("stopped %q submits %d totals %+v", rep.StoppedBy, e.api.submitCount(), rep.Totals)
	}
}

// Stat errors that are not "not found" never lead to a redo or a submit.
func TestStatErrorIsNotMissing(t *testing.T) {
	e := newEnv(t, 1)
	e.run(context.Background())
	e.sink.statErr = errors.New("HEAD https://b.s3.test/x?X-Amz-Signature=" + sinkSig + ": 503")
	rep := e.run(context.Background())
	if j := rep.Jobs[0]; j.State != StateFailed || j.ErrorCode != "statFailed" || e.api.submitCount() != 1 {
		t.Errorf("%+v submits %d", j, e.api.submitCount())
	}
	if strings.Contains(rep.Jobs[0].ErrorMessage, sinkSig) {
		t.Error("signature in the report")
	}
}

// Guarantee 6: no presigned query string, result token or API key in the
// journal, the report (JSON and summary) or the logs, even when errors
// quote them.
func TestSecretsNeverWritten(t *testing.T) {
	var logs testutil.Buffer
	e := newEnv(t, 6)
	e.opt.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.api.upload = false // force copies from videoURL (token in the URL)
	e.sink.copyFail = 1  // and a copy error quoting it
	e.api.onSubmit = func(task runware.Task, call int) error {
		switch {
		case strings.Contains(task.Video, "job-001"):
			return &runware.Error{Class: runware.Permanent, Code: "invalidVideo",
				Message: "cannot fetch " + task.Video + " with key " + apiSecret}
		case strings.Contains(task.Video, "job-002"):
			return &runware.Error{Class: runware.Transient, Err: errors.New(`Post "` + task.Request.UploadEndpoint() + `": reset`)}
		}
		return nil
	}
	e.api.onWait = func(ctx context.Context, ft *fakeTask) error {
		if strings.Contains(ft.task.Video, "job-003") {
			return &runware.Error{Class: runware.Permanent, Terminal: true, Message: "upload to " + ft.task.Request.UploadEndpoint() + " failed"}
		}
		return nil
	}
	rep := e.run(context.Background())
	e.opt.Inputs = fakeInputs{fail: true}
	e.opt.Only = OnlyFailed
	rep2 := e.run(context.Background())

	var out bytes.Buffer
	for _, r := range []*Report{rep, rep2} {
		r.WriteJSON(&out, -1)
		r.WriteSummary(&out)
	}
	st, _ := ReadStatus(e.opt.StateDir, e.plan.Name, e.plan.BudgetWindow)
	st.WriteJSON(&out, -1)
	journal, _ := os.ReadFile(JournalPath(e.opt.StateDir, e.plan.Name))
	all := map[string]string{"journal": string(journal), "report": out.String(), "logs": logs.String()}
	for where, text := range all {
		for _, secret := range []string{"X-Amz-Signature", "X-Amz-Credential", sinkSig, inputSig, videoTok, apiSecret} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains %q", where, secret)
			}
		}
	}
	// The errors themselves must still be informative.
	if !strings.Contains(out.String(), "invalidVideo") || !strings.Contains(logs.String(), "https://inputs.test/job-001.mp4") {
		t.Errorf("scrubbing removed too much:\n%s", out.String())
	}
}

// Guarantee 7: cancellation stops new submissions; in-flight jobs keep the
// journal consistent; exit 130; the next run finishes without paying twice.
func TestInterruptAndResume(t *testing.T) {
	synctest.Test(t, testInterruptAndResume)
}

func testInterruptAndResume(t *testing.T) {
	e := newEnv(t, 12)
	e.plan.Concurrency = 4
	e.opt.Grace = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	var accepted sync.WaitGroup
	accepted.Add(4)
	e.api.onWait = func(wctx context.Context, ft *fakeTask) error {
		accepted.Done()
		<-wctx.Done() // in flight until the grace period ends
		return wctx.Err()
	}
	var cancelled time.Time
	go func() { accepted.Wait(); cancelled = time.Now(); cancel() }()
	rep := e.run(ctx)
	if rep.StoppedBy != StopInterrupt {
		t.Fatalf("stopped %q", rep.StoppedBy)
	}
	if el := time.Since(cancelled); el != e.opt.Grace {
		t.Errorf("run ended %v after the interrupt, want the grace period %v", el, e.opt.Grace)
	}
	if n := e.api.submitCount(); n != 4 {
		t.Errorf("%d submissions after cancel, want 4", n)
	}
	if c := countStates(rep); c[StateAccepted] != 4 || c[StatePending] != 8 {
		t.Errorf("states %v", c)
	}
	d := e.journal()
	for id, s := range d.states {
		if s.State != StateAccepted && s.State != StatePending {
			t.Errorf("journal %s: %s", id, s.State)
		}
	}
	e.api.onWait = nil
	rep = e.run(context.Background())
	if !rep.Done() || e.api.accepted() != 12 || e.api.submitCount() != 12 {
		t.Errorf("resume stopped %q accepted %d submits %d", rep.StoppedBy, e.api.accepted(), e.api.submitCount())
	}
}

// A job that finishes within the grace period records its success.
func TestGraceLetsInflightFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, 2)
		e.plan.Concurrency = 2
		e.opt.Grace = 5 * time.Second
		ctx, cancel := context.WithCancel(t.Context())
		e.api.onWait = func(wctx context.Context, ft *fakeTask) error {
			cancel()
			time.Sleep(20 * time.Millisecond) // the render finishes after the signal
			return nil
		}
		start := time.Now()
		rep := e.run(ctx)
		if rep.Totals.Succeeded != 2 || !rep.Done() {
			t.Errorf("stopped %q totals %+v", rep.StoppedBy, rep.Totals)
		}
		if el := time.Since(start); el != 20*time.Millisecond {
			t.Errorf("run took %v, want 20ms: the jobs' own time, not the grace period", el)
		}
	})
}

// plan.Deadline is treated like an interrupt.
func TestDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, 3)
		e.plan.Concurrency, e.opt.Grace = 1, 10*time.Millisecond
		start := time.Now()
		e.plan.Deadline = start.Add(50 * time.Millisecond)
		e.api.onWait = func(wctx context.Context, ft *fakeTask) error { <-wctx.Done(); return wctx.Err() }
		rep := e.run(t.Context())
		if rep.StoppedBy != StopDeadline || e.api.submitCount() != 1 {
			t.Errorf("stopped %q submits %d", rep.StoppedBy, e.api.submitCount())
		}
		if el := time.Since(start); el != 60*time.Millisecond {
			t.Errorf("run ended after %v, want the deadline plus the grace period, 60ms", el)
		}
	})
}

// A journal that cannot be written stops the run with exit 1, and no
// request leaves without its submitting record.
func TestJournalWriteFailure(t *testing.T) {
	e := newEnv(t, 5)
	e.plan.Concurrency = 1
	var writes int
	e.opt.journalHook = func(buf []byte) error {
		if bytes.Contains(buf, []byte(`"ev":"submitting"`)) {
			if writes++; writes == 3 {
				return errors.New("disk full")
			}
		}
		return nil
	}
	rep := e.run(context.Background())
	if rep.StoppedBy != StopInternal || !strings.Contains(rep.FatalError, "disk full") {
		t.Fatalf("stopped %q %q", rep.StoppedBy, rep.FatalError)
	}
	if n := e.api.submitCount(); n != 2 {
		t.Errorf("%d submissions, want 2 (the third was not journalled)", n)
	}
}
