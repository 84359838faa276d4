package runware

import (
	"slices"
	"time"
)

// Poll schedule. One getResponse request asks about up to MaxBatch tasks,
// so what a poll costs is a round, not a task: the schedule aims at
// latency (finding a finished task soon) and lets rounds share requests.
//
// Untrained (fewer than minSamples finished tasks seen), a task is polled
// PollInitialDelay after its Wait starts, then at PollInterval growing
// x1.5 up to PollMaxInterval, as Runware's own SDKs do. Trained, the
// schedule knows when tasks finish: each finished task gives an interval
// [lo, hi] of its render time (lo: the last poll that found it processing,
// hi: the one that found it done). A task is first polled at the 10th
// percentile of lo, then every hot interval (hotFraction of the median
// render time, at least PollRoundGap, at most PollMaxInterval) until the
// 90th percentile of hi, then backing off x1.5 to PollMaxInterval. The
// expected detection delay is half the hot interval: 0.75 % of the render
// time (the shell loop Runware's SDKs suggest, a poll every 2 s, averages
// 1 s). Samples come from this run's tasks and from Learn (earlier runs
// in the journal). PollRoundGap caps the rate of rounds (default 2 per
// second); Retry-After and 429 still push polls back (poller.reschedule).
const (
	minSamples  = 5
	maxSamples  = 256 // a ring: the schedule follows a drifting render time
	hotFraction = 0.015
)

// schedule learns render times; only the poller goroutine touches it.
type schedule struct {
	o        *Options
	lo, hi   []time.Duration // ring buffers, same length
	next     int             // ring position
	start    time.Duration   // first poll of a trained schedule
	hotUntil time.Duration   // end of the dense part
	hot      time.Duration   // interval in the dense part
}

// observe records a finished task's render time, known to lie in [lo, hi].
// It reports whether the schedule just became trained: tasks waiting on
// the untrained back-off should then be rescheduled.
func (s *schedule) observe(lo, hi time.Duration) (nowTrained bool) {
	if hi <= 0 {
		return false
	}
	was := s.trained()
	lo = min(max(lo, 0), hi)
	if len(s.lo) < maxSamples {
		s.lo, s.hi = append(s.lo, lo), append(s.hi, hi)
	} else {
		s.lo[s.next], s.hi[s.next] = lo, hi
		s.next = (s.next + 1) % maxSamples
	}
	if len(s.lo) >= minSamples {
		s.train()
	}
	return !was && s.trained()
}

// train recomputes the schedule from the samples (once per finished task).
func (s *schedule) train() {
	lo, hi := slices.Clone(s.lo), slices.Clone(s.hi)
	slices.Sort(lo)
	slices.Sort(hi)
	q := func(v []time.Duration, p float64) time.Duration { return v[int(p*float64(len(v)-1))] }
	median := (q(lo, 0.5) + q(hi, 0.5)) / 2
	s.start = q(lo, 0.1)
	s.hotUntil = q(hi, 0.9)
	s.hot = min(max(time.Duration(hotFraction*float64(median)), s.o.PollRoundGap), s.o.PollMaxInterval)
}

func (s *schedule) trained() bool { return len(s.lo) >= minSamples }

// first is how long after its Wait started a task is first polled.
func (s *schedule) first() time.Duration {
	if s.trained() {
		return max(s.start, s.o.PollRoundGap)
	}
	return s.o.PollInitialDelay
}

// after is the delay to the next poll of a task of this age still
// processing; interval is the task's back-off state, which it updates.
func (s *schedule) after(age time.Duration, interval *time.Duration) time.Duration {
	if !s.trained() {
		d := *interval
		*interval = nextPollInterval(*interval, s.o.PollMaxInterval)
		return d
	}
	switch {
	case age < s.start:
		return s.start - age
	case age < s.hotUntil:
		*interval = s.hot
		return s.hot
	}
	// The tail: slower than most; back off from the hot interval.
	d := max(*interval, s.hot)
	*interval = nextPollInterval(d, s.o.PollMaxInterval)
	return d
}
