package emulator

import (
	"cmp"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Defaults of the FaultRates parameters that are not probabilities.
const (
	DefaultSlowDelay      = 5 * time.Second
	DefaultVideoURL422For = 5 * time.Second
	DefaultGenerationCode = "timeoutProvider"
)

// FaultRates are probabilities (0..1) of random faults, drawn from the
// Options.Seed generator so a run with the same seed and the same request
// order replays the same faults.
//
// Request-level rates (Status429, Status503, Status504, NonJSON500, Slow,
// Reset) are tried in that order for every API request, each an
// independent draw, and at most one fires. Task-level rates (Generation,
// Upload, VideoURL422, Expire) are drawn when a videoInference task is
// accepted. Faults queued with Inject take precedence over random ones.
type FaultRates struct {
	Status429, Status503, Reset, Generation, Upload float64

	// Status504 answers 504 (code "timeout") without processing the tasks.
	Status504 float64
	// NonJSON500 answers 500 with an HTML body, as a gateway would.
	NonJSON500 float64
	// Slow answers normally after SlowDelay (default DefaultSlowDelay).
	Slow      float64
	SlowDelay time.Duration

	// RetryAfter, when > 0, is sent as a Retry-After header (seconds) on
	// random 429, 503 and 504 replies.
	RetryAfter int
	// NoBody is the probability that a random 429, 503 or 504 reply has
	// no body at all.
	NoBody float64

	// VideoURL422 makes a task's videoURL answer 422 for VideoURL422For
	// (default DefaultVideoURL422For) after success.
	VideoURL422    float64
	VideoURL422For time.Duration
	// Expire makes a task be forgotten once it finishes: getResponse then
	// answers taskNotFound with HTTP 404.
	Expire float64
	// GenerationCode is the error code of generation faults, random ones
	// and injected ones without a Code (default DefaultGenerationCode).
	GenerationCode string
}

func (r FaultRates) withDefaults() FaultRates {
	if r.SlowDelay <= 0 {
		r.SlowDelay = DefaultSlowDelay
	}
	if r.VideoURL422For <= 0 {
		r.VideoURL422For = DefaultVideoURL422For
	}
	r.RetryAfter = max(r.RetryAfter, 0)
	r.GenerationCode = cmp.Or(r.GenerationCode, DefaultGenerationCode)
	return r
}

// randomRequestFault draws a request-level fault; nil when none fires.
// Caller holds mu.
func (e *Emulator) randomRequestFault() *Fault {
	r := e.o.FaultRates
	status := func(code int) *Fault {
		f := &Fault{Kind: FaultStatus, Status: code, NoBody: e.chance(r.NoBody)}
		if r.RetryAfter > 0 {
			f.RetryAfter = strconv.Itoa(r.RetryAfter)
		}
		return f
	}
	switch {
	case e.chance(r.Status429):
		return status(http.StatusTooManyRequests)
	case e.chance(r.Status503):
		return status(http.StatusServiceUnavailable)
	case e.chance(r.Status504):
		return status(http.StatusGatewayTimeout)
	case e.chance(r.NonJSON500):
		return &Fault{Kind: FaultNonJSON, Status: http.StatusInternalServerError}
	case e.chance(r.Slow):
		return &Fault{Kind: FaultSlow, Delay: r.SlowDelay}
	case e.chance(r.Reset):
		return &Fault{Kind: FaultReset}
	}
	return nil
}

// drawTaskFaults sets a new task's faults: queued ones first, then random
// ones per FaultRates. Caller holds mu.
func (e *Emulator) drawTaskFaults(t *task) {
	r := e.o.FaultRates
	if f := e.takeFault(kindIs(FaultGeneration)); f != nil {
		t.genFail = cmp.Or(f.Code, r.GenerationCode)
	} else if e.chance(r.Generation) {
		t.genFail = r.GenerationCode
	}
	if t.req.UploadEndpoint != "" {
		t.uploadFail = e.takeFault(kindIs(FaultUpload)) != nil || e.chance(r.Upload)
	}
	if f := e.takeFault(kindIs(FaultVideoURL422)); f != nil {
		t.notReady = f.Delay
	} else if e.chance(r.VideoURL422) {
		t.notReady = r.VideoURL422For
	}
	t.expire = e.chance(r.Expire)
}

// genFailMessage is the message of a generation fault with code.
func genFailMessage(code string) string {
	if code == DefaultGenerationCode {
		return "The external provider did not respond in time; the generation failed."
	}
	return "The generation failed (" + code + ")."
}

// registerFaultFlags registers the FaultRates flags on fs, writing into r.
func registerFaultFlags(fs *flag.FlagSet, r *FaultRates) {
	rate := func(p *float64, name, usage string) { fs.Var((*rateValue)(p), name, usage+" (a `probability` 0..1)") }
	rate(&r.Status429, "fault-429", "random 429 answer per request")
	rate(&r.Status503, "fault-503", "random 503 answer per request")
	rate(&r.Status504, "fault-504", "random 504 answer per request")
	rate(&r.NonJSON500, "fault-500-nonjson", "random 500 answer with an HTML (non-JSON) body per request")
	rate(&r.Slow, "fault-slow", "random slow answer (after --slow-delay) per request")
	rate(&r.Reset, "fault-reset", "connection reset after a request was handled")
	rate(&r.NoBody, "fault-nobody", "a random 429/503/504 answer has no body")
	rate(&r.Generation, "fault-generation", "a task's generation fails with --generation-code")
	rate(&r.Upload, "fault-upload", "a task's uploadEndpoint PUT fails")
	rate(&r.VideoURL422, "fault-videourl-422", "a task's videoURL answers 422 for --videourl-422-for after success")
	rate(&r.Expire, "fault-expire", "a task is forgotten once it finishes (getResponse: 404 taskNotFound)")
	fs.Func("retry-after", "Retry-After `seconds` on random 429/503/504 answers (0: no header)", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return fmt.Errorf("want whole seconds >= 0, got %q", s)
		}
		r.RetryAfter = n
		return nil
	})
	fs.DurationVar(&r.SlowDelay, "slow-delay", cmp.Or(r.SlowDelay, DefaultSlowDelay), "delay of a --fault-slow answer")
	fs.DurationVar(&r.VideoURL422For, "videourl-422-for", cmp.Or(r.VideoURL422For, DefaultVideoURL422For),
		"how long a --fault-videourl-422 videoURL answers 422")
	fs.StringVar(&r.GenerationCode, "generation-code", cmp.Or(r.GenerationCode, DefaultGenerationCode),
		"error code of a --fault-generation failure, e.g. providerContentModeration")
}

// rateValue is a flag.Value for a probability in 0..1.
type rateValue float64

func (v *rateValue) String() string {
	if v == nil {
		return "0"
	}
	return strconv.FormatFloat(float64(*v), 'g', -1, 64)
}

func (v *rateValue) Set(s string) error {
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || !(p >= 0 && p <= 1) { // also refuses NaN
		return fmt.Errorf("want a probability in 0..1, got %q", s)
	}
	*v = rateValue(p)
	return nil
}
