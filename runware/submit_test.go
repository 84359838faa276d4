package runware

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dubline/dubline/kling"
)

// The task object follows kling.Params: every parameter at its wire path,
// Omit ones only when set, and nested objects only when not empty.
func TestEncodeTask(t *testing.T) {
	head := func(id, in string) string {
		return `{"taskType":"videoInference","taskUUID":"` + id + `","model":"klingai:7@1","deliveryMethod":"async","outputType":"URL",` +
			`"inputs":` + in + `,"outputFormat":"MP4","outputQuality":95,"numberResults":1,`
	}
	media := `{"video":"https://media.example/v.mp4","audio":"https://media.example/a.wav"}`
	cases := []struct {
		name string
		task Task
		want string
	}{
		{"defaults", testTask("u1"),
			head("u1", media) + `"providerSettings":{"klingai":{"originalAudioVolume":1,"soundVolume":1}},"includeCost":true}`},
		{"optional fields set", func() Task {
			t := testTask("u2")
			for name, v := range map[string]kling.Value{
				"ttl": kling.Num(3600), "webhookURL": kling.Str("https://hook.example/x"),
				"uploadEndpoint":      kling.Str("https://b.s3/out.mp4?X-Amz-Signature=s"),
				"safety.checkContent": kling.Flag(true), "safety.mode": kling.Str("fast"),
				"originalAudioVolume": kling.Num(0.35), "soundVolume": kling.Num(1.5), "includeCost": kling.Flag(false),
			} {
				t.Request.Set(name, v)
			}
			return t
		}(),
			head("u2", media) + `"providerSettings":{"klingai":{"originalAudioVolume":0.35,"soundVolume":1.5}},"includeCost":false,` +
				`"ttl":3600,"webhookURL":"https://hook.example/x","uploadEndpoint":"https://b.s3/out.mp4?X-Amz-Signature=s",` +
				`"safety":{"checkContent":true,"mode":"fast"}}`},
		{"a volume of 0 is sent, a safety mode alone is", func() Task {
			t := testTask("u3")
			t.Request.Set("originalAudioVolume", kling.Num(0))
			t.Request.Set("safety.mode", kling.Str("full"))
			return t
		}(),
			head("u3", media) + `"providerSettings":{"klingai":{"originalAudioVolume":0,"soundVolume":1}},"includeCost":true,` +
				`"safety":{"mode":"full"}}`},
	}
	for _, tc := range cases {
		b, err := encodeTask(tc.task)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, b, tc.want)
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("%s: not JSON: %v", tc.name, err)
		}
	}
}

func TestNewRequiresKey(t *testing.T) {
	_, err := New(Options{})
	if err == nil || !strings.Contains(err.Error(), "API key") {
		t.Fatalf("New without key: %v", err)
	}
}

func TestSubmitSendsHeadersAndTaskObject(t *testing.T) {
	f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
		writeJSON(w, 200, acks(tasks))
	})
	res, err := c.Submit(context.Background(), testTask("t-1"))
	if err != nil || res.Conflict || res.Attempts != 1 {
		t.Fatalf("Submit = %+v, %v", res, err)
	}
	r := f.requests()[0]
	if r.auth != "Bearer sk-test-SECRET" || r.ctype != "application/json" || !strings.HasPrefix(r.ua, "dubline/") {
		t.Errorf("headers: auth=%q ctype=%q ua=%q", r.auth, r.ctype, r.ua)
	}
	one, _ := encodeTask(testTask("t-1"))
	if want := "[" + string(one) + "]"; string(r.raw) != want {
		t.Errorf("body\n got %s\nwant %s", r.raw, want)
	}
}

func TestSubmitBatchesConcurrentCalls(t *testing.T) {
	for _, tc := range []struct{ tasks, maxBatch, wantReqs int }{{20, 50, 1}, {20, 8, 3}} {
		t.Run(fmt.Sprintf("%d tasks max %d", tc.tasks, tc.maxBatch), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
					a := acks(tasks)["data"].([]map[string]any)
					for i, j := 0, len(a)-1; i < j; i, j = i+1, j-1 { // answer in reverse order
						a[i], a[j] = a[j], a[i]
					}
					writeJSON(w, 200, map[string]any{"data": a})
				}, func(o *Options) { o.BatchWindow = 200 * time.Millisecond; o.MaxBatch = tc.maxBatch })
				var wg sync.WaitGroup
				errs := make([]error, tc.tasks)
				for i := range tc.tasks {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[i] = c.Submit(t.Context(), testTask(fmt.Sprintf("task-%02d", i)))
					}()
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("task %d: %v", i, err)
					}
				}
				reqs := f.requests()
				if len(reqs) != tc.wantReqs {
					t.Fatalf("%d requests, want %d", len(reqs), tc.wantReqs)
				}
				total := 0
				for _, r := range reqs {
					if len(r.tasks) > tc.maxBatch {
						t.Errorf("a batch of %d tasks exceeds MaxBatch %d", len(r.tasks), tc.maxBatch)
					}
					total += len(r.tasks)
				}
				if total != tc.tasks || c.Stats().SubmitRequests != int64(tc.wantReqs) {
					t.Errorf("tasks sent %d, stats %+v", total, c.Stats())
				}
			})
		})
	}
}

// One batch: A is acked, B is invalid, C is not mentioned (ambiguous, so
// re-sent alone, then acked), D comes back with status error in data.
func TestSubmitMixedBatchMatchedByUUID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
			if n == 1 {
				writeJSON(w, 400, map[string]any{
					"data": []any{
						map[string]any{"taskType": "videoInference", "taskUUID": "D", "status": "error",
							"error": map[string]any{"code": "invalidWidth", "message": "too narrow", "parameter": "inputs.video"}},
						map[string]any{"taskType": "videoInference", "taskUUID": "A"},
					},
					"errors": []any{map[string]any{"code": "unsupportedDuration", "taskUUID": "B", "parameter": "inputs.audio",
						"allowedValues": map[string]any{"0": "2-60"}, "message": "audio too long"}},
				})
				return
			}
			writeJSON(w, 200, acks(tasks))
		}, func(o *Options) { o.BatchWindow = 100 * time.Millisecond })
		results := map[string]SubmitResult{}
		errs := map[string]error{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, id := range []string{"A", "B", "C", "D"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := c.Submit(t.Context(), testTask(id))
				mu.Lock()
				results[id], errs[id] = r, err
				mu.Unlock()
			}()
		}
		wg.Wait()
		if errs["A"] != nil || results["A"].Attempts != 1 {
			t.Errorf("A: %+v %v", results["A"], errs["A"])
		}
		var e *Error
		if !errors.As(errs["B"], &e) || e.Class != Permanent || e.Code != "unsupportedDuration" ||
			e.Parameter != "inputs.audio" || len(e.AllowedValues) != 1 || e.TaskUUID != "B" || !e.Terminal || e.Attempts != 1 {
			t.Errorf("B: %#v", errs["B"])
		}
		if errs["C"] != nil || results["C"].Attempts != 2 || results["C"].Conflict {
			t.Errorf("C: %+v %v", results["C"], errs["C"])
		}
		if !errors.As(errs["D"], &e) || e.Class != Permanent || e.Code != "invalidWidth" || !e.Terminal || e.Attempts != 1 {
			t.Errorf("D: %#v", errs["D"])
		}
		reqs := f.requests()
		if len(reqs) != 2 || len(reqs[1].tasks) != 1 || reqs[1].tasks[0]["taskUUID"] != "C" {
			t.Errorf("want the re-send to carry only C; requests %d", len(reqs))
		}
	})
}

func TestSubmitRequestLevelErrorAppliesToEveryTask(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   any
		class  Class
		reqs   int
	}{
		{"401 invalid key", 401, map[string]any{"errors": []any{map[string]any{"code": "invalidApiKey", "taskType": "authentication", "parameter": "apiKey"}}}, Fatal, 1},
		{"402 no body", 402, nil, Fatal, 1},
		{"403 error object", 403, map[string]any{"error": map[string]any{"code": "forbidden", "message": "no"}}, Fatal, 1},
		{"503 bare array", 503, []any{map[string]any{"code": "serviceUnavailable"}}, Transient, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
					if tc.body == nil {
						w.WriteHeader(tc.status)
						return
					}
					writeJSON(w, tc.status, tc.body)
				}, func(o *Options) { o.BatchWindow = 100 * time.Millisecond })
				var wg sync.WaitGroup
				for i := range 3 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						id := fmt.Sprintf("r%d", i)
						_, err := c.Submit(t.Context(), testTask(id))
						var e *Error
						if !errors.As(err, &e) || e.Class != tc.class || e.HTTPStatus != tc.status || e.TaskUUID != id ||
							e.Terminal || e.Attempts != tc.reqs {
							t.Errorf("%s: %#v", id, err)
						}
					}()
				}
				wg.Wait()
				if got := len(f.requests()); got != tc.reqs {
					t.Errorf("%d requests, want %d", got, tc.reqs)
				}
			})
		})
	}
}

func TestSubmitConflict(t *testing.T) {
	conflict := map[string]any{"errors": []any{map[string]any{"code": "conflictTaskUUID", "message": "exists"}}}
	cases := []struct {
		name         string
		resend       bool
		script       []int // statuses; 409 carries the conflict body, 503 no body, 200 acks
		wantConflict bool
		wantClass    Class
		wantAttempts int
	}{
		{"re-send after 503 gets 409: accepted earlier", false, []int{503, 409}, true, 0, 2},
		{"409 on a first attempt is permanent", false, []int{409}, false, Permanent, 0},
		{"409 on a Resend task is accepted earlier", true, []int{409}, true, 0, 1},
		{"re-send after 504 succeeds", false, []int{504, 200}, false, 0, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
				switch s := tc.script[n-1]; s {
				case 409:
					writeJSON(w, 409, conflict)
				case 200:
					writeJSON(w, 200, acks(tasks))
				default:
					w.WriteHeader(s)
				}
			})
			task := testTask("c-1")
			task.Resend = tc.resend
			res, err := c.Submit(context.Background(), task)
			if tc.wantClass == Permanent {
				var e *Error
				if !errors.As(err, &e) || e.Class != Permanent || e.Code != "conflictTaskUUID" || e.Terminal || e.Attempts != 1 {
					t.Fatalf("want permanent conflict, got %v", err)
				}
				return
			}
			if err != nil || res.Conflict != tc.wantConflict || res.Attempts != tc.wantAttempts {
				t.Fatalf("Submit = %+v, %v", res, err)
			}
		})
	}
}

func TestSubmitGivesUpAfterMaxAttempts(t *testing.T) {
	f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(500)
		fmt.Fprint(w, "<html>oops</html>")
	})
	_, err := c.Submit(context.Background(), testTask("g-1"))
	var e *Error
	if !errors.As(err, &e) || e.Class != Transient || e.HTTPStatus != 500 || !strings.Contains(e.Error(), "HTTP 500") ||
		e.Terminal || e.Attempts != 4 {
		t.Fatalf("got %v", err)
	}
	if got := len(f.requests()); got != 4 {
		t.Errorf("%d requests, want MaxAttempts=4", got)
	}
	for _, r := range f.requests() {
		if string(r.raw) != string(f.requests()[0].raw) {
			t.Error("a re-send changed the body")
		}
	}
	if s := c.Stats(); s.Retries != 3 {
		t.Errorf("stats %+v", s)
	}
}

func TestSubmitHonoursCallerContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		_, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
			<-release
			writeJSON(w, 200, acks(tasks))
		})
		defer close(release)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Submit(ctx, testTask("x-1"))
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 50*time.Millisecond {
			t.Fatalf("got %v after %v, want the deadline after 50ms", err, time.Since(start))
		}
	})
}

// A caller that gives up while its batch is gathering is never sent.
func TestSubmitAbandonedBeforeSendIsNotSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
			writeJSON(w, 200, acks(tasks))
		}, func(o *Options) { o.BatchWindow = 150 * time.Millisecond })
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() { _, err := c.Submit(ctx, testTask("gone")); done <- err }()
		time.Sleep(5 * time.Millisecond)
		if _, err := c.Submit(t.Context(), testTask("kept")); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("abandoned Submit: %v", err)
		}
		reqs := f.requests()
		if len(reqs) != 1 || len(reqs[0].tasks) != 1 || reqs[0].tasks[0]["taskUUID"] != "kept" {
			t.Fatalf("requests: %+v", reqs)
		}
	})
}

// Every Submit error made after an HTTP attempt says how many attempts
// were made (more than one: an earlier attempt may have been accepted),
// and whether the server refused this very task (Terminal) or the request
// as a whole failed.
func TestSubmitErrorsCarryAttemptsAndTerminal(t *testing.T) {
	perTask := func(code string) func(tasks []map[string]any) (int, any) {
		return func(tasks []map[string]any) (int, any) {
			return 400, map[string]any{"errors": []any{map[string]any{"code": code, "taskUUID": tasks[0]["taskUUID"]}}}
		}
	}
	status := func(s int) func([]map[string]any) (int, any) {
		return func([]map[string]any) (int, any) { return s, nil }
	}
	cases := []struct {
		name     string
		script   []func(tasks []map[string]any) (int, any)
		class    Class
		code     string
		terminal bool
		attempts int
	}{
		{"refused on the first attempt", []func([]map[string]any) (int, any){perTask("invalidOutputFormat")},
			Permanent, "invalidOutputFormat", true, 1},
		{"refused after two ambiguous attempts", []func([]map[string]any) (int, any){status(503), status(504), perTask("invalidOutputFormat")},
			Permanent, "invalidOutputFormat", true, 3},
		{"embedded error in data after one 502", []func([]map[string]any) (int, any){status(502), func(tasks []map[string]any) (int, any) {
			return 200, map[string]any{"data": []any{map[string]any{"taskUUID": tasks[0]["taskUUID"], "status": "error",
				"error": map[string]any{"code": "insufficientCredits"}}}}
		}}, Fatal, "insufficientCredits", true, 2},
		{"request-level 402 after one 503", []func([]map[string]any) (int, any){status(503), status(402)},
			Fatal, "", false, 2},
		{"request-level non-JSON 404", []func([]map[string]any) (int, any){func([]map[string]any) (int, any) { return 404, "<html>" }},
			Permanent, "", false, 1},
		{"per-task rate limit until attempts run out", []func([]map[string]any) (int, any){
			perTask("rateLimitExceeded"), perTask("rateLimitExceeded"), perTask("rateLimitExceeded"), perTask("rateLimitExceeded")},
			Transient, "rateLimitExceeded", false, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
				st, body := tc.script[n-1](tasks)
				switch b := body.(type) {
				case nil:
					w.WriteHeader(st)
				case string:
					w.Header().Set("Content-Type", "text/html")
					w.WriteHeader(st)
					fmt.Fprint(w, b)
				default:
					writeJSON(w, st, b)
				}
			})
			_, err := c.Submit(context.Background(), testTask("a-1"))
			var e *Error
			if !errors.As(err, &e) || e.Class != tc.class || e.Code != tc.code || e.Terminal != tc.terminal ||
				e.Attempts != tc.attempts || e.TaskUUID != "a-1" {
				t.Fatalf("got %#v", err)
			}
			if got := len(f.requests()); got != tc.attempts {
				t.Errorf("%d requests, want %d", got, tc.attempts)
			}
		})
	}
}
