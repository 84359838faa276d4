package retry

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestDelay(t *testing.T) {
	p := Policy{Initial: time.Second, Max: 10 * time.Second}
	for _, c := range []struct {
		n          int
		retryAfter time.Duration
		u          float64
		want       time.Duration
	}{
		{1, 0, 0, 500 * time.Millisecond}, // [d/2, d] for d = 1 s
		{1, 0, 0.999999999, time.Second - 1},
		{2, 0, 0, time.Second},
		{3, 0, 0.5, 3 * time.Second},
		{5, 0, 0, 5 * time.Second}, // 16 s capped at 10 s
		{50, 0, 0.999999999, 10*time.Second - 5},
		{1, 4 * time.Second, 0, 4 * time.Second}, // the server's wish wins
		{1, time.Hour, 0, 10 * time.Second},      // capped
	} {
		if got := p.Delay(c.n, c.retryAfter, c.u); got != c.want {
			t.Errorf("Delay(%d, %v, %v) = %v, want %v", c.n, c.retryAfter, c.u, got, c.want)
		}
	}
}

// Attempts and Window each end the retries; the sleeps follow the policy
// on the fake clock.
func TestRetrierBounds(t *testing.T) {
	zero := func() float64 { return 0 }
	for _, c := range []struct {
		name    string
		p       Policy
		retries int           // Failed calls that return true
		slept   time.Duration // total sleep
	}{
		{"attempts", Policy{Initial: time.Second, Max: 4 * time.Second, Attempts: 4}, 3, 500*time.Millisecond + time.Second + 2*time.Second},
		{"window", Policy{Initial: time.Second, Max: 8 * time.Second, Window: 5 * time.Second}, 3, 500*time.Millisecond + time.Second + 2*time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				r := c.p.Start(zero)
				n := 0
				for {
					ok, err := r.Failed(t.Context(), 0)
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						break
					}
					n++
				}
				if n != c.retries || time.Since(start) != c.slept {
					t.Errorf("%d retries after %v, want %d after %v", n, time.Since(start), c.retries, c.slept)
				}
			})
		})
	}
}

func TestRetrierContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		r := Policy{Initial: time.Second}.Start(func() float64 { return 0 })
		if ok, err := r.Failed(ctx, 0); ok || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Failed = %t, %v", ok, err)
		}
	})
}
