package executor

import (
	"fmt"
	"testing"

	"github.com/dubline/dubline/runware"
)

// Every row of judge's table, and the neighbours that must not match it.
func TestJudge(t *testing.T) {
	const (
		perm  = runware.Permanent
		fatal = runware.Fatal
		regen = runware.Regenerate
		trans = runware.Transient
	)
	for _, c := range []struct {
		ph   phase
		f    facts
		want verdict
	}{
		{phaseInputs, facts{accepted: true}, verdict{state: StateSubmitting, billed: true, class: "input", code: "inputUnavailable"}},
		{phaseInputs, facts{}, verdict{state: StateFailed, class: "input", code: "inputUnavailable"}},
		{phaseInputs, facts{class: fatal}, verdict{state: StateFailed, class: "input", code: "inputUnavailable"}},

		{phaseSubmit, facts{class: regen}, verdict{state: StateFailed, regenerate: true}},
		{phaseSubmit, facts{class: regen, terminal: true, accepted: true}, verdict{state: StateFailed, regenerate: true}},
		{phaseSubmit, facts{class: regen, accepted: true}, verdict{state: StateSubmitting, billed: true}},
		{phaseSubmit, facts{class: fatal}, verdict{state: StateFailed, stop: true}},
		{phaseSubmit, facts{class: perm}, verdict{state: StateFailed}},
		{phaseSubmit, facts{class: perm, terminal: true}, verdict{state: StateFailed}},
		{phaseSubmit, facts{class: fatal, accepted: true}, verdict{state: StateSubmitting, stop: true, billed: true}},
		{phaseSubmit, facts{class: perm, accepted: true}, verdict{state: StateSubmitting, billed: true}},
		{phaseSubmit, facts{class: perm, accepted: true, terminal: true}, verdict{state: StateSubmitting, billed: true}},
		{phaseSubmit, facts{class: trans}, verdict{state: StateSubmitting, billed: true}},

		{phaseWait, facts{timedOut: true, class: perm, terminal: true}, verdict{state: StateInflight, billed: true, class: "in-flight", code: "jobTimeout"}},
		{phaseWait, facts{class: regen, terminal: true}, verdict{state: StateFailed, regenerate: true}},
		{phaseWait, facts{class: perm, terminal: true, gone: true}, verdict{state: StateFailed, billed: true, note: goneNote}},
		{phaseWait, facts{class: perm, terminal: true, gone: true, delivered: true}, verdict{state: StateSucceeded, billed: true, note: goneFoundNote}},
		{phaseWait, facts{class: perm, terminal: true, gone: true, unchecked: true}, verdict{state: StateInflight, billed: true}},
		{phaseWait, facts{class: perm, terminal: true}, verdict{state: StateFailed}},
		{phaseWait, facts{class: fatal, terminal: true}, verdict{state: StateFailed, stop: true}},
		{phaseWait, facts{class: fatal}, verdict{state: StateInflight, stop: true, billed: true}},
		{phaseWait, facts{class: perm}, verdict{state: StateInflight, billed: true}},
		{phaseWait, facts{class: trans}, verdict{state: StateInflight, billed: true}},

		{phaseDeliver, facts{sourceGone: true}, verdict{state: StateFailed, billed: true, class: "delivery", code: "resultUnavailable"}},
		{phaseDeliver, facts{class: perm}, verdict{state: StateUndelivered, billed: true, class: "output", code: "deliveryFailed"}},
	} {
		if got := judge(c.ph, c.f); got != c.want {
			t.Errorf("judge(%d, %+v)\n got %+v\nwant %+v", c.ph, c.f, got, c.want)
		}
	}
}

// The facts come from the error's own methods, never from its code in the
// executor.
func TestFactsOf(t *testing.T) {
	for _, c := range []struct {
		err    error
		resend bool
		want   facts
	}{
		{&runware.Error{Class: runware.Permanent, Code: "taskNotFound", Terminal: true}, false,
			facts{class: runware.Permanent, terminal: true, gone: true}},
		{&runware.Error{Class: runware.Permanent, Code: "taskExpired", Terminal: true}, false,
			facts{class: runware.Permanent, terminal: true, gone: true}},
		{&runware.Error{Class: runware.Permanent, Code: "taskNotFound"}, false, // request-level: not gone
			facts{class: runware.Permanent}},
		{&runware.Error{Class: runware.Permanent, Code: "modelNotFound", Terminal: true}, false,
			facts{class: runware.Permanent, terminal: true}},
		{fmt.Errorf("submit: %w", &runware.Error{Class: runware.Fatal, Attempts: 2}), false,
			facts{class: runware.Fatal, accepted: true}},
		{&runware.Error{Class: runware.Fatal, Attempts: 1}, true, facts{class: runware.Fatal, accepted: true}},
		{fmt.Errorf("plain"), false, facts{class: runware.Transient}},
	} {
		if got := factsOf(c.err, c.resend); got != c.want {
			t.Errorf("factsOf(%v, %t) = %+v, want %+v", c.err, c.resend, got, c.want)
		}
	}
}
