package runware

import (
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/dubline/dubline/internal/retry"
)

// Options configure a Client. Only APIKey is required; every zero field
// takes the default named in its comment.
type Options struct {
	URL        string       // endpoint; default DefaultURL (callers pass manifest/RUNWARE_API_URL overrides)
	APIKey     string       // required; sent only as "Authorization: Bearer"
	HTTPClient *http.Client // default: a client with a pooled transport and no overall timeout
	Logger     *slog.Logger // default: discard
	UserAgent  string       // default "dubline/<module version>"

	MaxBatch    int           // tasks per POST, for submits and polls (default 50)
	BatchWindow time.Duration // how long a submit waits to gather a batch (default 10ms)

	// The poll schedule (schedule.go): until it has learned render times,
	// a task is first polled PollInitialDelay after Wait starts (default
	// 1s), then at PollInterval (default 1s) growing x1.5 with jitter up
	// to PollMaxInterval (default 5s), which also caps the learned
	// schedule's intervals. PollRoundGap is the least time between two poll
	// rounds (default 500ms): at most 2 rounds a second, each one request
	// per MaxBatch tasks due.
	PollInitialDelay time.Duration
	PollInterval     time.Duration
	PollMaxInterval  time.Duration
	PollRoundGap     time.Duration

	RequestTimeout time.Duration // per HTTP request (default 60s)
	// Retry bounds the transport retries of a submit, upload or ping
	// request; its Max also caps a Retry-After that delays polls (default
	// DefaultRetry; zero fields take its values).
	Retry retry.Policy

	Rand *rand.Rand // jitter source; default seeded from the runtime
}

// Defaults.
const (
	DefaultMaxBatch         = 50
	DefaultBatchWindow      = 10 * time.Millisecond
	DefaultPollInitialDelay = time.Second
	DefaultPollInterval     = time.Second
	DefaultPollMaxInterval  = 5 * time.Second
	DefaultPollRoundGap     = 500 * time.Millisecond
	DefaultRequestTimeout   = 60 * time.Second
)

// DefaultRetry: six attempts from 1 s, doubling up to 30 s.
var DefaultRetry = retry.Policy{Initial: time.Second, Max: 30 * time.Second, Attempts: 6}

func (o Options) withDefaults() Options {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 64
		t.MaxIdleConnsPerHost = 32
		o.HTTPClient = &http.Client{Transport: t}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.UserAgent == "" {
		o.UserAgent = "dubline/" + moduleVersion()
	}
	setDefault(&o.MaxBatch, DefaultMaxBatch)
	setDefault(&o.BatchWindow, DefaultBatchWindow)
	setDefault(&o.PollInitialDelay, DefaultPollInitialDelay)
	setDefault(&o.PollInterval, DefaultPollInterval)
	setDefault(&o.PollMaxInterval, DefaultPollMaxInterval)
	if o.PollMaxInterval < o.PollInterval {
		o.PollMaxInterval = o.PollInterval
	}
	setDefault(&o.PollRoundGap, min(DefaultPollRoundGap, o.PollInterval/2))
	setDefault(&o.RequestTimeout, DefaultRequestTimeout)
	setDefault(&o.Retry.Attempts, DefaultRetry.Attempts)
	setDefault(&o.Retry.Initial, DefaultRetry.Initial)
	setDefault(&o.Retry.Max, DefaultRetry.Max)
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return o
}

func setDefault[T int | time.Duration](p *T, def T) {
	if *p <= 0 {
		*p = def
	}
}

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return "dev"
}
