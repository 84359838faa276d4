package emulator

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const pingBody = `[{"taskType":"ping","ping":true}]`

// TestRandomStatusFaultRates checks each request-level rate at 1.0 over
// real HTTP: status, body and Retry-After as a client sees them.
func TestRandomStatusFaultRates(t *testing.T) {
	tests := []struct {
		name       string
		rates      FaultRates
		status     int
		code       string // JSON errors code; "" when no JSON body
		html       bool   // HTML body
		noBody     bool
		retryAfter string
	}{
		{name: "504", rates: FaultRates{Status504: 1}, status: 504, code: "timeout"},
		{name: "504 retry-after", rates: FaultRates{Status504: 1, RetryAfter: 2}, status: 504, code: "timeout", retryAfter: "2"},
		{name: "429 retry-after", rates: FaultRates{Status429: 1, RetryAfter: 3}, status: 429, code: "rateLimitExceeded", retryAfter: "3"},
		{name: "503 retry-after", rates: FaultRates{Status503: 1, RetryAfter: 1}, status: 503, code: "serviceUnavailable", retryAfter: "1"},
		{name: "503 no body", rates: FaultRates{Status503: 1, NoBody: 1}, status: 503, noBody: true},
		{name: "429 no body retry-after", rates: FaultRates{Status429: 1, NoBody: 1, RetryAfter: 2}, status: 429, noBody: true, retryAfter: "2"},
		{name: "504 no body", rates: FaultRates{Status504: 1, NoBody: 1}, status: 504, noBody: true},
		{name: "500 non-JSON", rates: FaultRates{NonJSON500: 1}, status: 500, html: true},
		{name: "500 non-JSON ignores retry-after and nobody", rates: FaultRates{NonJSON500: 1, RetryAfter: 2, NoBody: 1}, status: 500, html: true},
		{name: "nobody alone faults nothing", rates: FaultRates{NoBody: 1}, status: 200},
		{name: "retry-after alone faults nothing", rates: FaultRates{RetryAfter: 5}, status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t, Options{FaultRates: tc.rates})
			id := newID()
			r := v.post(body(v.task(id)))
			if r.Status != tc.status || r.Header.Get("Retry-After") != tc.retryAfter {
				t.Fatalf("got %d Retry-After %q, want %d %q: %s", r.Status, r.Header.Get("Retry-After"), tc.status, tc.retryAfter, r.Raw)
			}
			switch {
			case tc.status == 200:
				if v.e.Stats().AcceptedByUUID[id] != 1 {
					t.Fatal("the task must be accepted when no fault fires")
				}
				return
			case tc.noBody:
				if r.Raw != "" {
					t.Fatalf("want no body, got %q", r.Raw)
				}
			case tc.html:
				if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.Raw, "<html>") {
					t.Fatalf("want HTML, got %s %q", r.Header.Get("Content-Type"), r.Raw)
				}
			default:
				if errField(r, "code") != tc.code {
					t.Fatalf("code %v, want %s: %s", errField(r, "code"), tc.code, r.Raw)
				}
			}
			if s := v.e.Stats(); s.TasksAccepted != 0 {
				t.Fatalf("a faulted request must not process its tasks: %+v", s)
			}
		})
	}
}

func TestRandomSlowFaultRate(t *testing.T) {
	const delay = 150 * time.Millisecond
	v := newEnv(t, Options{FaultRates: FaultRates{Slow: 1, SlowDelay: delay}})
	for range 2 {
		start := time.Now()
		r := v.post(pingBody)
		if el := time.Since(start); r.Status != 200 || el < delay {
			t.Fatalf("slow reply: %d after %v, want 200 after >= %v", r.Status, el, delay)
		}
	}
	if d := New(Options{FaultRates: FaultRates{Slow: 1}}).o.FaultRates.SlowDelay; d != DefaultSlowDelay {
		t.Fatalf("default slow delay %v", d)
	}
}

func TestRandomVideoURL422Rate(t *testing.T) {
	v := newEnv(t, Options{FaultRates: FaultRates{VideoURL422: 1, VideoURL422For: 10 * time.Second}})
	now := time.Now()
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	v.e.now = func() time.Time { return time.Unix(0, clock.Load()) }
	id := newID()
	v.post(body(v.task(id)))
	url := v.wait(id, 1).Data[0]["videoURL"].(string)
	if st, _, _ := get(t, url); st != 422 {
		t.Fatalf("inside the window: %d, want 422", st)
	}
	clock.Store(now.Add(9 * time.Second).UnixNano())
	if st, _, _ := get(t, url); st != 422 {
		t.Fatalf("9 s in: %d, want 422", st)
	}
	clock.Store(now.Add(11 * time.Second).UnixNano())
	if st, _, b := get(t, url); st != 200 || len(b) == 0 {
		t.Fatalf("after the window: %d", st)
	}
}

func TestRandomExpireRate(t *testing.T) {
	for _, gen := range []float64{0, 1} {
		t.Run(fmt.Sprintf("generation fault %v", gen), func(t *testing.T) {
			v := newEnv(t, Options{FaultRates: FaultRates{Expire: 1, Generation: gen}})
			id := newID()
			if r := v.post(body(v.task(id))); r.Status != 200 {
				t.Fatalf("submit: %s", r.Raw)
			}
			eventually(t, "completion", func() bool { s := v.e.Stats(); return s.Succeeded+s.Failed == 1 })
			r := v.post(getResponse(id))
			if r.Status != 404 || errField(r, "code") != "taskNotFound" || errField(r, "taskUUID") != id {
				t.Fatalf("expired task: %d %s", r.Status, r.Raw)
			}
		})
	}
}

func TestGenerationCode(t *testing.T) {
	const code = "providerContentModeration"
	// A random generation fault uses the code.
	v := newEnv(t, Options{FaultRates: FaultRates{Generation: 1, GenerationCode: code}})
	id := newID()
	v.post(body(v.task(id)))
	r := v.wait(id, 1)
	if errField(r, "code") != code || !strings.Contains(errField(r, "message").(string), code) {
		t.Fatalf("random generation fault: %s", r.Raw)
	}
	// So does an injected one without its own Code; one with a Code keeps it.
	v = newEnv(t, Options{FaultRates: FaultRates{GenerationCode: code}})
	v.e.Inject(Fault{Kind: FaultGeneration})
	v.e.Inject(Fault{Kind: FaultGeneration, Code: "timeoutProvider"})
	for _, want := range []string{code, "timeoutProvider"} {
		id := newID()
		v.post(body(v.task(id)))
		if r := v.wait(id, 1); errField(r, "code") != want {
			t.Fatalf("injected generation fault: %s, want %s", r.Raw, want)
		}
	}
}

// requestPattern sends n pings and describes each answer: status with "n"
// for no body and "r" for Retry-After, "html" for a non-JSON 500, "slow"
// for a client timeout, "reset" for a dropped connection, "." for 200.
func requestPattern(t *testing.T, seed int64, n int) []string {
	rates := FaultRates{Status429: 0.15, Status503: 0.15, Status504: 0.15, NonJSON500: 0.12, Slow: 0.1, Reset: 0.1,
		NoBody: 0.5, RetryAfter: 1, SlowDelay: time.Hour}
	v := newEnv(t, Options{Seed: seed, FaultRates: rates})
	c := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	var out []string
	for range n {
		req, _ := http.NewRequest(http.MethodPost, v.srv.URL, strings.NewReader(pingBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testKey)
		hr, err := c.Do(req)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			out = append(out, "slow")
			continue
		case err != nil:
			out = append(out, "reset")
			continue
		}
		r := decode(t, hr)
		hr.Body.Close()
		s := fmt.Sprint(r.Status)
		switch {
		case r.Status == 200:
			s = "."
		case strings.Contains(r.Raw, "<html>"):
			s = "html"
		default:
			if r.Raw == "" {
				s += "n"
			}
			if r.Header.Get("Retry-After") == "1" {
				s += "r"
			}
		}
		out = append(out, s)
	}
	return out
}

// TestRandomFaultRatesReplayBySeed: the same seed and request order give
// the same request-level faults, every kind among them; another seed
// gives others.
func TestRandomFaultRatesReplayBySeed(t *testing.T) {
	const n = 40
	a, b, c := requestPattern(t, 13, n), requestPattern(t, 13, n), requestPattern(t, 4, n)
	if strings.Join(a, " ") != strings.Join(b, " ") || strings.Join(a, " ") == strings.Join(c, " ") {
		t.Fatalf("seed 13 twice and seed 4:\n%v\n%v\n%v", a, b, c)
	}
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, want := range []string{".", "429r", "429nr", "503r", "503nr", "504r", "504nr", "html", "slow", "reset"} {
		if !seen[want] {
			t.Errorf("seed 13 pattern lacks %q: %v", want, a)
		}
	}
}

// taskPattern submits n tasks one after another and describes each
// outcome: "gen" generation fault, "exp" forgotten, else the videoURL
// status; "+upfail" when its upload failed.
func taskPattern(t *testing.T, seed int64, n int) []string {
	rates := FaultRates{Generation: 0.25, Upload: 0.4, VideoURL422: 0.4, VideoURL422For: time.Hour, Expire: 0.3}
	v := newEnv(t, Options{Seed: seed, FaultRates: rates})
	sink := newSink(t, func(http.ResponseWriter, *http.Request) {})
	var out []string
	for i := range n {
		id := newID()
		task := v.task(id)
		task["uploadEndpoint"] = sink + "/out.mp4"
		failedBefore := v.e.Stats().UploadsFailed
		if r := v.post(body(task)); r.Status != 200 {
			t.Fatalf("submit: %s", r.Raw)
		}
		eventually(t, "completion", func() bool { s := v.e.Stats(); return s.Succeeded+s.Failed == i+1 })
		r := v.post(getResponse(id))
		var s string
		switch {
		case r.Status == 404:
			s = "exp"
		case errField(r, "code") == "timeoutProvider":
			s = "gen"
		case len(r.Data) == 1 && r.Data[0]["status"] == "success":
			st, _, _ := get(t, r.Data[0]["videoURL"].(string))
			s = fmt.Sprint(st)
		default:
			t.Fatalf("unexpected answer: %d %s", r.Status, r.Raw)
		}
		if v.e.Stats().UploadsFailed > failedBefore {
			s += "+upfail"
		}
		out = append(out, s)
	}
	return out
}

// TestTaskFaultRatesReplayBySeed: task-level faults drawn at acceptance
// replay with the seed.
func TestTaskFaultRatesReplayBySeed(t *testing.T) {
	const n = 10
	a, b, c := taskPattern(t, 6, n), taskPattern(t, 6, n), taskPattern(t, 7, n)
	if strings.Join(a, " ") != strings.Join(b, " ") || strings.Join(a, " ") == strings.Join(c, " ") {
		t.Fatalf("seed 6 twice and seed 7:\n%v\n%v\n%v", a, b, c)
	}
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, want := range []string{"gen", "exp", "422", "200", "200+upfail"} {
		if !seen[want] {
			t.Errorf("seed 6 pattern lacks %q: %v", want, a)
		}
	}
}
