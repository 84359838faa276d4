package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFaultStatus(t *testing.T) {
	v := newEnv(t, Options{})
	v.e.Inject(Fault{Kind: FaultStatus, Status: 429, RetryAfter: "1", Count: 2})
	v.e.Inject(Fault{Kind: FaultStatus, Status: 503, NoBody: true})
	task := v.task(newID())
	for i := range 2 {
		r := v.post(body(task))
		if r.Status != 429 || r.Header.Get("Retry-After") != "1" || errField(r, "code") != "rateLimitExceeded" {
			t.Fatalf("attempt %d: %d %v %s", i, r.Status, r.Header, r.Raw)
		}
	}
	r := v.post(body(task))
	if r.Status != 503 || r.Raw != "" || r.Header.Get("Retry-After") != "" {
		t.Fatalf("no-body 503: %d %q", r.Status, r.Raw)
	}
	if s := v.e.Stats(); s.TasksAccepted != 0 || s.Requests != 3 {
		t.Fatalf("faulted requests must not process tasks: %+v", s)
	}
	// The queue is used up: the same body now goes through.
	if r := v.post(body(task)); r.Status != 200 {
		t.Fatalf("after faults: %s", r.Raw)
	}
}

func TestFaultStatusForOneTaskType(t *testing.T) {
	v := newEnv(t, Options{})
	v.e.Inject(Fault{Kind: FaultStatus, TaskType: "getResponse", Status: 504, Code: "timeout"})
	id := newID()
	if r := v.post(body(v.task(id))); r.Status != 200 {
		t.Fatalf("submit must not take a getResponse fault: %s", r.Raw)
	}
	r := v.post(getResponse(id))
	if r.Status != 504 || errField(r, "code") != "timeout" {
		t.Fatalf("poll: %d %s", r.Status, r.Raw)
	}
	if v.e.Stats().GetResponseCalls != 0 {
		t.Fatal("a faulted getResponse must not be processed")
	}
	v.wait(id, 1)
}

func TestFaultNonJSON(t *testing.T) {
	v := newEnv(t, Options{})
	v.e.Inject(Fault{Kind: FaultNonJSON})
	v.e.Inject(Fault{Kind: FaultNonJSON, Status: 502})
	for _, want := range []int{500, 502} {
		r := v.post(body(v.task(newID())))
		if r.Status != want || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.Raw, "<html>") {
			t.Fatalf("got %d %s %q", r.Status, r.Header.Get("Content-Type"), r.Raw)
		}
	}
	if v.e.Stats().TasksAccepted != 0 {
		t.Fatal("tasks processed under a non-JSON fault")
	}
}

func TestFaultSlow(t *testing.T) {
	v := newEnv(t, Options{})
	// A client that gives up before the delay ends: nothing is processed.
	v.e.Inject(Fault{Kind: FaultSlow, Delay: 2 * time.Second})
	c := &http.Client{Timeout: 100 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodPost, v.srv.URL, strings.NewReader(body(v.task(newID()))))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testKey)
	start := time.Now()
	_, err := c.Do(req)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("want a client timeout, got %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("client timeout did not end the wait")
	}
	// A patient client gets the normal reply after the delay.
	v.e.Inject(Fault{Kind: FaultSlow, Delay: 150 * time.Millisecond})
	start = time.Now()
	id := newID()
	if r := v.post(body(v.task(id))); r.Status != 200 || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("slow reply: %d after %v", r.Status, time.Since(start))
	}
	eventually(t, "accepted count", func() bool { return v.e.Stats().TasksAccepted == 1 })
	if s := v.e.Stats(); s.AcceptedByUUID[id] != 1 || len(s.AcceptedByUUID) != 1 {
		t.Fatalf("only the patient request is processed: %+v", s)
	}
}

func TestFaultResetAfterAccept(t *testing.T) {
	v := newEnv(t, Options{})
	v.e.Inject(Fault{Kind: FaultReset, TaskType: "videoInference"})
	id := newID()
	task := v.task(id)
	req, _ := http.NewRequest(http.MethodPost, v.srv.URL, strings.NewReader(body(task)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("want a connection error, got HTTP %d", resp.StatusCode)
	}
	if s := v.e.Stats(); s.TasksAccepted != 1 || s.AcceptedByUUID[id] != 1 {
		t.Fatalf("the reset request's task must be accepted: %+v", s)
	}
	// The idempotent resend: same taskUUID -> 409, and still one acceptance.
	r := v.post(body(task))
	if r.Status != 409 || errField(r, "code") != "conflictTaskUUID" {
		t.Fatalf("resend: %d %s", r.Status, r.Raw)
	}
	if v.wait(id, 1).Data[0]["status"] != "success" {
		t.Fatal("the accepted task must still finish")
	}
	if s := v.e.Stats(); s.AcceptedByUUID[id] != 1 || s.BilledByUUID[id] != 462 {
		t.Fatalf("paid once: %+v", s)
	}
}

func TestFaultGeneration(t *testing.T) {
	for _, shape := range []string{ErrorShapeErrors, ErrorShapeData} {
		t.Run(shape, func(t *testing.T) {
			v := newEnv(t, Options{ErrorShape: shape})
			v.e.Inject(Fault{Kind: FaultGeneration})
			v.e.Inject(Fault{Kind: FaultGeneration, Code: "providerContentModeration"})
			ids := []string{newID(), newID(), newID()}
			for _, id := range ids {
				if r := v.post(body(v.task(id))); r.Status != 200 {
					t.Fatalf("ack: %s", r.Raw)
				}
			}
			for i, code := range []string{"timeoutProvider", "providerContentModeration"} {
				r := v.wait(ids[i], 1)
				var e map[string]any
				if shape == ErrorShapeErrors {
					if len(r.Errors) != 1 || len(r.Data) != 0 {
						t.Fatalf("want errors entry: %s", r.Raw)
					}
					e = r.Errors[0]
					if e["status"] != "error" || e["taskUUID"] != ids[i] {
						t.Fatalf("error item: %v", e)
					}
				} else {
					if len(r.Errors) != 0 || len(r.Data) != 1 || r.Data[0]["status"] != "error" || r.Data[0]["taskUUID"] != ids[i] {
						t.Fatalf("want data item with status error: %s", r.Raw)
					}
					e = r.Data[0]["error"].(map[string]any)
				}
				if r.Status != 200 || e["code"] != code || e["message"] == "" {
					t.Fatalf("got %d %v, want %s", r.Status, e, code)
				}
			}
			if v.wait(ids[2], 1).Data[0]["status"] != "success" {
				t.Fatal("third task must succeed: faults are used up")
			}
			s := v.e.Stats()
			if s.Failed != 2 || s.Succeeded != 1 || s.CostBilled != 462 || s.BilledByUUID[ids[0]] != 0 {
				t.Fatalf("failed generations must not be billed: %+v", s)
			}
		})
	}
}

func TestFaultUpload(t *testing.T) {
	var puts atomic.Int32
	sink := newSink(t, func(w http.ResponseWriter, r *http.Request) { puts.Add(1) })
	v := newEnv(t, Options{})
	v.e.Inject(Fault{Kind: FaultUpload})
	id := newID()
	task := v.task(id)
	task["uploadEndpoint"] = sink + "/out.mp4?X-Amz-Signature=abc"
	v.post(body(task))
	r := v.wait(id, 1)
	if r.Data[0]["status"] != "success" || r.Data[0]["videoURL"] == nil {
		t.Fatalf("task must still succeed with a videoURL: %s", r.Raw)
	}
	if s := v.e.Stats(); s.UploadsFailed != 1 || s.BytesUploaded != 0 || puts.Load() != 0 {
		t.Fatalf("upload fault: %+v, puts %d", s, puts.Load())
	}
}

func TestUploadNon2xxIsCounted(t *testing.T) {
	sink := newSink(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) })
	v := newEnv(t, Options{})
	id := newID()
	task := v.task(id)
	task["uploadEndpoint"] = sink + "/out.mp4"
	v.post(body(task))
	if v.wait(id, 1).Data[0]["status"] != "success" {
		t.Fatal("a refused PUT must not fail the task")
	}
	if s := v.e.Stats(); s.UploadsFailed != 1 || s.BytesUploaded != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFaultVideoURL422(t *testing.T) {
	v := newEnv(t, Options{})
	now := time.Now()
	v.e.now = func() time.Time { return now }
	v.e.Inject(Fault{Kind: FaultVideoURL422, Delay: 10 * time.Second})
	id := newID()
	v.post(body(v.task(id)))
	url := v.wait(id, 1).Data[0]["videoURL"].(string)
	if st, _, _ := get(t, url); st != 422 {
		t.Fatalf("inside the window: %d", st)
	}
	now = now.Add(11 * time.Second)
	if st, _, b := get(t, url); st != 200 || len(b) == 0 {
		t.Fatalf("after the window: %d", st)
	}
}

func TestVideoURLExpiresAfterTTL(t *testing.T) {
	v := newEnv(t, Options{})
	now := time.Now()
	v.e.now = func() time.Time { return now }
	id := newID()
	task := v.task(id)
	task["ttl"] = 60
	v.post(body(task))
	url := v.wait(id, 1).Data[0]["videoURL"].(string)
	if st, _, _ := get(t, url); st != 200 {
		t.Fatalf("fresh: %d", st)
	}
	now = now.Add(61 * time.Second)
	if st, _, _ := get(t, url); st != 410 {
		t.Fatalf("after ttl: %d, want 410", st)
	}
	if st, _, _ := get(t, v.srv.URL+"/video/"+newID()+".mp4"); st != 404 {
		t.Fatalf("unknown video: %d", st)
	}
}

func TestFaultExpire(t *testing.T) {
	v := newEnv(t, Options{})
	v.e.Inject(Fault{Kind: FaultExpire})
	id := newID()
	task := v.task(id)
	v.post(body(task))
	eventually(t, "completion", func() bool { return v.e.Stats().Succeeded == 1 })
	r := v.post(getResponse(id))
	if r.Status != 404 || errField(r, "code") != "taskNotFound" || errField(r, "taskUUID") != id {
		t.Fatalf("expired task: %d %s", r.Status, r.Raw)
	}
	if r := v.post(body(task)); r.Status != 409 {
		t.Fatalf("an expired taskUUID is still known: %d", r.Status)
	}
}

func TestRandomFaultRates(t *testing.T) {
	v := newEnv(t, Options{FaultRates: FaultRates{Status429: 1}})
	if r := v.post(`[{"taskType":"ping","ping":true}]`); r.Status != 429 || errField(r, "code") != "rateLimitExceeded" {
		t.Fatalf("429 rate 1: %d %s", r.Status, r.Raw)
	}
	v = newEnv(t, Options{FaultRates: FaultRates{Status503: 1}})
	if r := v.post(`[{"taskType":"ping","ping":true}]`); r.Status != 503 {
		t.Fatalf("503 rate 1: %d", r.Status)
	}
	v = newEnv(t, Options{FaultRates: FaultRates{Generation: 1}})
	id := newID()
	v.post(body(v.task(id)))
	if r := v.wait(id, 1); errField(r, "code") != "timeoutProvider" {
		t.Fatalf("generation rate 1: %s", r.Raw)
	}
	v = newEnv(t, Options{FaultRates: FaultRates{Reset: 1}})
	req, _ := http.NewRequest(http.MethodPost, v.srv.URL, strings.NewReader(`[{"taskType":"ping","ping":true}]`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testKey)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("reset rate 1: got a reply")
	}
}

func TestRandomFaultRatesAreSeeded(t *testing.T) {
	pattern := func(seed int64) string {
		v := newEnv(t, Options{Seed: seed, FaultRates: FaultRates{Status429: 0.5}})
		var b strings.Builder
		for range 24 {
			if v.post(`[{"taskType":"ping","ping":true}]`).Status == 429 {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	a, b, c := pattern(1), pattern(1), pattern(2)
	if a != b || !strings.Contains(a, "x") || !strings.Contains(a, ".") || a == c {
		t.Fatalf("seeded patterns: %s %s %s", a, b, c)
	}
}

func TestSeedReplaysOutputs(t *testing.T) {
	run := func() (any, any) {
		v := newEnv(t, Options{Seed: 42})
		id := "6f1c0a52-2f0e-4a8e-9a0b-1d7f3c2b9e11"
		v.post(body(v.task(id)))
		it := v.wait(id, 1).Data[0]
		return it["seed"], it["videoUUID"]
	}
	s1, u1 := run()
	s2, u2 := run()
	if s1 != s2 || u1 != u2 {
		t.Fatalf("same seed, different outputs: %v/%v vs %v/%v", s1, u1, s2, u2)
	}
}

// newSink starts an HTTP server that records nothing but calls f.
func newSink(t *testing.T, f func(http.ResponseWriter, *http.Request)) string {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		f(w, r)
	}))
	return srv
}

// Capacity mode: while Capacity tasks run, a new videoInference is refused
// with 429 rateLimitExceeded; once one finishes, the next is accepted.
func TestCapacity(t *testing.T) {
	v := newEnv(t, Options{Capacity: 2, Latency: 300 * time.Millisecond})
	a, b, c := newID(), newID(), newID()
	for _, id := range []string{a, b} {
		if r := v.post(body(v.task(id))); r.Status != http.StatusOK {
			t.Fatalf("task %s refused: %s", id, r.Raw)
		}
	}
	r := v.post(body(v.task(c)))
	if r.Status != http.StatusTooManyRequests || errField(r, "code") != "rateLimitExceeded" {
		t.Fatalf("third task: %d %s", r.Status, r.Raw)
	}
	v.wait(a, 1)
	if r := v.post(body(v.task(c))); r.Status != http.StatusOK {
		t.Fatalf("after one finished: %d %s", r.Status, r.Raw)
	}
	if s := v.e.Stats(); s.CapacityRefused != 1 || s.TasksAccepted != 3 {
		t.Errorf("stats %+v", s)
	}
}
