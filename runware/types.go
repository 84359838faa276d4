// This file holds the types shared with the executor; the client's
// behaviour (batching, polling, retries, error classes) lives beside it.

package runware

import (
	"errors"
	"fmt"
	"time"

	"github.com/dubline/dubline/kling"
)

// DefaultURL is the Runware REST endpoint.
const DefaultURL = "https://api.runware.ai/v1"

// Task is one videoInference submission, built from a planned job.
// TaskUUID is chosen (and journalled) by the caller before Submit, so that
// a re-send after an ambiguous failure carries the same UUID.
type Task struct {
	TaskUUID string
	Video    string        // inputs.video: URL or media UUID
	Audio    string        // inputs.audio: URL or media UUID
	Request  kling.Request // the model and every request parameter, resolved
	// Resend marks a submission whose earlier attempt may have reached the
	// server (e.g. a resumed run found "submitting" in the journal). A
	// conflictTaskUUID answer then means "accepted earlier".
	Resend bool
}

// SubmitResult says how the server took a submission.
type SubmitResult struct {
	// Conflict is true when the server answered conflictTaskUUID to a
	// re-send: the task was accepted by an earlier attempt; poll it.
	Conflict bool
	// Attempts is the number of HTTP attempts the submission took.
	Attempts int
}

// Item is one generated result of a task (numberResults items in all).
type Item struct {
	VideoUUID   string
	VideoURL    string
	Seed        int64
	NSFWContent bool
	Cost        *float64 // USD, when includeCost was set and the server reported it
}

// Result is a finished, successful task.
type Result struct {
	TaskUUID string
	Items    []Item
	// Cost is the sum of the items' reported costs in USD; CostReported
	// says whether any item reported one.
	Cost         float64
	CostReported bool
}

// Class sorts errors by what the caller should do about them.
type Class int

const (
	// Transient: network errors, timeouts, 408/429/500/502/503/504. The
	// client already retried with backoff; the caller may retry later
	// with the same taskUUID.
	Transient Class = iota
	// Permanent: the request itself is wrong (validation 400, 404,
	// content policy). Retrying the same request will fail again.
	Permanent
	// Fatal: nothing else in the run can succeed (401/403 bad or missing
	// key, 402 insufficient credits). Stop the run.
	Fatal
	// Regenerate: the generation failed on the provider's side
	// (e.g. timeoutProvider); the old taskUUID is terminal, and a new task
	// with a new taskUUID may succeed.
	Regenerate
)

func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Fatal:
		return "fatal"
	case Regenerate:
		return "regenerate"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Error is an error reported by the API (or synthesised from a transport
// failure), already classified. It never contains the API key or a
// presigned query string.
type Error struct {
	Class         Class
	Code          string // Runware code, e.g. "invalidApiKey", "timeoutProvider"; "" for transport errors
	Message       string
	Parameter     string
	AllowedValues []string
	HTTPStatus    int // 0 when there was no HTTP response
	TaskUUID      string
	RetryAfter    time.Duration // from a Retry-After header, if any
	Err           error         // underlying transport error, if any
	// Terminal is true when the server reported this error for this very
	// task (its own entry in a submit or getResponse reply, e.g. a failed
	// generation): the task is finished and will never produce a result.
	// False for request-level failures (the whole HTTP request failed),
	// which say nothing about the task's fate.
	Terminal bool
	// Attempts is how many HTTP attempts a Submit made before this error;
	// more than one means an earlier attempt may have been accepted.
	Attempts int
}

func (e *Error) Error() string {
	s := e.Class.String()
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.HTTPStatus != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	if e.Parameter != "" {
		s += " parameter " + e.Parameter
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if len(e.AllowedValues) > 0 {
		s += fmt.Sprintf(" (allowed: %v)", e.AllowedValues)
	}
	if e.Err != nil && e.Message == "" {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// MayBeAccepted reports whether the task may have been accepted although
// this Submit failed: an earlier HTTP attempt of it may have reached the
// server.
func (e *Error) MayBeAccepted() bool { return e.Attempts > 1 }

// Gone reports whether the server answered that it no longer knows the
// task (never received, expired, or forgotten after it finished): nothing
// more can be learned about it or fetched from Runware.
func (e *Error) Gone() bool { return e.Terminal && goneCode(e.Code) }

// ClassOf returns the class of err: the Class of a *Error in its chain,
// Transient for any other non-nil error.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Transient
}
