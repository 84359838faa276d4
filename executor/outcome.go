package executor

import (
	"errors"

	"github.com/dubline/dubline/runware"
)

// phase is the step of a task attempt that an error ended.
type phase int

const (
	phaseInputs  phase = iota // resolving and staging the inputs, before any request
	phaseSubmit               // the submit request
	phaseWait                 // polling the accepted task
	phaseDeliver              // copying or verifying the outputs of a finished task
)

// facts is what an error says about the task, as judge needs it.
type facts struct {
	class      runware.Class
	terminal   bool // the server reported it for this very task: the task is finished
	accepted   bool // the task may have been accepted: a re-send, or a submit of several HTTP attempts
	gone       bool // the server no longer knows the task (runware.Error.Gone)
	delivered  bool // gone: the job's outputs were found and verified in the destination
	unchecked  bool // gone: the destination could not be checked (Stat failed)
	timedOut   bool // the job's deadline (plan.JobTimeout) passed while waiting
	sourceGone bool // the result URL no longer serves the result (storage.ErrSourceGone)
}

// factsOf reads the facts a runware error carries; resend says the
// attempt re-sent a journalled taskUUID.
func factsOf(err error, resend bool) facts {
	f := facts{class: runware.ClassOf(err), accepted: resend}
	var e *runware.Error
	if errors.As(err, &e) {
		f.terminal, f.gone = e.Terminal, e.Gone()
		f.accepted = f.accepted || e.MayBeAccepted()
	}
	return f
}

// verdict is what an ended attempt means for the job.
type verdict struct {
	state      string // the job's journal state: failed, submitting, inflight, undelivered or succeeded
	stop       bool   // stop new submissions (a Fatal error: the key or the account)
	regenerate bool   // submit a new task (new taskUUID), up to Options.MaxRegenerate times
	billed     bool   // the task may have been paid for: its cost stays counted
	class      string // replaces the error's class in the report ("" keeps it)
	code       string // replaces the error's code ("" keeps it)
	note       string // put before the error's message
}

const (
	goneNote      = "the task is gone from Runware and its output is not in the destination (billed at the estimate; the next run generates it again): "
	goneFoundNote = "the task is gone from Runware, but its output was found and verified in the destination; cost is the estimate"
)

// judge decides what an error means; it is the only place that does. The
// rules, tried in order within a phase:
//
//	phase    facts                              state        stop regen billed class/code
//	inputs   accepted (a re-send)               submitting   -    -     yes    input/inputUnavailable
//	inputs   -                                  failed       -    -     -      input/inputUnavailable
//	submit   Regenerate, terminal or !accepted  failed       -    yes   -
//	submit   Fatal, !accepted                   failed       yes  -     -
//	submit   Permanent, !accepted               failed       -    -     -
//	submit   Fatal                              submitting   yes  -     yes
//	submit   otherwise                          submitting   -    -     yes
//	wait     timed out                          inflight     -    -     yes    in-flight/jobTimeout
//	wait     Regenerate                         failed       -    yes   -
//	wait     gone, delivered                    succeeded    -    -     yes    (goneFoundNote)
//	wait     gone, unchecked                    inflight     -    -     yes
//	wait     gone                               failed       -    -     yes    (goneNote)
//	wait     Permanent, terminal                failed       -    -     -
//	wait     Fatal, terminal                    failed       yes  -     -
//	wait     Fatal                              inflight     yes  -     yes
//	wait     otherwise                          inflight     -    -     yes
//	deliver  source gone                        failed       -    -     yes    delivery/resultUnavailable
//	deliver  otherwise                          undelivered  -    -     yes    output/deliveryFailed
//
// Why: a job is failed only when its task surely ended without a result
// (the server refused or failed this very task, or a single-attempt
// first submission was rejected). A rejection proves nothing about an
// earlier attempt of the same taskUUID (a crashed run's request, or the
// client's own retry): that one may have been accepted and billed, so the
// job stays "submitting" and the next run re-sends the same taskUUID. A
// request-level error while waiting says nothing about the task: it stays
// "inflight" and is polled next run, never failed, since failing it would
// make the next run pay for a new task while the first may be billed.
// Failed tasks are not billed; a task whose result was delivered from, or
// lost after, its generation was. A Fatal error that concerns the task
// itself (e.g. insufficientCredits after the generation) fails it; one
// that concerns the request (401/402 for the whole request) only stops
// the run. A task the server forgot (results expire; a resumed run may
// poll late) may well have been generated, billed and even delivered
// through uploadEndpoint: the executor first looks for its outputs, and
// a verified object makes the job succeeded, so the next run does not
// pay again; a missing one fails the job with the estimate counted as
// billed (spend is never under-stated).
func judge(ph phase, f facts) verdict {
	switch ph {
	case phaseInputs:
		if f.accepted {
			return verdict{state: StateSubmitting, billed: true, class: "input", code: "inputUnavailable"}
		}
		return verdict{state: StateFailed, class: "input", code: "inputUnavailable"}
	case phaseSubmit:
		switch {
		case f.class == runware.Regenerate && (f.terminal || !f.accepted):
			return verdict{state: StateFailed, regenerate: true}
		case f.class == runware.Fatal && !f.accepted:
			return verdict{state: StateFailed, stop: true}
		case f.class == runware.Permanent && !f.accepted:
			return verdict{state: StateFailed}
		}
		return verdict{state: StateSubmitting, stop: f.class == runware.Fatal, billed: true}
	case phaseWait:
		switch {
		case f.timedOut:
			return verdict{state: StateInflight, billed: true, class: "in-flight", code: "jobTimeout"}
		case f.gone && f.delivered:
			return verdict{state: StateSucceeded, billed: true, note: goneFoundNote}
		case f.gone && f.unchecked:
			return verdict{state: StateInflight, billed: true}
		case f.gone:
			return verdict{state: StateFailed, billed: true, note: goneNote}
		case f.class == runware.Regenerate:
			return verdict{state: StateFailed, regenerate: true}
		case f.class == runware.Permanent && f.terminal:
			return verdict{state: StateFailed}
		case f.class == runware.Fatal && f.terminal:
			return verdict{state: StateFailed, stop: true}
		}
		return verdict{state: StateInflight, stop: f.class == runware.Fatal, billed: true}
	}
	if f.sourceGone {
		return verdict{state: StateFailed, billed: true, class: "delivery", code: "resultUnavailable"}
	}
	return verdict{state: StateUndelivered, billed: true, class: "output", code: "deliveryFailed"}
}
