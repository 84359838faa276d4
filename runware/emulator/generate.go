package emulator

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/dubline/dubline/kling"
)

// task is an accepted videoInference task. Fields after req are guarded
// by Emulator.mu.
type task struct {
	req        videoReq
	base       string // public base URL for videoURLs
	accepted   time.Time
	genFail    string        // generation fault code, "" none
	uploadFail bool          // uploadEndpoint PUT fault
	notReady   time.Duration // videoURL answers 422 this long after success
	expire     bool          // forget the task once it finishes

	items []*item
	fail  *apiError // terminal failure
	done  bool
}

// item is one of numberResults generations.
type item struct {
	status    string // "processing" or "success"
	start     time.Time
	due       time.Time
	seed      int64
	videoUUID string
	videoURL  string
	cost      kling.Price
}

// run drives a task: queue, input fetch and checks, then one generation
// per result in order of completion.
func (e *Emulator) run(t *task) {
	ctx := e.ctx
	if !e.sleep(ctx, e.o.QueueDelay) {
		return
	}
	in, ae := e.loadInputs(t)
	if ae != nil {
		e.failTask(t, ae)
		return
	}
	if ctx.Err() != nil {
		return
	}
	perResult := kling.PriceFor(kling.BillableSeconds(in.audioInfo.Seconds))

	e.mu.Lock()
	start := time.Now()
	for _, it := range t.items {
		it.start, it.due = start, start.Add(e.jitter(e.o.Latency, e.o.LatencyJitter))
	}
	order := slices.Clone(t.items)
	e.mu.Unlock()
	slices.SortStableFunc(order, func(a, b *item) int { return cmp.Compare(a.due.UnixNano(), b.due.UnixNano()) })

	var out []byte
	for _, it := range order {
		if !e.sleep(ctx, time.Until(it.due)) {
			return
		}
		if t.genFail != "" {
			e.failTask(t, genErr(t.genFail, genFailMessage(t.genFail)))
			return
		}
		if out == nil {
			var err error
			if out, err = e.produce(ctx, t.req, in); err != nil {
				e.failTask(t, genErr("processingFailed", "Could not produce the output video: "+err.Error()))
				return
			}
		}
		if ae := e.bill(t, it, perResult, out); ae != nil {
			e.failTask(t, ae)
			return
		}
		e.upload(ctx, t, out)
		e.succeedItem(t, it)
	}
}

// genErr is a generation failure as getResponse reports it.
func genErr(code, msg string) *apiError {
	ae := newErr(http.StatusOK, code, msg)
	ae.Status, ae.TaskType, ae.Documentation = "error", kling.TaskType, "https://runware.ai/docs/platform/task-polling"
	return ae
}

// bill charges one result and registers its output; it fails when the
// balance cannot pay.
func (e *Emulator) bill(t *task, it *item, price kling.Price, out []byte) *apiError {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.limited && e.balance < price {
		return genErr("insufficientCredits", fmt.Sprintf("Insufficient credits: balance %s, result costs %s.", e.balance, price))
	}
	if e.limited {
		e.balance -= price
	}
	e.stats.CostBilled += price
	e.stats.BilledByUUID[t.req.TaskUUID] += price
	it.cost = price
	it.videoURL = fmt.Sprintf("%s/video/%s.%s", t.base, it.videoUUID, kling.Ext(t.req.OutputFormat))
	now := e.now()
	ttl := e.o.DefaultTTL
	if t.req.TTL > 0 {
		ttl = time.Duration(t.req.TTL) * time.Second
	}
	e.videos[it.videoUUID] = &output{data: out, contentType: kling.ContentType(t.req.OutputFormat),
		expires: now.Add(ttl), notReadyUntil: now.Add(t.notReady)}
	return nil
}

func (e *Emulator) succeedItem(t *task, it *item) {
	e.mu.Lock()
	it.status = "success"
	body := successItem(t, it)
	finished := true
	for _, x := range t.items {
		finished = finished && x.status == "success"
	}
	if finished {
		t.done = true
		e.running--
		e.stats.Succeeded++
		e.maybeExpire(t)
	}
	e.mu.Unlock()
	e.webhook(t.req.WebhookURL, body)
}

func (e *Emulator) failTask(t *task, ae *apiError) {
	ae.TaskType, ae.TaskUUID, ae.Status, ae.http = kling.TaskType, t.req.TaskUUID, "error", http.StatusOK
	e.mu.Lock()
	if t.done {
		e.mu.Unlock()
		return
	}
	t.fail, t.done = ae, true
	e.running--
	e.stats.Failed++
	e.maybeExpire(t)
	e.mu.Unlock()
	e.o.Logger.Info("emulator: task failed", "taskUUID", t.req.TaskUUID, "code", ae.Code)
	e.webhook(t.req.WebhookURL, ae)
}

// maybeExpire forgets a finished task when it drew an expire fault or one
// is queued. Caller holds mu.
func (e *Emulator) maybeExpire(t *task) {
	if t.expire || e.takeFault(kindIs(FaultExpire)) != nil {
		delete(e.tasks, t.req.TaskUUID)
	}
}

// successItem is the result item of a finished generation. Caller holds mu.
func successItem(t *task, it *item) map[string]any {
	m := map[string]any{
		"taskType": kling.TaskType, "taskUUID": t.req.TaskUUID, "status": "success",
		"videoUUID": it.videoUUID, "videoURL": it.videoURL, "seed": it.seed, "NSFWContent": false,
	}
	if t.req.IncludeCost {
		m["cost"] = it.cost.USD()
	}
	return m
}

// progress estimates how far a processing item is (0-99). Caller holds mu.
func (e *Emulator) progress(it *item) int {
	if it.start.IsZero() {
		return 0
	}
	total := it.due.Sub(it.start)
	if total <= 0 {
		return 99
	}
	p := int(100 * time.Since(it.start) / total)
	return min(max(p, 0), 99)
}
