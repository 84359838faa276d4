package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/runware"
	"github.com/dubline/dubline/storage"
)

// outcome is how one task attempt ended, as far as the job loop cares.
type outcome int

const (
	outDone       outcome = iota // state recorded; nothing more this run
	outRegenerate                // the task failed terminally; a new task may succeed
	outStop                      // cancelled or the journal failed; state left as journalled
)

// step is how a task attempt starts.
type step struct {
	uuid   string // "" for a new task
	resend bool   // re-send uuid (it may have reached the server)
	poll   bool   // uuid was accepted: only poll it
}

// runJob runs one job to a recorded state. It never returns an error:
// the outcome is in w.rep and the journal.
func (r *runner) runJob(runCtx, ctx context.Context, w *work) {
	defer r.settleEnd(w)
	switch w.act {
	case actResume:
		r.resume(runCtx, ctx, w)
	case actVerify:
		outs, ok, err := r.verifyDone(ctx, w.job)
		switch {
		case err != nil:
			w.rep.State, w.rep.ErrorClass, w.rep.ErrorCode = StateFailed, "output", "statFailed"
			w.rep.ErrorMessage = "could not verify the outputs of the earlier run (not redone): " + r.scrub.err(err)
		case ok:
			w.rep.State, w.rep.Skipped, w.rep.Outputs = StateSucceeded, true, outs
		default:
			w.rep.Note = joinNote(w.rep.Note, "output missing from the destination; redone")
			r.fresh(runCtx, ctx, w)
		}
	default:
		r.fresh(runCtx, ctx, w)
	}
}

// settleEnd releases the reservation of a job that ended without a task
// that may have been billed; one whose task's outcome is unknown keeps it
// (reported Reserved).
func (r *runner) settleEnd(w *work) {
	if !w.held {
		r.bud.settle(w.reserved, 0)
		w.reserved = 0
	}
	if w.rep.State == StateFailed || w.rep.State == StateUndelivered {
		if n := r.failures.Add(1); r.maxFailures >= 0 && n > int64(r.maxFailures) {
			r.stop(StopFailures, fmt.Sprintf("%d jobs failed in this run, more than limits.maxFailures %s allows (%d of %d selected)",
				n, r.plan.MaxFailures, r.maxFailures, len(r.works)))
		}
	}
	if w.rep.State != StatePending && w.rep.Finished.IsZero() {
		w.rep.Finished = r.opt.Now()
	}
}

// fresh submits a new task for the job, within the budget.
func (r *runner) fresh(runCtx, ctx context.Context, w *work) {
	if r.stopped(runCtx) {
		return
	}
	existing, err := r.existingOutputs(ctx, w.job)
	if err != nil {
		r.fail(w, "output", "statFailed", "checking the destination: "+r.scrub.err(err))
		return
	}
	if blocksSubmit(existing, w.known, r.opt.Overwrite) {
		r.fail(w, "output", "outputExists", fmt.Sprintf("output %q already exists in %s; use --overwrite to replace it",
			existing[0], r.opt.Dest.String()))
		return
	}
	if !r.reserve(w) {
		return
	}
	w.copy = len(existing) > 0 // a stale object must not pass for the new result
	r.loop(runCtx, ctx, w, step{})
}

// reserve books the job's estimate (scaled by the worst drift seen) in the
// budget before a new task, or stops the run (StopBudget) when it does not
// fit.
func (r *runner) reserve(w *work) bool {
	need := r.bud.scaled(w.est)
	if !r.bud.reserve(need) {
		spent, reserved := r.bud.snapshot()
		r.stop(StopBudget, fmt.Sprintf("job %s (reserving %s) would exceed the budget %s of %s (spent %s, reserved %s)",
			w.job.ID, need, r.plan.Budget, r.windowName(), spent, reserved))
		return false
	}
	w.reserved, w.outside = need, false
	return true
}

// resume continues a task an earlier run journalled, with its taskUUID.
func (r *runner) resume(runCtx, ctx context.Context, w *work) {
	if !r.mayResume(runCtx) {
		return
	}
	js := w.js
	w.known, w.copy, w.billed = true, js.Copy, js.Billed
	if js.Billed {
		w.rep.Actual = js.Cost
	} else {
		// A task submitted in the open window is already counted in it; one
		// from an earlier window counts there; one from before any window
		// (an older journal) counts here.
		r.winMu.Lock()
		t, counted := r.money.inWindow(js.Task, r.win)
		elsewhere := r.money.countsElsewhere(js.Task, r.win)
		r.winMu.Unlock()
		switch {
		case counted:
			w.reserved, w.held = t.est, true
		case elsewhere:
			w.outside = true
		default:
			r.bud.force(w.est)
			w.reserved, w.held = w.est, true
		}
	}
	if js.State == StateSubmitting {
		r.log.Info("re-sending journalled task", "job", w.job.ID, "task", js.Task)
		r.loop(runCtx, ctx, w, step{uuid: js.Task, resend: true})
		return
	}
	r.log.Info("polling journalled task", "job", w.job.ID, "task", js.Task, "state", js.State)
	r.loop(runCtx, ctx, w, step{uuid: js.Task, poll: true})
}

// loop runs task attempts, replacing a task that failed with a
// Regenerate-class error by a new one, up to MaxRegenerate times.
func (r *runner) loop(runCtx, ctx context.Context, w *work, st step) {
	for regen := 0; ; regen++ {
		if r.attempt(runCtx, ctx, w, st) != outRegenerate {
			return
		}
		if regen >= r.opt.MaxRegenerate || r.stopped(runCtx) {
			return
		}
		if w.reserved == 0 && !r.reserve(w) { // a resumed task from an earlier window held none
			return
		}
		r.log.Info("regenerating with a new task", "job", w.job.ID, "attempt", regen+2)
		st = step{}
	}
}

// attempt runs one task: journal, submit, poll, deliver.
func (r *runner) attempt(runCtx, ctx context.Context, w *work, st step) outcome {
	if st.poll {
		w.rep.TaskUUID = st.uuid
		return r.follow(ctx, w, st.uuid)
	}
	task, uploading, err := r.buildTask(ctx, w.job)
	if err != nil {
		if st.resend {
			w.rep.TaskUUID = st.uuid
		}
		return r.conclude(w, phaseInputs, facts{accepted: st.resend}, err, "resolving inputs: ", nil)
	}
	w.copy = w.copy || !uploading
	task.TaskUUID, task.Resend = st.uuid, st.resend
	// Resolving and staging inputs can take long: a SIGINT, the plan
	// deadline or a fatal error may have come meanwhile. No request may
	// leave after that; the journal still says pending (or submitting, for
	// a re-send, which the next run makes). A budget stop does not stop a
	// job that already holds its reservation: it fits.
	if st.uuid == "" && !r.maySubmit(runCtx, w) || st.uuid != "" && !r.mayResume(runCtx) {
		r.log.Info("run stopping; not submitting", "job", w.job.ID)
		return outDone
	}
	if st.uuid == "" {
		task.TaskUUID = r.opt.NewUUID()
		// Durable before the request leaves: a crash from here on finds
		// "submitting" and re-sends this same taskUUID.
		if !r.ensureWindow(r.opt.Now(), "") ||
			!r.record(w, record{Ev: evSubmitting, Task: task.TaskUUID, FP: w.job.Fingerprint, Est: w.est, Copy: w.copy}) {
			return outStop
		}
		w.rep.Attempts++
		w.billed, w.held = false, true
	}
	w.rep.TaskUUID, w.rep.State, w.rep.Started = task.TaskUUID, StateSubmitting, r.opt.Now()
	return r.submit(ctx, w, task)
}

// submit sends the task and follows it when accepted.
func (r *runner) submit(ctx context.Context, w *work, task runware.Task) outcome {
	res, err := r.opt.API.Submit(ctx, task)
	if err != nil {
		return r.submitFailed(ctx, w, task, err)
	}
	if res.Conflict {
		r.log.Info("task was accepted by an earlier attempt; polling it", "job", w.job.ID, "task", task.TaskUUID)
	}
	if !r.record(w, record{Ev: evAccepted, Task: task.TaskUUID}) {
		return outStop
	}
	w.rep.State = StateAccepted
	r.log.Debug("task accepted", "job", w.job.ID, "task", task.TaskUUID, "attempts", res.Attempts)
	return r.follow(ctx, w, task.TaskUUID)
}

func (r *runner) submitFailed(ctx context.Context, w *work, task runware.Task, err error) outcome {
	if ctx.Err() != nil {
		return outStop // journal says submitting: the next run re-sends this taskUUID
	}
	return r.conclude(w, phaseSubmit, factsOf(err, task.Resend), err, "", nil)
}

// follow polls an accepted task and delivers its outputs.
func (r *runner) follow(ctx context.Context, w *work, uuid string) outcome {
	wctx := ctx
	if r.plan.JobTimeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, r.plan.JobTimeout)
		defer cancel()
	}
	res, err := r.opt.API.Wait(wctx, uuid, w.numberResults())
	if err != nil {
		return r.waitFailed(ctx, wctx, w, err)
	}
	r.bill(w, res)
	dctx, cancel := context.WithTimeout(ctx, r.opt.DeliveryTimeout)
	outs, err := r.deliver(dctx, w, res)
	cancel()
	if err != nil {
		w.rep.Outputs = outs
		f := facts{sourceGone: errors.Is(err, storage.ErrSourceGone) && ctx.Err() == nil}
		lead := ""
		switch {
		case f.sourceGone:
			lead = "the result can no longer be fetched from Runware (result URL expired or gone); the next run generates it again: "
		case dctx.Err() == context.DeadlineExceeded && ctx.Err() == nil:
			lead = fmt.Sprintf("delivery did not finish within %s: ", r.opt.DeliveryTimeout)
		}
		out := r.conclude(w, phaseDeliver, f, err, lead, res)
		if ctx.Err() != nil {
			return outStop
		}
		return out
	}
	if !r.record(w, record{Ev: evSucceeded, Task: uuid, Outputs: outs, Cost: w.rep.Actual, CostReported: res.CostReported}) {
		return outStop
	}
	w.rep.State, w.rep.Outputs, w.rep.Finished = StateSucceeded, outs, r.opt.Now()
	w.rep.ErrorClass, w.rep.ErrorCode, w.rep.ErrorMessage = "", "", ""
	r.log.Info("job succeeded", "job", w.job.ID, "task", uuid, "cost", w.rep.Actual.String(), "estimate", w.est.String())
	return outDone
}

// bill replaces the job's reservation by the actual cost: the reported
// cost, else the estimate. A cost recorded by an earlier run (a resumed
// undelivered task) is not billed again.
func (r *runner) bill(w *work, res *runware.Result) {
	actual := w.est
	if res.CostReported {
		actual = kling.FromUSD(res.Cost)
	}
	w.rep.Actual = actual
	if w.billed {
		return
	}
	if w.outside { // it counts in the earlier window it was submitted in
		w.billed, w.rep.Billed = true, true
		return
	}
	r.bud.settle(w.reserved, actual)
	r.bud.learn(w.est, actual)
	w.reserved, w.held, w.billed, w.rep.Billed = 0, false, true, true
	if d := actual - w.est; d != 0 {
		r.log.Warn("cost differs from the estimate", "job", w.job.ID, "estimate", w.est.String(), "cost", actual.String(), "drift", d.String())
	}
}

func (r *runner) waitFailed(ctx, wctx context.Context, w *work, err error) outcome {
	if ctx.Err() != nil {
		return outStop // journal says accepted: the next run polls it
	}
	f := factsOf(err, false)
	if wctx.Err() != nil {
		f = facts{timedOut: true}
		err = fmt.Errorf("no result within the job timeout %s; polled again by the next run", r.plan.JobTimeout)
	}
	if f.gone {
		r.lookForOutputs(ctx, w, &f)
	}
	return r.conclude(w, phaseWait, f, err, "", nil)
}

// lookForOutputs checks, for a task Runware no longer knows, whether it
// delivered through the presigned PUT it was handed: then the job is done
// and must not be paid for again. An object found is proof only when the
// key was empty at submission and Runware was given the upload URL
// (!w.copy).
func (r *runner) lookForOutputs(ctx context.Context, w *work, f *facts) {
	if w.copy {
		return
	}
	outs, ok, err := r.verifyDone(ctx, w.job)
	switch {
	case err != nil:
		f.unchecked = true
		r.log.Warn("task gone from Runware; could not check its outputs", "job", w.job.ID, "err", r.scrub.err(err))
	case ok:
		f.delivered = true
		w.rep.Outputs = outs
	}
}

// conclude journals and reports what judge decided for the attempt of w
// that err ended; lead goes before the error's message. res is the
// finished task, for a delivery failure.
func (r *runner) conclude(w *work, ph phase, f facts, err error, lead string, res *runware.Result) outcome {
	cls, code, msg := r.errInfo(err)
	v := judge(ph, f)
	if v.stop {
		r.stop(StopFatal, withCode(code, msg))
	}
	if v.class != "" {
		cls, code = v.class, v.code
	}
	msg = lead + v.note + msg
	if v.billed && !w.billed && (v.state == StateFailed || v.state == StateSucceeded) {
		r.bill(w, &runware.Result{}) // the task ended; Runware reported no cost: the estimate
	}
	w.held = w.held && v.billed
	uuid := w.rep.TaskUUID
	switch v.state {
	case StateSucceeded:
		w.rep.Note = joinNote(w.rep.Note, v.note)
		r.log.Warn("task gone from Runware; its output is in the destination", "job", w.job.ID, "task", uuid)
		if !r.record(w, record{Ev: evSucceeded, Task: uuid, Outputs: w.rep.Outputs, Cost: w.rep.Actual}) {
			return outStop
		}
		w.rep.State, w.rep.Finished = StateSucceeded, r.opt.Now()
		w.rep.ErrorClass, w.rep.ErrorCode, w.rep.ErrorMessage = "", "", ""
		return outDone
	case StateFailed:
		r.fail(w, cls, code, msg)
	case StateSubmitting:
		r.log.Warn("submit failed; the task will be re-sent with the same taskUUID next run", "job", w.job.ID, "task", uuid, "err", msg)
		r.record(w, record{Ev: evSubmitError, Task: uuid, Class: cls, Code: code, Msg: msg})
	case StateInflight:
		r.log.Warn("task still in flight; the next run polls it", "job", w.job.ID, "task", uuid, "err", msg)
		r.record(w, record{Ev: evInflight, Task: uuid, Class: cls, Code: code, Msg: msg})
	case StateUndelivered:
		r.log.Warn("output not delivered; the next run polls the same task and retries", "job", w.job.ID, "task", uuid, "err", msg)
		r.record(w, record{Ev: evUndelivered, Task: uuid, Cost: w.rep.Actual, CostReported: res.CostReported,
			Class: cls, Code: code, Msg: msg})
	}
	w.rep.State, w.rep.ErrorClass, w.rep.ErrorCode, w.rep.ErrorMessage = v.state, cls, code, msg
	if v.regenerate {
		return outRegenerate
	}
	return outDone
}

// fail journals a terminal failure of the job's current attempt.
func (r *runner) fail(w *work, class, code, msg string) {
	w.rep.State, w.rep.ErrorClass, w.rep.ErrorCode, w.rep.ErrorMessage = StateFailed, class, code, msg
	w.rep.Finished = r.opt.Now()
	r.log.Warn("job failed", "job", w.job.ID, "task", w.rep.TaskUUID, "class", class, "code", code, "err", msg)
	rec := record{Ev: evFailed, Task: w.rep.TaskUUID, Class: class, Code: code, Msg: msg}
	if w.billed { // the ledger keeps counting it
		rec.Cost, rec.Billed = w.rep.Actual, true
	}
	r.record(w, rec)
}

// record appends records durably. On failure the run stops (exit 1): the
// executor must not act on a state it could not write down.
func (r *runner) record(w *work, recs ...record) bool {
	for i := range recs {
		if recs[i].T.IsZero() {
			recs[i].T = r.opt.Now()
		}
		if w != nil && recs[i].Job == "" {
			recs[i].Job = w.job.ID
		}
	}
	if err := r.j.append(recs...); err != nil {
		r.stop(StopInternal, r.scrub.err(err))
		return false
	}
	return true
}

// errInfo describes an error for the report and journal, scrubbed. For a
// *runware.Error the message is composed from its fields: the class and
// code are reported in their own fields (the summary prints
// "class code: message"), so err.Error(), which starts with both, would
// repeat them.
func (r *runner) errInfo(err error) (class, code, msg string) {
	var e *runware.Error
	if !errors.As(err, &e) {
		return runware.ClassOf(err).String(), "", r.scrub.err(err)
	}
	text := apiErrorText(e)
	// Keep context a caller wrapped around the API error.
	if full, own := err.Error(), e.Error(); full != own && strings.HasSuffix(full, own) {
		text = strings.TrimSuffix(full, own) + text
	}
	return e.Class.String(), e.Code, r.scrub.text(text)
}

// apiErrorText is "parameter p: message (allowed: ...)", each part only
// when present; "HTTP n" leads when there is no code to say what failed.
func apiErrorText(e *runware.Error) string {
	var head []string
	if e.Code == "" && e.HTTPStatus != 0 {
		head = append(head, fmt.Sprintf("HTTP %d", e.HTTPStatus))
	}
	if e.Parameter != "" {
		head = append(head, "parameter "+e.Parameter)
	}
	body := e.Message
	if body == "" && e.Err != nil {
		body = e.Err.Error()
	}
	if len(e.AllowedValues) > 0 {
		body = strings.TrimSpace(body + " (allowed: " + strings.Join(e.AllowedValues, ", ") + ")")
	}
	h := strings.Join(head, " ")
	switch {
	case h == "" && body == "":
		return "no details given"
	case h == "":
		return body
	case body == "":
		return h
	}
	return h + ": " + body
}

// withCode is "code: msg" for texts shown without the code beside them
// (the reason a run stopped).
func withCode(code, msg string) string {
	if code == "" {
		return msg
	}
	return code + ": " + msg
}

func (w *work) numberResults() int {
	if n := len(w.job.OutputKeys); n > 0 {
		return n
	}
	return w.job.Request.NumberResults()
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
