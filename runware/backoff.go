package runware

import (
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

// nextPollInterval grows a poll interval by 1.5, capped at max.
func nextPollInterval(cur, max time.Duration) time.Duration {
	n := cur + cur/2
	if n > max {
		n = max
	}
	return n
}
