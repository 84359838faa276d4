package storage

import (
	"context"
	"math/rand/v2"
	"time"
)

// retrier counts attempts and sleeps between them.
type retrier struct {
	r       Retry
	start   time.Time
	attempt int // attempts made so far
}

func newRetrier(r Retry) *retrier { return &retrier{r: r, start: time.Now()} }

// wait sleeps before the next attempt. It returns false when the bounds are
// exhausted (or the sleep would cross the window), and ctx.Err() when ctx
// ends while sleeping.
func (t *retrier) wait(ctx context.Context) (bool, error) {
	t.attempt++
	if t.r.Attempts > 0 && t.attempt >= t.r.Attempts {
		return false, nil
	}
	d := t.delay()
	if t.r.Window > 0 && time.Since(t.start)+d > t.r.Window {
		return false, nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-timer.C:
		return true, nil
	}
}

// delay is Initial*2^(attempt-1), capped at Max, with "equal jitter": a
// random value in [d/2, d], so parallel retries spread out.
func (t *retrier) delay() time.Duration {
	d := t.r.Initial
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	for i := 1; i < t.attempt; i++ {
		d *= 2
		if t.r.Max > 0 && d >= t.r.Max {
			d = t.r.Max
			break
		}
	}
	if t.r.Max > 0 && d > t.r.Max {
		d = t.r.Max
	}
	half := d / 2
	return half + rand.N(half+1)
}
