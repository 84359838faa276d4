package emulator

import (
	"fmt"
	"math"
	"net/http"

	"github.com/google/uuid"

	"github.com/dubline/dubline/kling"
)

// submitVideo validates and accepts a videoInference task and starts its
// generation; the ack carries only taskType and taskUUID.
func (e *Emulator) submitVideo(f fields, base string) (any, *apiError) {
	id, req, ae := readVideo(f)
	if ae != nil {
		return nil, ae
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.known[id] {
		e.stats.DuplicatesRefused++
		ae := newErr(http.StatusConflict, "conflictTaskUUID", "A task with this taskUUID already exists; taskUUID must be unique per task.")
		ae.Parameter, ae.Type = "taskUUID", "string"
		return nil, ae
	}
	if e.closed {
		return nil, newErr(http.StatusServiceUnavailable, "serviceUnavailable", "The emulator is shutting down.")
	}
	if least := kling.JobPrice(0, req.NumberResults); e.limited && e.balance < least {
		return nil, newErr(http.StatusPaymentRequired, "insufficientCredits",
			fmt.Sprintf("Insufficient credits: balance %s, this task costs at least %s.", e.balance, least))
	}
	if e.o.Capacity > 0 && e.running >= e.o.Capacity {
		e.stats.CapacityRefused++
		ae := newErr(http.StatusTooManyRequests, "rateLimitExceeded",
			fmt.Sprintf("Too many concurrent tasks: %d are running, the limit is %d.", e.running, e.o.Capacity))
		return nil, ae
	}
	e.running++
	t := e.newTask(req, base)
	e.known[id] = true
	e.tasks[id] = t
	e.stats.TasksAccepted++
	e.stats.AcceptedByUUID[id]++
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.run(t)
	}()
	e.o.Logger.Debug("emulator: task accepted", "taskUUID", id, "results", req.NumberResults)
	return map[string]any{"taskType": kling.TaskType, "taskUUID": id}, nil
}

// readVideo reads a videoInference task's taskUUID and checks the request.
func readVideo(f fields) (string, videoReq, *apiError) {
	id, ae := taskUUIDOf(f)
	if ae != nil {
		return "", videoReq{}, ae
	}
	req, ae := validateVideo(f, id)
	return id, req, ae
}

// dryRun answers a videoInference sent with X-Runware-Dry-Run: 1: the
// request is validated and its inputs fetched and probed, and the reply
// carries the cost (the price rule times Options.DryRunFactor), without a
// task, a bill or a taskUUID being used up.
func (e *Emulator) dryRun(f fields, base string) (any, *apiError) {
	id, req, ae := readVideo(f)
	if ae != nil {
		return nil, ae
	}
	in, ae := e.loadInputs(&task{req: req, base: base})
	if ae != nil {
		return nil, ae
	}
	factor := e.o.DryRunFactor
	if factor <= 0 {
		factor = 1
	}
	price := kling.JobPrice(in.audioInfo.Seconds, req.NumberResults)
	cost := kling.Price(math.Ceil(float64(price) * factor))
	e.mu.Lock()
	e.stats.DryRuns++
	e.mu.Unlock()
	return map[string]any{"taskType": kling.TaskType, "taskUUID": id, "cost": cost.USD()}, nil
}

// newTask builds a task and draws its faults and seeds. Caller holds mu.
func (e *Emulator) newTask(req videoReq, base string) *task {
	t := &task{req: req, base: base, accepted: e.now()}
	e.drawTaskFaults(t)
	for range req.NumberResults {
		t.items = append(t.items, &item{
			status:    "processing",
			seed:      e.rng.Int63n(1 << 31),
			videoUUID: uuid.Must(uuid.NewRandomFromReader(e.rng)).String(),
		})
	}
	return t
}
