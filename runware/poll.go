package runware

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// waiter is one task being polled for one Wait call. Only the poller
// goroutine touches its scheduling fields.
type waiter struct {
	uuid      string
	n         int
	start     time.Time     // when Wait began: render times are measured from it
	polledAt  time.Time     // when the last poll of it was sent
	busyAt    time.Time     // when the last poll that found it processing was sent
	due       time.Time     // next poll
	notBefore time.Time     // no poll before this (a Retry-After); zero: none
	interval  time.Duration // the interval applied after the next poll
	inPoll    bool          // a getResponse for it is on the wire
	solo      bool          // poll it alone (a shared poll failed as a whole); cleared by a clean solo answer
	done      chan waitOutcome
}

type waitOutcome struct {
	res *Result
	err error
}

// pollOutcome is the answer to one getResponse POST.
type pollOutcome struct {
	chunk []*waiter
	rep   *reply
	err   *Error
}

// poller keeps every waiting task and polls them in shared rounds.
type poller struct {
	c         *Client
	add       chan *waiter
	remove    chan *waiter
	results   chan pollOutcome
	prior     chan []time.Duration
	tasks     map[string]*waiter
	lastRound time.Time
	sched     schedule
}

func newPoller(c *Client) *poller {
	return &poller{
		c:       c,
		add:     make(chan *waiter),
		remove:  make(chan *waiter),
		results: make(chan pollOutcome),
		prior:   make(chan []time.Duration),
		tasks:   make(map[string]*waiter),
		sched:   schedule{o: &c.o},
	}
}

// Learn gives the poll schedule render times seen before (earlier runs of
// the same jobs), so that it is trained from the first task.
func (c *Client) Learn(renderTimes []time.Duration) {
	select {
	case c.poll.prior <- renderTimes:
	case <-c.ctx.Done():
	}
}

// Wait polls taskUUID until numberResults generations succeeded, the task
// failed, or ctx ends (the caller's deadline for the job: the task is then
// still running at Runware and must be polled again later, never
// resubmitted). Failures are *Error values: the task's own error,
// classified (Regenerate for provider-side generation failures) and marked
// Terminal, or a Fatal failure of the poll request itself (401/402/403),
// not Terminal. Other failures of a whole poll request never end a Wait:
// the task is polled again. Only one Wait per taskUUID may run at a time.
func (c *Client) Wait(ctx context.Context, taskUUID string, numberResults int) (*Result, error) {
	if numberResults < 1 {
		numberResults = 1
	}
	w := &waiter{
		uuid:     taskUUID,
		n:        numberResults,
		start:    time.Now(),
		interval: c.o.PollInterval,
		done:     make(chan waitOutcome, 1),
	}
	select {
	case c.poll.add <- w:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.ctx.Done():
		return nil, ErrClosed
	}
	select {
	case o := <-w.done:
		return o.res, o.err
	case <-ctx.Done():
		select {
		case c.poll.remove <- w:
		case <-c.ctx.Done():
		}
		return nil, ctx.Err()
	}
}

func (p *poller) run() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// nextWake scans every task: it runs after rounds and answers only, not
	// on each of 10,000 adds (an add can only bring the wake earlier; a
	// removal leaves at worst an early, empty tick).
	wake, rescan := time.Time{}, true
	for {
		if rescan {
			wake, rescan = p.nextWake(), false
		}
		timer.Reset(time.Until(wake))
		select {
		case <-p.c.ctx.Done():
			for _, w := range p.tasks {
				p.finish(w, waitOutcome{err: ErrClosed})
			}
			return
		case w := <-p.add:
			if _, busy := p.tasks[w.uuid]; busy {
				w.done <- waitOutcome{err: fmt.Errorf("runware: task %s is already being waited for", w.uuid)}
				continue
			}
			w.due = w.start.Add(p.sched.first())
			p.tasks[w.uuid] = w
			if w.due.Before(wake) {
				wake = w.due
			}
		case d := <-p.prior:
			for _, x := range d {
				p.sched.observe(x-x/10, x)
			}
		case w := <-p.remove:
			if p.tasks[w.uuid] == w {
				delete(p.tasks, w.uuid)
			}
		case o := <-p.results:
			p.apply(o, time.Now())
			rescan = true
		case now := <-timer.C:
			p.tick(now)
			rescan = true
		}
	}
}

// nextWake is the earliest due poll, but not before the round gap has
// passed since the last round.
func (p *poller) nextWake() time.Time {
	wake := time.Now().Add(time.Hour)
	var due time.Time
	for _, w := range p.tasks {
		if !w.inPoll && (due.IsZero() || w.due.Before(due)) {
			due = w.due
		}
	}
	if !due.IsZero() {
		if gap := p.lastRound.Add(p.c.o.PollRoundGap); due.Before(gap) {
			due = gap
		}
		if due.Before(wake) {
			wake = due
		}
	}
	return wake
}

// tick polls, if the round gap allows, every task due now (or within half
// a gap: early is cheaper than a round of its own).
func (p *poller) tick(now time.Time) {
	gap := p.c.o.PollRoundGap
	if now.Before(p.lastRound.Add(gap)) {
		return
	}
	horizon := now.Add(gap / 2)
	var chunk []*waiter
	for _, w := range p.tasks {
		if w.inPoll || w.due.After(horizon) || now.Before(w.notBefore) {
			continue
		}
		w.polledAt = now
		if w.solo {
			p.dispatch([]*waiter{w})
			continue
		}
		chunk = append(chunk, w)
		if len(chunk) == p.c.o.MaxBatch {
			p.dispatch(chunk)
			chunk = nil
		}
	}
	if len(chunk) > 0 {
		p.dispatch(chunk)
	}
	p.lastRound = now
}

// dispatch sends one getResponse POST for chunk on its own goroutine; the
// answer comes back through p.results.
func (p *poller) dispatch(chunk []*waiter) {
	c := p.c
	reqs := make([]getResponseRequest, len(chunk))
	for i, w := range chunk {
		w.inPoll = true
		reqs[i] = getResponseRequest{TaskType: "getResponse", TaskUUID: w.uuid}
	}
	c.stats.taskPolls.Add(int64(len(chunk)))
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		o := pollOutcome{chunk: chunk}
		body, err := json.Marshal(reqs)
		if err != nil {
			o.err = &Error{Class: Permanent, Message: "encoding getResponse: " + err.Error()}
		} else {
			o.rep, o.err = c.post(c.ctx, kindPoll, body, len(chunk))
		}
		select {
		case p.results <- o:
		case <-c.ctx.Done():
		}
	}()
}

// apply settles the tasks of one poll answer.
func (p *poller) apply(o pollOutcome, now time.Time) {
	live := o.chunk[:0:0]
	for _, w := range o.chunk {
		if p.tasks[w.uuid] == w {
			live = append(live, w)
		}
	}
	if o.err != nil {
		for _, w := range live {
			p.requestFailed(w, len(o.chunk), o.err, now)
		}
		return
	}
	rep := o.rep
	inChunk := make(map[string]bool, len(o.chunk))
	for _, w := range o.chunk {
		inChunk[w.uuid] = true
	}
	items := make(map[string][]rawItem, len(live))
	for _, it := range rep.env.Data {
		items[it.TaskUUID] = append(items[it.TaskUUID], it)
	}
	errs := make(map[string]rawError)
	for _, e := range rep.env.Errors {
		if _, dup := errs[e.TaskUUID]; !dup && inChunk[e.TaskUUID] {
			errs[e.TaskUUID] = e
		}
	}
	reqErr := p.c.requestError(rep, func(id string) bool { return inChunk[id] })
	for _, w := range live {
		if e, ok := errs[w.uuid]; ok {
			ae := apiError(e, rep.status, p.c.o.APIKey)
			ae.RetryAfter = rep.retryAfter
			p.taskFailed(w, ae, e.Status == "error", now)
			continue
		}
		its := items[w.uuid]
		if failed, ok := firstFailure(its); ok {
			p.taskFailed(w, embeddedError(failed, rep.status, p.c.o.APIKey), true, now)
			continue
		}
		if res := successResult(w.uuid, its); len(res.Items) >= w.n {
			lo := time.Duration(0)
			if !w.busyAt.IsZero() {
				lo = w.busyAt.Sub(w.start)
			}
			if p.sched.observe(lo, w.polledAt.Sub(w.start)) {
				p.retrain(now)
			}
			p.finish(w, waitOutcome{res: res})
			continue
		}
		if len(its) == 0 && reqErr != nil {
			p.requestFailed(w, len(o.chunk), withTask(reqErr, w.uuid), now)
			continue
		}
		w.solo = false // a clean answer: back to shared polls
		w.busyAt = w.polledAt
		p.reschedule(w, now, 0) // processing, unknown status, or not mentioned
	}
}

// taskFailed handles an error the server reported for this very task.
//
// With status "error" (generation true) the task is finished: Terminal. Its
// class stays as classified (Fatal stays Fatal: e.g. insufficientCredits
// when the generation was to be billed), except that a Transient code, or
// no code at all outside a 401/402/403 reply, means the generation failed
// on the provider's side: Regenerate.
//
// Without that status, a Transient code concerns the poll: poll again
// (honouring Retry-After). A Fatal code (auth, money) concerns the request
// too: it ends the Wait but is not Terminal, since it says nothing about
// the task's fate. Any other code (taskNotFound, an expired task, ...) is
// the server's last word on this task: Terminal.
func (p *poller) taskFailed(w *waiter, e *Error, generation bool, now time.Time) {
	if e.TaskUUID == "" {
		e.TaskUUID = w.uuid
	}
	switch {
	case generation:
		if e.Class == Transient || (e.Code == "" && e.Class != Fatal) {
			e.Class = Regenerate
		}
		e.Terminal = true
	case e.Class == Transient:
		p.reschedule(w, now, e.RetryAfter)
		return
	case e.Class == Fatal:
		e.Terminal = false
	default:
		e.Terminal = true
	}
	p.finish(w, waitOutcome{err: e})
}

// requestFailed handles a failure of the whole poll request, which says
// nothing about the task's fate. Only a Fatal failure (bad key, no money)
// ends the Wait, not Terminal. Anything else, whatever its class, means
// "poll again" (honouring Retry-After): ending the Wait with a Permanent
// error would make the caller fail the job and pay for it again, while the
// task may well be running. The caller's context bounds the wait.
// When a shared poll fails that way, its tasks are polled alone next: a
// task at fault then gets its own, task-level error.
func (p *poller) requestFailed(w *waiter, chunkLen int, e *Error, now time.Time) {
	if e.Class == Fatal {
		e = withTask(e, w.uuid)
		e.Terminal = false
		p.finish(w, waitOutcome{err: e})
		return
	}
	if e.Class != Transient && chunkLen > 1 {
		w.solo = true
	}
	p.reschedule(w, now, e.RetryAfter)
}

// reschedule plans w's next poll as the schedule says (untrained, with
// ±20 % jitter so that tasks started together spread out) and not before a
// server's Retry-After (capped at Options.Retry.Max).
func (p *poller) reschedule(w *waiter, now time.Time, retryAfter time.Duration) {
	w.inPoll = false
	d := p.sched.after(now.Sub(w.start), &w.interval)
	if !p.sched.trained() {
		d = p.c.jitter.spread(d, 0.2)
	}
	w.due = now.Add(d)
	w.notBefore = time.Time{}
	if retryAfter > 0 {
		w.notBefore = now.Add(min(retryAfter, p.c.o.Retry.Max))
		if w.due.Before(w.notBefore) {
			w.due = w.notBefore
		}
	}
}

// retrain moves the next poll of every waiting task to where the newly
// trained schedule puts it (an untrained back-off may have put it late).
func (p *poller) retrain(now time.Time) {
	for _, w := range p.tasks {
		if w.inPoll || now.Before(w.notBefore) {
			continue
		}
		age := now.Sub(w.start)
		w.interval = p.sched.hot
		w.due = now.Add(p.sched.after(age, &w.interval))
	}
}

func (p *poller) finish(w *waiter, o waitOutcome) {
	delete(p.tasks, w.uuid)
	w.done <- o
}

func firstFailure(its []rawItem) (rawItem, bool) {
	for _, it := range its {
		if it.Status == "error" {
			return it, true
		}
	}
	return rawItem{}, false
}

// successResult collects the success items (deduplicated by videoUUID).
func successResult(taskUUID string, its []rawItem) *Result {
	res := &Result{TaskUUID: taskUUID}
	seen := make(map[string]bool, len(its))
	for _, it := range its {
		if it.Status != "success" {
			continue
		}
		item := Item{
			VideoUUID:   firstNonEmpty(it.VideoUUID, it.MediaUUID),
			VideoURL:    firstNonEmpty(it.VideoURL, it.MediaURL),
			Seed:        parseSeed(it.Seed),
			NSFWContent: it.NSFWContent,
			Cost:        it.Cost,
		}
		if item.VideoUUID != "" {
			if seen[item.VideoUUID] {
				continue
			}
			seen[item.VideoUUID] = true
		}
		if it.Cost != nil {
			res.Cost += *it.Cost
			res.CostReported = true
		}
		res.Items = append(res.Items, item)
	}
	return res
}

func parseSeed(n json.Number) int64 {
	if n == "" {
		return 0
	}
	if v, err := n.Int64(); err == nil {
		return v
	}
	if f, err := strconv.ParseFloat(string(n), 64); err == nil {
		return int64(f)
	}
	return 0
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
