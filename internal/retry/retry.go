// Package retry is Dubline's one retry policy: exponential backoff with
// jitter, bounded by a number of attempts and a time window. The Runware
// client and the storage transfers both retry with it.
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy bounds the retries of one operation. Delays grow exponentially
// from Initial to Max with "equal jitter" (a random value in [d/2, d], so
// parallel retries spread out and no delay exceeds Max); a delay the
// server asked for (Retry-After) replaces the computed one, capped at Max.
// Attempts and Window are 0 for "no bound of that kind".
type Policy struct {
	Initial  time.Duration // delay after the first failed attempt
	Max      time.Duration // cap of every delay
	Attempts int           // attempts in all, the first included
	Window   time.Duration // no attempt starts later than this after the first
}

// Delay is the pause after n failed attempts (n >= 1); u in [0, 1) picks
// the jitter.
func (p Policy) Delay(n int, retryAfter time.Duration, u float64) time.Duration {
	if retryAfter > 0 {
		if p.Max > 0 {
			return min(retryAfter, p.Max)
		}
		return retryAfter
	}
	d := p.Initial
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	for i := 1; i < n && (p.Max <= 0 || d < p.Max); i++ {
		d *= 2
	}
	if p.Max > 0 && d > p.Max {
		d = p.Max
	}
	half := d / 2
	return half + time.Duration(u*float64(d-half))
}

// Retrier follows the policy for one operation.
type Retrier struct {
	p     Policy
	rand  func() float64
	start time.Time
	n     int
}

// Start begins an operation now. rand gives jitter values in [0, 1); nil
// uses math/rand/v2.
func (p Policy) Start(rand func() float64) *Retrier {
	if rand == nil {
		rand = randFloat
	}
	return &Retrier{p: p, rand: rand, start: time.Now()}
}

var randFloat = rand.Float64

// Failed counts a failed attempt and sleeps before the next one. It
// returns false when the policy allows no further attempt (the next would
// start past the window, or the attempts are used up), and ctx.Err() if
// ctx ends while sleeping.
func (r *Retrier) Failed(ctx context.Context, retryAfter time.Duration) (bool, error) {
	r.n++
	if r.p.Attempts > 0 && r.n >= r.p.Attempts {
		return false, nil
	}
	d := r.p.Delay(r.n, retryAfter, r.rand())
	if r.p.Window > 0 && time.Since(r.start)+d > r.p.Window {
		return false, nil
	}
	if err := Sleep(ctx, d); err != nil {
		return false, err
	}
	return true, nil
}

// Attempts is the number of failed attempts counted so far.
func (r *Retrier) Attempts() int { return r.n }

// Sleep waits d or until ctx is done, whichever is first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
