package emulator

import (
	"context"
	"maps"
	"math/rand"
	"sync"
	"time"

	"github.com/dubline/dubline/kling"
)

// UnlimitedBalanceUSD is what accountManagement/getDetails reports when
// the balance is unlimited (Options.Balance 0).
const UnlimitedBalanceUSD = 1_000_000.0

// Emulator is a local Runware API. Create it with New, serve it as an
// http.Handler, and Close it to stop background work.
type Emulator struct {
	o      Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	now    func() time.Time // the clock for ttl and 422 windows; tests may replace it

	mu      sync.Mutex
	rng     *rand.Rand
	closed  bool
	stats   Stats
	limited bool        // the balance is limited
	running int         // accepted videoInference tasks not finished (Options.Capacity)
	balance kling.Price // remaining, when limited
	known   map[string]bool
	tasks   map[string]*task
	media   map[string]*blob
	videos  map[string]*output
	faults  []*Fault
}

// Stats counts what the emulator saw and did. Stats() returns a copy.
type Stats struct {
	Requests          int            // HTTP requests to the API endpoint
	TasksAccepted     int            // videoInference tasks accepted
	AcceptedByUUID    map[string]int // taskUUID -> times accepted (must never exceed 1)
	DuplicatesRefused int            // 409 conflictTaskUUID answers
	GetResponseCalls  int            // getResponse tasks received
	Succeeded, Failed int            // videoInference tasks finished each way
	BytesUploaded     int64          // bytes PUT to uploadEndpoints successfully
	UploadsFailed     int
	CostBilled        kling.Price // total billed, in units of $0.0001 (also in /debug/stats JSON)
	BilledByUUID      map[string]kling.Price
	WebhooksSent      int // webhook POSTs answered 2xx
	DryRuns           int // videoInference tasks quoted (X-Runware-Dry-Run), never run nor billed
	CapacityRefused   int // videoInference tasks refused with 429 above Options.Capacity
}

// blob is media stored by mediaStorage upload.
type blob struct {
	data        []byte
	contentType string
}

// output is a generated video served at its videoURL.
type output struct {
	data          []byte
	contentType   string
	expires       time.Time
	notReadyUntil time.Time
}

// New returns an emulator; background work starts with the first task.
func New(o Options) *Emulator {
	o = o.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	e := &Emulator{
		o: o, ctx: ctx, cancel: cancel, now: time.Now,
		rng:     rand.New(rand.NewSource(o.Seed)),
		limited: o.Balance > 0, balance: o.Balance,
		known: map[string]bool{}, tasks: map[string]*task{},
		media: map[string]*blob{}, videos: map[string]*output{},
	}
	e.stats.AcceptedByUUID = map[string]int{}
	e.stats.BilledByUUID = map[string]kling.Price{}
	return e
}

// Close stops generation timers and webhook senders and waits for them.
// Tasks still processing stay "processing" forever.
func (e *Emulator) Close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
}

// Stats returns a snapshot of the counters.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.AcceptedByUUID = maps.Clone(e.stats.AcceptedByUUID)
	s.BilledByUUID = maps.Clone(e.stats.BilledByUUID)
	return s
}

// SetBalance sets the remaining account balance; 0 means unlimited.
func (e *Emulator) SetBalance(p kling.Price) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.limited, e.balance = p > 0, p
}

// Balance returns the remaining balance and whether it is limited.
func (e *Emulator) Balance() (kling.Price, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.balance, e.limited
}

// jitter returns d ± a uniform draw within j; never negative. Caller holds mu.
func (e *Emulator) jitter(d, j time.Duration) time.Duration {
	if j > 0 {
		d += time.Duration(e.rng.Int63n(int64(2*j)+1)) - j
	}
	return max(d, 0)
}

// chance draws a probability. Caller holds mu.
func (e *Emulator) chance(p float64) bool {
	return p > 0 && e.rng.Float64() < p
}

// sleep waits d or until Close; it reports whether the wait completed.
func (e *Emulator) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// goBackground runs f on a goroutine that Close waits for; it refuses
// once closed.
func (e *Emulator) goBackground(f func()) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		f()
	}()
	return true
}
