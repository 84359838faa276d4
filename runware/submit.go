package runware

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/dubline/dubline/internal/redact"
)

const codeConflict = "conflictTaskUUID"

// submitReq is one Submit call waiting for its batch.
type submitReq struct {
	ctx   context.Context
	task  Task
	body  []byte // the encoded task object (encodeTask), identical on every attempt
	reply chan submitReply
	last  *Error // the error of the latest attempt, for when attempts run out
}

type submitReply struct {
	res SubmitResult
	err error
}

// Submit sends t (batched with concurrent Submit calls) and returns once
// the server has acknowledged it, refused it, or attempts ran out.
//
// Ambiguous failures are retried by re-sending the identical task object;
// a conflictTaskUUID answer to such a re-send, or to any attempt when
// t.Resend is set, returns SubmitResult{Conflict: true} and a nil error:
// the task was accepted earlier and must be polled, not paid again.
// Errors are *Error values. Attempts says how many HTTP attempts were made
// (0: the task was never sent); more than one means an earlier attempt
// may have been accepted. Terminal is set when the server refused this
// very task in its own entry of the reply (a validation error, an embedded
// status "error", a per-task insufficientCredits); it is not set for
// request-level failures, for a conflictTaskUUID on a first attempt (the
// taskUUID exists at the server, so that task may well be running), or
// for a per-task Transient error left when attempts ran out (an earlier
// attempt may have been accepted). If ctx ends first, Submit returns
// ctx.Err() and the task's fate is unknown: re-submit it later with
// Resend set.
func (c *Client) Submit(ctx context.Context, t Task) (SubmitResult, error) {
	if t.TaskUUID == "" {
		return SubmitResult{}, &Error{Class: Permanent, Message: "task has no taskUUID"}
	}
	body, err := encodeTask(t)
	if err != nil {
		return SubmitResult{}, &Error{Class: Permanent, TaskUUID: t.TaskUUID, Message: "encoding task: " + err.Error()}
	}
	r := &submitReq{ctx: ctx, task: t, body: body, reply: make(chan submitReply, 1)}
	select {
	case c.submits <- r:
	case <-ctx.Done():
		return SubmitResult{}, ctx.Err()
	case <-c.ctx.Done():
		return SubmitResult{}, ErrClosed
	}
	select {
	case rep := <-r.reply:
		return rep.res, rep.err
	case <-ctx.Done():
		return SubmitResult{}, ctx.Err()
	}
}

// runBatcher gathers Submit calls into batches of up to MaxBatch tasks,
// waiting at most BatchWindow after the first, and sends each batch on its
// own goroutine so the next one can gather meanwhile.
func (c *Client) runBatcher() {
	for {
		var first *submitReq
		select {
		case first = <-c.submits:
		case <-c.ctx.Done():
			return
		}
		batch := []*submitReq{first}
		seen := map[string]bool{first.task.TaskUUID: true}
		timer := time.NewTimer(c.o.BatchWindow)
	gather:
		for len(batch) < c.o.MaxBatch {
			select {
			case r := <-c.submits:
				if seen[r.task.TaskUUID] {
					r.reply <- submitReply{err: &Error{Class: Permanent, TaskUUID: r.task.TaskUUID,
						Message: "the same taskUUID was submitted twice at once"}}
					continue
				}
				seen[r.task.TaskUUID] = true
				batch = append(batch, r)
			case <-timer.C:
				break gather
			case <-c.ctx.Done():
				timer.Stop()
				for _, r := range batch {
					r.reply <- submitReply{err: ErrClosed}
				}
				return
			}
		}
		timer.Stop()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.sendBatch(batch)
		}()
	}
}

// batchContext is cancelled when the client closes or when every caller in
// the batch has given up.
func (c *Client) batchContext(batch []*submitReq) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(c.ctx)
	var left atomic.Int64
	left.Store(int64(len(batch)))
	stops := make([]func() bool, 0, len(batch))
	for _, r := range batch {
		stops = append(stops, context.AfterFunc(r.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		}))
	}
	return ctx, func() {
		for _, s := range stops {
			s()
		}
		cancel()
	}
}

// sendBatch posts the batch, re-sending the tasks whose outcome is
// ambiguous, and answers every Submit call.
func (c *Client) sendBatch(batch []*submitReq) {
	// Callers that gave up while the batch gathered are not sent: their
	// Submit already returned ctx.Err(), and now the task surely never left.
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.reply <- submitReply{err: err}
			continue
		}
		live = append(live, r)
	}
	if batch = live; len(batch) == 0 {
		return
	}
	ctx, cancel := c.batchContext(batch)
	defer cancel()
	c.stats.tasksSubmitted.Add(int64(len(batch)))
	for _, r := range batch {
		if c.o.Logger.Enabled(ctx, slog.LevelDebug) {
			c.o.Logger.Debug("runware submit", "taskUUID", r.task.TaskUUID, "resend", r.task.Resend,
				"video", redact.URL(r.task.Video), "audio", redact.URL(r.task.Audio),
				"uploadEndpoint", redact.URL(r.task.Request.UploadEndpoint()))
		}
	}
	pending := batch
	rt := c.o.Retry.Start(c.jitter.float)
	for {
		again, wait := c.submitAttempt(ctx, pending, rt.Attempts()+1)
		if len(again) == 0 {
			return
		}
		if ok, _ := rt.Failed(ctx, wait); !ok {
			for _, r := range again {
				r.reply <- submitReply{err: c.giveUpError(ctx, r, rt.Attempts())}
			}
			return
		}
		c.stats.retries.Add(1)
		pending = again
	}
}

// giveUpError is the error for a task still to be re-sent when the batch
// stops after attempts HTTP attempts.
func (c *Client) giveUpError(ctx context.Context, r *submitReq, attempts int) error {
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	if r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	if r.last != nil {
		return r.last
	}
	return &Error{Class: Transient, TaskUUID: r.task.TaskUUID, Message: "submit abandoned", Err: ctx.Err(), Attempts: attempts}
}

// submitAttempt sends one POST for pending and settles every task it can.
// It returns the tasks to re-send and the longest Retry-After seen.
func (c *Client) submitAttempt(ctx context.Context, pending []*submitReq, attempt int) ([]*submitReq, time.Duration) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, r := range pending {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(r.body)
	}
	buf.WriteByte(']')

	var retry []*submitReq
	var wait time.Duration
	settle := func(r *submitReq, e *Error) {
		if c.settleError(r, attempt, e) {
			retry = append(retry, r)
			wait = max(wait, e.RetryAfter)
		}
	}

	rep, terr := c.post(ctx, kindSubmit, buf.Bytes(), len(pending))
	if terr != nil {
		for _, r := range pending {
			settle(r, withTask(terr, r.task.TaskUUID))
		}
		return retry, wait
	}

	inBatch := make(map[string]bool, len(pending))
	for _, r := range pending {
		inBatch[r.task.TaskUUID] = true
	}
	taskErrs := make(map[string]rawError)
	for _, e := range rep.env.Errors {
		if inBatch[e.TaskUUID] {
			if _, dup := taskErrs[e.TaskUUID]; !dup {
				taskErrs[e.TaskUUID] = e
			}
		}
	}
	acks := make(map[string]rawItem, len(rep.env.Data))
	for _, it := range rep.env.Data {
		if inBatch[it.TaskUUID] {
			acks[it.TaskUUID] = it
		}
	}
	reqErr := c.requestError(rep, func(id string) bool { return inBatch[id] })

	for _, r := range pending {
		id := r.task.TaskUUID
		if e, ok := taskErrs[id]; ok {
			ae := apiError(e, rep.status, c.o.APIKey)
			ae.RetryAfter = rep.retryAfter
			ae.Terminal = true // this task's own entry; settleError narrows it
			settle(r, ae)
			continue
		}
		if it, ok := acks[id]; ok {
			if it.Status == "error" {
				ee := embeddedError(it, rep.status, c.o.APIKey)
				ee.Terminal = true
				settle(r, ee)
				continue
			}
			r.reply <- submitReply{res: SubmitResult{Attempts: attempt}}
			continue
		}
		if reqErr != nil {
			settle(r, withTask(reqErr, id))
			continue
		}
		// A 2xx reply that does not mention the task: it may or may not
		// have been accepted, so re-send it (a 409 will tell).
		settle(r, &Error{Class: Transient, TaskUUID: id, HTTPStatus: rep.status,
			Message: "reply did not mention the task"})
	}
	return retry, wait
}

// settleError answers r with e (stamped with the attempt count), turning a
// conflict on a re-send into success. It returns true when r should be
// re-sent instead.
func (c *Client) settleError(r *submitReq, attempt int, e *Error) bool {
	e.Attempts = attempt
	if e.Code == codeConflict || (e.Code == "" && e.HTTPStatus == http.StatusConflict) {
		// The taskUUID exists at the server: that task is not finished.
		e.Terminal = false
		if attempt > 1 || r.task.Resend {
			c.stats.conflicts.Add(1)
			r.reply <- submitReply{res: SubmitResult{Conflict: true, Attempts: attempt}}
			return false
		}
		e.Class = Permanent
		if e.Message == "" {
			e.Message = "taskUUID already used"
		}
		r.reply <- submitReply{err: e}
		return false
	}
	if e.Class == Transient {
		// Re-sent; if attempts run out this is the answer, and the task's
		// fate is open (an earlier attempt may have been accepted).
		e.Terminal = false
		r.last = e
		return true
	}
	r.reply <- submitReply{err: e}
	return false
}

// withTask returns a copy of e naming taskUUID.
func withTask(e *Error, taskUUID string) *Error {
	cp := *e
	cp.TaskUUID = taskUUID
	return &cp
}

// embeddedError converts a data item with status "error" into an *Error.
func embeddedError(it rawItem, status int, key string) *Error {
	var e *Error
	if it.Error != nil {
		e = apiError(*it.Error, status, key)
	} else {
		e = &Error{Class: Classify("", status), HTTPStatus: status, Message: "status error without detail"}
	}
	if e.TaskUUID == "" {
		e.TaskUUID = it.TaskUUID
	}
	if e.Code == "" && e.Message == "" {
		e.Message = fmt.Sprintf("task %s failed", it.TaskUUID)
	}
	return e
}
