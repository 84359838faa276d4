package emulator

import (
	"flag"
	"log/slog"
	"net/http"
	"time"

	"github.com/dubline/dubline/kling"
)

// Options configure an Emulator. The zero value is usable: any non-empty
// key, unlimited balance, 2 s generations.
type Options struct {
	APIKey  string      // the accepted key; "" accepts any non-empty key
	Balance kling.Price // account balance; 0 means unlimited
	// BalanceObject reports getDetails' balance as {"amount", "freeBalance",
	// "currency"} (newer docs) instead of a number (live REST).
	BalanceObject bool
	// RefusePing answers the ping task with 400 unsupportedTaskType (Runware
	// documents ping for WebSocket only).
	RefusePing bool
	// DryRunFactor scales the cost a dry run (X-Runware-Dry-Run) quotes
	// against the price rule, to rehearse a page that understates the
	// price (0: 1).
	DryRunFactor float64
	// Capacity, when > 0, refuses a videoInference task with 429
	// rateLimitExceeded while Capacity tasks are running (a provider's
	// concurrency limit).
	Capacity       int
	Latency        time.Duration // mean generation time per result (default 2s)
	LatencyJitter  time.Duration // +- uniform jitter
	QueueDelay     time.Duration // delay before "processing" work (input fetch) starts
	Seed           int64         // seeds all randomness, so a failing test can be replayed
	HTTPClient     *http.Client  // fetches inputs, PUTs uploadEndpoint, POSTs webhooks
	PublicURL      string        // base URL for videoURL/mediaURL; "" derives it from the request Host
	Limits         *kling.Limits // default &kling.DefaultLimits
	FFmpeg         bool          // when true and ffmpeg is on PATH, remix the audio and transcode
	ErrorShape     string        // "errors" (default, documented) or "data"
	WebhookRetries int           // retries after a failed webhook POST (default 3; negative: none)
	FaultRates     FaultRates    // random faults for rehearsals
	Logger         *slog.Logger  // default: discard

	// Probe reads inputs; default media.Probe.
	Probe Prober
	// DefaultTTL is how long videoURL stays served when the task sets no
	// ttl (default 24h; Runware does not document it).
	DefaultTTL time.Duration
}

const (
	// ErrorShapeErrors reports a failed generation in the errors array
	// (documented).
	ErrorShapeErrors = "errors"
	// ErrorShapeData reports it as a data item with status "error" and an
	// embedded error object (seen in the official SDKs).
	ErrorShapeData = "data"
)

func (o Options) withDefaults() Options {
	if o.Latency == 0 {
		o.Latency = 2 * time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if o.Limits == nil {
		o.Limits = &kling.DefaultLimits
	}
	if o.ErrorShape == "" {
		o.ErrorShape = ErrorShapeErrors
	}
	if o.WebhookRetries == 0 {
		o.WebhookRetries = 3
	} else if o.WebhookRetries < 0 {
		o.WebhookRetries = 0
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Probe == nil {
		o.Probe = defaultProbe
	}
	if o.DefaultTTL == 0 {
		o.DefaultTTL = 24 * time.Hour
	}
	o.FaultRates = o.FaultRates.withDefaults()
	return o
}

// RegisterFlags registers the options `dubline sandbox` exposes on fs,
// writing into o.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.APIKey, "api-key", o.APIKey, `accepted API key ("" accepts any non-empty key)`)
	fs.Func("balance", "account balance in USD, e.g. 5 or 0.0924 (0: unlimited)", func(s string) error {
		p, err := kling.ParseUSD(s)
		if err != nil {
			return err
		}
		o.Balance = p
		return nil
	})
	if o.Latency == 0 {
		o.Latency = 2 * time.Second
	}
	fs.BoolVar(&o.BalanceObject, "balance-object", o.BalanceObject, `report the balance as {"amount": ...} instead of a number`)
	fs.IntVar(&o.Capacity, "capacity", o.Capacity, "refuse videoInference tasks with 429 while this many are running (0: no limit)")
	fs.Float64Var(&o.DryRunFactor, "dry-run-factor", o.DryRunFactor, "scale the cost dry runs quote against the price rule (0: 1)")
	fs.BoolVar(&o.RefusePing, "refuse-ping", o.RefusePing, "answer the ping task with 400 unsupportedTaskType")
	fs.DurationVar(&o.Latency, "latency", o.Latency, "mean generation time per result")
	fs.DurationVar(&o.LatencyJitter, "jitter", o.LatencyJitter, "uniform +- jitter on the generation time")
	fs.DurationVar(&o.QueueDelay, "queue-delay", o.QueueDelay, "delay before a task starts processing")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "seed for all randomness (replayable runs)")
	fs.BoolVar(&o.FFmpeg, "ffmpeg", o.FFmpeg, "mix the new audio into the output with ffmpeg (needs ffmpeg on PATH)")
	fs.StringVar(&o.ErrorShape, "error-shape", ErrorShapeErrors, `how getResponse reports a failed generation: "errors" or "data"`)
	registerFaultFlags(fs, &o.FaultRates)
}
