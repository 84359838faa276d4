package executor

import (
	"sync"

	"github.com/dubline/dubline/kling"
)

// Budget. Before each submission the job's estimate is reserved; a job whose
// reservation would make spent + reserved exceed the budget is not submitted,
// no further job is started, the rest stay pending and StoppedBy is "budget".
// A result replaces the reservation by the actual cost (the reported cost,
// else the estimate). A failed task releases it (failed generations are
// reportedly not billed). A task whose outcome is unknown at the end of the
// run keeps its reservation, reported as Reserved. Regenerations reuse the
// job's reservation. The actual cost is only known after the fact, so if
// Runware bills more than the price rule estimated, later reservations are
// scaled by the worst actual/estimate ratio seen so far: an underestimating
// rule can then overrun the budget only by the drift of jobs already in
// flight when the first underestimate was billed (none at concurrency 1),
// and the drift is reported per job and in total.

// budget tracks money committed by the run: spent (results received) plus
// reserved (estimates of tasks submitted or about to be). With a limit,
// reserve refuses anything that would make spent + reserved exceed it.
type budget struct {
	mu       sync.Mutex
	limit    kling.Price // 0: none
	spent    kling.Price
	reserved kling.Price
	// The worst actual/estimate ratio billed so far (num/den, >= 1). Later
	// reservations are scaled by it, so a price rule that underestimates
	// cannot overrun the budget by more than the jobs already in flight
	// when the first underestimate was seen.
	num, den kling.Price
}

// scaled returns the reservation for an estimate: the estimate times the
// worst ratio seen, rounded up.
func (b *budget) scaled(est kling.Price) kling.Price {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.scaledLocked(est)
}

func (b *budget) scaledLocked(est kling.Price) kling.Price {
	if b.den == 0 || b.num <= b.den {
		return est
	}
	return (est*b.num + b.den - 1) / b.den
}

// learn records a billed job's estimate and actual cost.
func (b *budget) learn(est, actual kling.Price) {
	if est <= 0 || actual <= est {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.den == 0 || actual*b.den > b.num*est {
		b.num, b.den = actual, est
	}
}

// reserve books p if it fits under the limit.
func (b *budget) reserve(p kling.Price) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit > 0 && b.spent+b.reserved+p > b.limit {
		return false
	}
	b.reserved += p
	return true
}

// force books p without a check: for tasks an earlier run committed.
func (b *budget) force(p kling.Price) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reserved += p
}

// settle replaces a reservation by what was actually spent (0 to release).
func (b *budget) settle(reservation, actual kling.Price) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reserved -= reservation
	b.spent += actual
}

func (b *budget) snapshot() (spent, reserved kling.Price) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent, b.reserved
}
