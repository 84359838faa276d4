package runware

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// jitterSource is a goroutine-safe wrapper around the configured *rand.Rand.
type jitterSource struct {
	mu sync.Mutex
	r  *rand.Rand
}

// float returns a value in [0, 1).
func (j *jitterSource) float() float64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.r.Float64()
}

// spread returns d scaled by a random factor in [1-frac, 1+frac).
func (j *jitterSource) spread(d time.Duration, frac float64) time.Duration {
	f := 1 - frac + 2*frac*j.float()
	return time.Duration(float64(d) * f)
}

// backoffDelay is the transport retry delay before attempt+1 (attempt >= 1):
// base·2^(attempt-1), capped at max, then ±30 % jitter, still capped at max.
func backoffDelay(j *jitterSource, base, max time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	d = j.spread(d, 0.3)
	if d > max {
		d = max
	}
	return d
}

// retryDelay picks the wait before the next attempt: the server's
// Retry-After when it gave one (capped at max), else backoffDelay.
func retryDelay(j *jitterSource, base, max time.Duration, attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, max)
	}
	return backoffDelay(j, base, max, attempt)
}

// nextPollInterval grows a poll interval by 1.5, capped at max.
func nextPollInterval(cur, max time.Duration) time.Duration {
	n := cur + cur/2
	if n > max {
		n = max
	}
	return n
}

// sleepCtx waits d or until ctx is done, whichever is first.
func sleepCtx(ctx context.Context, d time.Duration) error {
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
