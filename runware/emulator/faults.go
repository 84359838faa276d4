package emulator

import (
	"net/http"
	"slices"
	"time"
)

// FaultKind names a deterministic fault.
type FaultKind string

const (
	// FaultStatus replies Status with a JSON errors body (or no body if
	// NoBody) and Retry-After if set; the request's tasks are not processed.
	FaultStatus FaultKind = "status"
	// FaultNonJSON replies Status (default 500) with an HTML body; tasks
	// are not processed.
	FaultNonJSON FaultKind = "nonjson"
	// FaultSlow sleeps Delay (ending early if the client goes away, in
	// which case nothing is processed), then handles the request normally.
	FaultSlow FaultKind = "slow"
	// FaultReset handles the request normally (tasks accepted and
	// recorded), then closes the TCP connection without replying.
	FaultReset FaultKind = "reset"
	// FaultGeneration makes the next accepted videoInference task fail
	// with Code (default FaultRates.GenerationCode, itself default
	// "timeoutProvider"); it is not billed.
	FaultGeneration FaultKind = "generation"
	// FaultUpload makes the next task's uploadEndpoint PUT fail (it is not
	// performed); the task still succeeds with its videoURL.
	FaultUpload FaultKind = "upload"
	// FaultVideoURL422 makes the next task's videoURL answer 422 for Delay
	// after success.
	FaultVideoURL422 FaultKind = "videourl422"
	// FaultExpire makes the next task to finish be forgotten: getResponse
	// for it answers taskNotFound with HTTP 404 (inferred, not documented).
	FaultExpire FaultKind = "expire"
)

// Fault is a deterministic fault, queued with Inject.
type Fault struct {
	Kind       FaultKind
	TaskType   string // request-level faults: only requests containing this task type; "" any
	Status     int
	NoBody     bool
	RetryAfter string // Retry-After header value, e.g. "1"
	Delay      time.Duration
	Code       string
	Count      int // how many times (default 1)
}

// Inject queues a fault. Faults of a kind are used in the order injected.
func (e *Emulator) Inject(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &f)
}

// takeFault consumes one use of the first queued fault that match accepts.
// Caller holds mu.
func (e *Emulator) takeFault(match func(*Fault) bool) *Fault {
	for i, f := range e.faults {
		if !match(f) {
			continue
		}
		f.Count--
		if f.Count == 0 {
			e.faults = slices.Delete(e.faults, i, i+1)
		}
		c := *f
		return &c
	}
	return nil
}

func kindIs(k FaultKind) func(*Fault) bool {
	return func(f *Fault) bool { return f.Kind == k }
}

// requestFault picks the fault for a request carrying taskTypes: a queued
// one first, then a random one per FaultRates.
func (e *Emulator) requestFault(taskTypes []string) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.takeFault(func(f *Fault) bool {
		switch f.Kind {
		case FaultStatus, FaultNonJSON, FaultSlow, FaultReset:
			return f.TaskType == "" || slices.Contains(taskTypes, f.TaskType)
		}
		return false
	})
	if f != nil {
		return f
	}
	return e.randomRequestFault()
}

// writeFault answers a Status or NonJSON fault.
func writeFault(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Kind == FaultNonJSON {
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html><head><title>" + http.StatusText(status) + "</title></head><body><h1>" +
			http.StatusText(status) + "</h1><p>upstream gateway</p></body></html>\n"))
		return
	}
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if f.NoBody {
		w.WriteHeader(status)
		return
	}
	code := f.Code
	if code == "" {
		code = statusCode(status)
	}
	writeJSON(w, status, reply{Errors: []*apiError{newErr(status, code, "Injected fault: "+http.StatusText(status)+".")}})
}
