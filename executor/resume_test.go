package executor

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/runware"
)

// seed writes journal records as if an earlier run had crashed after them.
func (e *env) seed(recs ...record) {
	e.t.Helper()
	e.seedAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), recs...)
}

// seedAt writes a journal whose records all carry time at.
func (e *env) seedAt(at time.Time, recs ...record) {
	e.t.Helper()
	path := JournalPath(e.opt.StateDir, e.plan.Name)
	os.MkdirAll(filepath.Dir(path), 0o755)
	var b []byte
	for _, r := range recs {
		r.T = at
		line, _ := json.Marshal(r)
		b = append(append(b, line...), '\n')
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// preAccept makes the fake server know a task, as if an earlier (crashed)
// run's request had arrived.
func (e *env) preAccept(jobIdx int, uuid string) {
	j := e.plan.Jobs[jobIdx]
	task := runware.Task{TaskUUID: uuid, Request: kling.DefaultRequest()}
	task.Request.SetUploadEndpoint("https://sink.test/" + j.OutputKeys[0] + "?X-Amz-Signature=" + sinkSig)
	e.api.tasks[uuid] = &fakeTask{task: task}
	e.api.order = append(e.api.order, uuid)
}

const crashedUUID = "11111111-1111-4111-8111-111111111111"

// Guarantee 4 / never pay twice: a crash after "submitting" was journalled.
func TestResumeSubmitting(t *testing.T) {
	for _, arrived := range []bool{true, false} {
		name := map[bool]string{true: "request arrived", false: "request never left"}[arrived]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, 2)
			e.seed(record{Ev: evPlanned, Job: "job-000", FP: "fp-job-000", Est: 462},
				record{Ev: evSubmitting, Job: "job-000", Task: crashedUUID, FP: "fp-job-000", Est: 462})
			if arrived {
				e.preAccept(0, crashedUUID)
			}
			rep := e.run(context.Background())
			if !rep.Done() {
				t.Fatalf("stopped %q: %+v", rep.StoppedBy, rep.Jobs)
			}
			var resends int
			for _, task := range e.api.submitted() {
				if task.TaskUUID == crashedUUID {
					resends++
					if !task.Resend {
						t.Error("re-send without Resend=true")
					}
				}
			}
			if resends != 1 {
				t.Errorf("job-000 re-sent %d times, want 1", resends)
			}
			if got := e.api.accepted(); got != 2 { // job-000 once, job-001 once
				t.Errorf("billed %d tasks, want 2", got)
			}
			j := jobByID(t, rep, "job-000")
			if j.TaskUUID != crashedUUID || j.State != StateSucceeded || j.Attempts != 1 {
				t.Errorf("job-000 %+v", j)
			}
		})
	}
}

// Guarantee 4: a crash while polling: the task is polled, never re-sent.
func TestResumeAccepted(t *testing.T) {
	e := newEnv(t, 1)
	e.seed(record{Ev: evPlanned, Job: "job-000", FP: "fp-job-000", Est: 462},
		record{Ev: evSubmitting, Job: "job-000", Task: crashedUUID, FP: "fp-job-000"},
		record{Ev: evAccepted, Job: "job-000", Task: crashedUUID})
	e.preAccept(0, crashedUUID)
	rep := e.run(context.Background())
	if !rep.Done() || e.api.submitCount() != 0 || e.api.accepted() != 1 {
		t.Fatalf("stopped %q submits %d accepted %d", rep.StoppedBy, e.api.submitCount(), e.api.accepted())
	}
	if j := rep.Jobs[0]; j.TaskUUID != crashedUUID || !j.Billed || j.Actual != 462 {
		t.Errorf("%+v", j)
	}
	if e.sink.copyCount() != 0 {
		t.Error("uploadEndpoint delivered; no copy expected")
	}
}

// The job timeout passes or polling hits a transient error: the job
// stays in flight and the next run polls the same task.
func TestInflightPolledNextRun(t *testing.T) {
	for _, name := range []string{"job timeout", "transient"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, 2)
			e.plan.JobTimeout = 50 * time.Millisecond
			e.api.onWait = func(ctx context.Context, ft *fakeTask) error {
				if !strings.Contains(ft.task.Video, "job-001") {
					return nil
				}
				if name == "job timeout" {
					<-ctx.Done() // still rendering when the job timeout passes
					return ctx.Err()
				}
				return &runware.Error{Class: runware.Transient, Code: "x", Message: "still processing"}
			}
			rep := e.run(context.Background())
			if rep.StoppedBy != "" || rep.Done() || jobByID(t, rep, "job-001").State != StateInflight || rep.Totals.InFlight != 1 {
				t.Fatalf("stopped %q %+v", rep.StoppedBy, rep.Jobs)
			}
			if rep.Totals.Reserved != 462 {
				t.Errorf("an in-flight task keeps its reservation; reserved %s", rep.Totals.Reserved)
			}
			e.api.onWait = nil
			rep = e.run(context.Background())
			if !rep.Done() || e.api.submitCount() != 2 || e.api.accepted() != 2 {
				t.Errorf("stopped %q submits %d accepted %d", rep.StoppedBy, e.api.submitCount(), e.api.accepted())
			}
		})
	}
}

// plan.JobTimeout bounds polling in this run; the task stays in flight.
func TestJobTimeout(t *testing.T) {
	e := newEnv(t, 1)
	e.plan.JobTimeout = 20 * time.Millisecond
	e.api.onWait = func(ctx context.Context, ft *fakeTask) error { <-ctx.Done(); return ctx.Err() }
	rep := e.run(context.Background())
	if j := rep.Jobs[0]; j.State != StateInflight || j.ErrorCode != "jobTimeout" || rep.StoppedBy != "" || rep.Done() {
		t.Fatalf("stopped %q %+v", rep.StoppedBy, j)
	}
	e.api.onWait = nil
	if rep := e.run(context.Background()); !rep.Done() || e.api.accepted() != 1 {
		t.Errorf("stopped %q accepted %d", rep.StoppedBy, e.api.accepted())
	}
}

// A transient submit error may hide an accepted task: the same taskUUID
// is re-sent by the next run, never a new one.
func TestTransientSubmitResentNextRun(t *testing.T) {
	e := newEnv(t, 1)
	e.api.onSubmit = func(task runware.Task, call int) error {
		return &runware.Error{Class: runware.Transient, HTTPStatus: 503, Message: "unavailable"}
	}
	rep := e.run(context.Background())
	j := rep.Jobs[0]
	if j.State != StateSubmitting || rep.StoppedBy != "" || rep.Done() || j.ErrorClass != "transient" {
		t.Fatalf("stopped %q %+v", rep.StoppedBy, j)
	}
	first := j.TaskUUID
	e.api.onSubmit = nil
	rep = e.run(context.Background())
	subs := e.api.submitted()
	if !rep.Done() || len(subs) != 2 || subs[1].TaskUUID != first || !subs[1].Resend {
		t.Errorf("stopped %q submissions %+v", rep.StoppedBy, subs)
	}
}

// Done jobs are skipped if their outputs are there; a missing output is
// redone; a changed fingerprint is redone only with Only=changed; a failed
// job is retried with a new task.
func TestResumeSelection(t *testing.T) {
	e := newEnv(t, 4)
	e.api.onSubmit = func(task runware.Task, call int) error {
		if strings.Contains(task.Video, "job-003") && call <= 4 {
			return &runware.Error{Class: runware.Permanent, Code: "invalidAudio"}
		}
		return nil
	}
	rep := e.run(context.Background())
	if rep.Totals.Succeeded != 3 || rep.Totals.Failed != 1 {
		t.Fatalf("first run %+v", rep.Totals)
	}
	// Nothing to do but the failed job; Only=pending selects nothing.
	e.opt.Only = OnlyPending
	if rep := e.run(context.Background()); len(rep.Jobs) != 0 || !rep.Done() {
		t.Errorf("only pending: %d jobs stopped %q", len(rep.Jobs), rep.StoppedBy)
	}
	e.opt.Only = OnlyFailed
	rep = e.run(context.Background())
	if len(rep.Jobs) != 1 || rep.Jobs[0].ID != "job-003" || rep.Jobs[0].State != StateSucceeded || rep.Jobs[0].Attempts != 2 {
		t.Fatalf("only failed: %+v", rep.Jobs)
	}
	submits := e.api.submitCount()

	// All done: a plain run skips everything at no cost.
	e.opt.Only = OnlyAll
	rep = e.run(context.Background())
	if rep.Totals.Skipped != 4 || e.api.submitCount() != submits || rep.Totals.Spent != 0 || !rep.Done() {
		t.Fatalf("rerun %+v", rep.Totals)
	}

	// A lost output is redone; a changed job is left alone (with a note).
	e.sink.del("job-001.mp4")
	e.plan.Jobs[2].Fingerprint = "fp-changed"
	rep = e.run(context.Background())
	if j := jobByID(t, rep, "job-001"); j.Skipped || j.State != StateSucceeded || j.Attempts != 2 {
		t.Errorf("job-001 %+v", j)
	}
	if j := jobByID(t, rep, "job-002"); !j.Skipped || !strings.Contains(j.Note, "--only changed") {
		t.Errorf("job-002 %+v", j)
	}
	if e.api.submitCount() != submits+1 {
		t.Errorf("submits %d, want %d", e.api.submitCount(), submits+1)
	}

	// Only=changed redoes exactly the changed job, replacing its output.
	e.opt.Only = OnlyChanged
	rep = e.run(context.Background())
	if len(rep.Jobs) != 1 || rep.Jobs[0].ID != "job-002" || rep.Jobs[0].Skipped || rep.Jobs[0].State != StateSucceeded {
		t.Fatalf("only changed %+v", rep.Jobs)
	}
	if e.sink.copyCount() != 1 {
		t.Errorf("a redone job whose old output exists must copy the new result (stale object); copies %d", e.sink.copyCount())
	}
	e.opt.Only = OnlyChanged
	if rep := e.run(context.Background()); len(rep.Jobs) != 0 {
		t.Errorf("changed job redone twice: %+v", rep.Jobs)
	}
}
