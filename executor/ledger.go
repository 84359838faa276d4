package executor

import (
	"time"

	"github.com/dubline/dubline/kling"
)

// The journal is the money ledger: every task's submission (with its
// estimate) and its bill are in it, and a budget window bounds what one
// night may spend across every invocation of a run name.
//
// Rule: a budget window opens at the first submission after the last
// window ended (or with Options.NewWindow) and lasts plan.BudgetWindow;
// every task submitted in it counts against plan.Budget, across
// crash-resumes, retries and reruns. A task counts with its reported
// cost once billed; with its estimate while it may still be billed (in
// flight, lost, expired, undelivered); with $0 once it surely failed
// unbilled. A window is opened by a journalled "window" record, written
// in the same fsync as the submission that opens it.

// taskMoney is one task's line in the ledger.
type taskMoney struct {
	submitted time.Time
	est       kling.Price
	cost      kling.Price
	state     moneyState
}

type moneyState int

const (
	moneyOpen   moneyState = iota // may be billed, amount unknown: counts its estimate
	moneyBilled                   // billed: counts cost
	moneyFree                     // surely not billed
)

// ledger is the money side of a journal.
type ledger struct {
	tasks   map[string]*taskMoney
	windows []time.Time // starts of the windows, in journal order
}

func (l *ledger) add(r record) {
	if r.Ev == evWindow {
		l.windows = append(l.windows, r.T)
		return
	}
	if r.Task == "" {
		return
	}
	if l.tasks == nil {
		l.tasks = map[string]*taskMoney{}
	}
	t := l.tasks[r.Task]
	if t == nil {
		if r.Ev != evSubmitting {
			return
		}
		t = &taskMoney{submitted: r.T, est: r.Est}
		l.tasks[r.Task] = t
	}
	switch r.Ev {
	case evSucceeded, evUndelivered:
		t.state, t.cost = moneyBilled, r.Cost
	case evFailed:
		switch {
		case !r.Billed:
			t.state = moneyFree
		case r.Cost > 0:
			t.state, t.cost = moneyBilled, r.Cost
		case t.state != moneyBilled:
			t.state, t.cost = moneyBilled, t.est
		}
	case evForgotten:
		t.state = moneyFree
	}
}

// Window is a budget window as the journal has it.
type Window struct {
	Start, End time.Time   // zero: no window is open
	Spent      kling.Price // billed to tasks submitted in the window
	Reserved   kling.Price // estimates of its tasks that may still be billed
}

// Open reports whether the window is open at now.
func (w Window) Open(now time.Time) bool {
	return !w.Start.IsZero() && now.Before(w.End)
}

// window returns the window open at now, with its money; a zero Window
// when none is.
func (l *ledger) window(now time.Time, length time.Duration) Window {
	if len(l.windows) == 0 {
		return Window{}
	}
	w := Window{Start: l.windows[len(l.windows)-1]}
	w.End = w.Start.Add(length)
	if !w.Open(now) {
		return Window{}
	}
	for _, t := range l.tasks {
		if t.submitted.Before(w.Start) {
			continue
		}
		switch t.state {
		case moneyBilled:
			w.Spent += t.cost
		case moneyOpen:
			w.Reserved += t.est
		}
	}
	return w
}

// inWindow returns the ledger line of task when it was submitted in w
// and may still be billed: its estimate is already counted in w.Reserved.
func (l *ledger) inWindow(task string, w Window) (*taskMoney, bool) {
	t := l.tasks[task]
	if t == nil || w.Start.IsZero() || t.submitted.Before(w.Start) || t.state != moneyOpen {
		return nil, false
	}
	return t, true
}
