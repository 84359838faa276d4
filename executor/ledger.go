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
// unbilled. A task belongs to the window whose record precedes its
// submitting record in the journal (position, not clock: two runners'
// clocks, or one stepping back, cannot move a task out of its window);
// the window record is durable before any submission in it. A task left
// over from an earlier window counts in that one, wherever it is resumed.

// taskMoney is one task's line in the ledger.
type taskMoney struct {
	window int // the number of window records before its submission: its window's index + 1 (0: none)
	est    kling.Price
	cost   kling.Price
	state  moneyState
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
		t = &taskMoney{window: len(l.windows), est: r.Est}
		l.tasks[r.Task] = t
	}
	// A bill is never taken back: a later record without a cost (a failed
	// retry's bookkeeping, a succeeded found after Runware forgot the task)
	// keeps what was billed.
	switch r.Ev {
	case evSucceeded, evUndelivered:
		t.bill(r.Cost, r.CostReported)
	case evFailed:
		if r.Billed {
			t.bill(r.Cost, false)
		} else if t.state == moneyOpen {
			t.state = moneyFree
		}
	case evForgotten:
		if t.state == moneyOpen {
			t.state = moneyFree
		}
	}
}

// bill records a task's cost; a zero cost Runware did not report keeps a
// known cost, else counts the estimate.
func (t *taskMoney) bill(cost kling.Price, reported bool) {
	switch {
	case cost > 0 || reported:
		t.cost = cost
	case t.state != moneyBilled:
		t.cost = t.est
	}
	t.state = moneyBilled
}

// Window is a budget window as the journal has it.
type Window struct {
	Start, End time.Time   // zero: no window is open
	Spent      kling.Price // billed to tasks submitted in the window
	Reserved   kling.Price // estimates of its tasks that may still be billed
	index      int         // its place among the journal's windows, from 1 (0: none yet)
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
	w := Window{Start: l.windows[len(l.windows)-1], index: len(l.windows)}
	w.End = w.Start.Add(length)
	if !w.Open(now) {
		return Window{}
	}
	for _, t := range l.tasks {
		if t.window != w.index {
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
	if t == nil || w.index == 0 || t.window != w.index || t.state != moneyOpen {
		return nil, false
	}
	return t, true
}

// countsElsewhere reports whether task was submitted in another (earlier)
// budget window than w: it counts there, not in w. A task from before any
// window record (a journal older than the ledger) counts wherever it is
// resumed.
func (l *ledger) countsElsewhere(task string, w Window) bool {
	t := l.tasks[task]
	return t != nil && t.window > 0 && t.window != w.index
}
