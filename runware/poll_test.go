package runware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dubline/dubline/internal/testutil"
)

func processing(id string) map[string]any {
	return map[string]any{"taskType": "videoInference", "taskUUID": id, "status": "processing"}
}

func success(id, video string, cost float64) map[string]any {
	return map[string]any{"taskType": "videoInference", "taskUUID": id, "status": "success",
		"videoUUID": video, "videoURL": "https://im.example/" + video + ".mp4", "seed": 1234567, "cost": cost}
}

func TestWaitPollsUntilSuccess(t *testing.T) {
	f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
		id := tasks[0]["taskUUID"].(string)
		if tasks[0]["taskType"] != "getResponse" {
			t.Errorf("poll task type %v", tasks[0]["taskType"])
		}
		if n < 3 {
			writeJSON(w, 200, map[string]any{"data": []any{processing(id)}})
			return
		}
		writeJSON(w, 200, map[string]any{"data": []any{success(id, "v-1", 0.0462)}})
	})
	res, err := c.Wait(context.Background(), "w-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.Items[0].VideoURL != "https://im.example/v-1.mp4" || res.Items[0].VideoUUID != "v-1" ||
		res.Items[0].Seed != 1234567 || !res.CostReported || res.Cost != 0.0462 || res.TaskUUID != "w-1" {
		t.Fatalf("result %+v", res)
	}
	if got := len(f.requests()); got != 3 {
		t.Errorf("%d polls, want 3", got)
	}
}

func TestWaitNumberResults(t *testing.T) {
	_, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
		id := tasks[0]["taskUUID"].(string)
		items := []any{success(id, "v-a", 0.0462), processing(id)}
		if n >= 2 {
			items[1] = success(id, "v-b", 0.0462)
		}
		writeJSON(w, 200, map[string]any{"data": items})
	})
	res, err := c.Wait(context.Background(), "n-2", 2)
	if err != nil || len(res.Items) != 2 || res.Cost < 0.0923 || res.Cost > 0.0925 {
		t.Fatalf("Wait = %+v, %v", res, err)
	}
}

// Errors the server reports for the task itself end the Wait and are
// Terminal; a request-level Fatal error ends it too but is not Terminal
// (it says nothing about the task's fate).
func TestWaitFailures(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     func(id string) any
		class    Class
		code     string
		terminal bool
	}{
		{"errors[] timeoutProvider", 200, func(id string) any {
			return map[string]any{"errors": []any{map[string]any{"taskUUID": id, "status": "error", "code": "timeoutProvider", "message": "slow"}}}
		}, Regenerate, "timeoutProvider", true},
		{"data item with embedded error", 200, func(id string) any {
			return map[string]any{"data": []any{map[string]any{"taskUUID": id, "status": "error", "error": map[string]any{"code": "inferenceError"}}}}
		}, Regenerate, "inferenceError", true},
		{"data item status error without detail", 200, func(id string) any {
			return map[string]any{"data": []any{map[string]any{"taskUUID": id, "status": "error"}}}
		}, Regenerate, "", true},
		{"generation error with a transient code", 200, func(id string) any {
			return map[string]any{"errors": []any{map[string]any{"taskUUID": id, "status": "error", "code": "serviceUnavailable"}}}
		}, Regenerate, "serviceUnavailable", true},
		{"generation error insufficientCredits in errors[]", 200, func(id string) any {
			return map[string]any{"errors": []any{map[string]any{"taskUUID": id, "status": "error", "code": "insufficientCredits"}}}
		}, Fatal, "insufficientCredits", true},
		{"generation error insufficientCredits embedded in data", 402, func(id string) any {
			return map[string]any{"data": []any{map[string]any{"taskUUID": id, "status": "error", "error": map[string]any{"code": "insufficientCredits"}}}}
		}, Fatal, "insufficientCredits", true},
		{"generation error without code in a 402 reply", 402, func(id string) any {
			return map[string]any{"data": []any{map[string]any{"taskUUID": id, "status": "error"}}}
		}, Fatal, "", true},
		{"generation error uploadFailed", 200, func(id string) any {
			return map[string]any{"errors": []any{map[string]any{"taskUUID": id, "status": "error", "code": "uploadFailed"}}}
		}, Permanent, "uploadFailed", true},
		{"expired task", 404, func(id string) any {
			return map[string]any{"errors": []any{map[string]any{"taskUUID": id, "code": "taskNotFound", "message": "gone"}}}
		}, Permanent, "taskNotFound", true},
		{"input download failed", 200, func(id string) any {
			return map[string]any{"errors": []any{map[string]any{"taskUUID": id, "status": "error", "code": "downloadFailed"}}}
		}, Permanent, "downloadFailed", true},
		{"401 during polling", 401, func(id string) any {
			return map[string]any{"errors": []any{map[string]any{"code": "invalidApiKey", "taskType": "authentication"}}}
		}, Fatal, "invalidApiKey", false},
		{"402 without body during polling", 402, nil, Fatal, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
				if tc.body == nil {
					w.WriteHeader(tc.status)
					return
				}
				writeJSON(w, tc.status, tc.body(tasks[0]["taskUUID"].(string)))
			})
			_, err := c.Wait(context.Background(), "f-1", 1)
			var e *Error
			if !errors.As(err, &e) || e.Class != tc.class || e.Code != tc.code || e.TaskUUID != "f-1" || e.Terminal != tc.terminal {
				t.Fatalf("got %#v", err)
			}
		})
	}
}

// The caller's deadline ends a Wait with the context's error, never an
// error of the task, and the task is not resubmitted.
func TestWaitDeadlineLeavesTaskInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
			writeJSON(w, 200, map[string]any{"data": []any{map[string]any{"taskUUID": tasks[0]["taskUUID"], "status": "queued"}}})
		})
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
		defer cancel()
		_, err := c.Wait(ctx, "d-1", 1)
		var e *Error
		if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &e) {
			t.Fatalf("got %v", err)
		}
		if el := time.Since(start); el != 150*time.Millisecond {
			t.Errorf("Wait returned %v after the start, want at the deadline, 150ms", el)
		}
		if f.count("videoInference") != 0 {
			t.Error("the task was resubmitted")
		}
		// 5 ms first poll, then 10, 15, 20, 20, ... ms (±20 %): at least 7 by 150 ms.
		if n := len(f.requests()); n < 7 {
			t.Errorf("only %d polls before the deadline", n)
		}
	})
}

func TestWaitTransientPollFailureRetriesNextRound(t *testing.T) {
	_, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
		id := tasks[0]["taskUUID"].(string)
		switch n {
		case 1:
			w.WriteHeader(502)
			fmt.Fprint(w, "bad gateway")
		case 2:
			writeJSON(w, 429, map[string]any{"errors": []any{map[string]any{"code": "rateLimitExceeded"}}})
		case 3: // a reply that does not mention the task
			writeJSON(w, 200, map[string]any{})
		default:
			writeJSON(w, 200, map[string]any{"data": []any{success(id, "v", 0.1)}})
		}
	})
	res, err := c.Wait(context.Background(), "p-1", 1)
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("Wait = %+v, %v", res, err)
	}
	if s := c.Stats(); s.PollRequests != 4 {
		t.Errorf("stats %+v", s)
	}
}

// Many waiting tasks share rounds: each POST carries up to MaxBatch tasks,
// and the number of requests is far below the number of task polls.
func TestPollerSharesRounds(t *testing.T) {
	var polls atomic.Int64
	f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
		var data []any
		for _, tk := range tasks {
			id := tk["taskUUID"].(string)
			if polls.Add(1) > 200 {
				data = append(data, success(id, "v-"+id, 0.05))
			} else {
				data = append(data, processing(id))
			}
		}
		writeJSON(w, 200, map[string]any{"data": data})
	}, func(o *Options) { o.MaxBatch = 10 })
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Wait(context.Background(), fmt.Sprintf("s-%02d", i), 1); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	reqs := f.requests()
	multi := 0
	for _, r := range reqs {
		if len(r.tasks) > 10 {
			t.Fatalf("a poll carried %d tasks", len(r.tasks))
		}
		if len(r.tasks) > 1 {
			multi++
		}
	}
	s := c.Stats()
	if s.TaskPolls < 240 || float64(s.PollRequests) > float64(s.TaskPolls)/4 || multi == 0 {
		t.Errorf("%d requests for %d task polls (%d multi-task)", s.PollRequests, s.TaskPolls, multi)
	}
}

// A whole-request 400 on a shared poll is not blamed on every task: the
// tasks are polled alone, and only the task the server then reports an
// error for fails (Terminal); the others succeed.
func TestPollPermanentRequestErrorIsolatesTasks(t *testing.T) {
	_, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
		for _, tk := range tasks {
			if tk["taskUUID"] != "bad" {
				continue
			}
			if len(tasks) > 1 {
				writeJSON(w, 400, map[string]any{"errors": []any{map[string]any{"code": "invalidTaskUUID"}}})
				return
			}
			writeJSON(w, 400, map[string]any{"errors": []any{map[string]any{"code": "invalidTaskUUID", "taskUUID": "bad"}}})
			return
		}
		var data []any
		for _, tk := range tasks {
			data = append(data, success(tk["taskUUID"].(string), "v", 0.05))
		}
		writeJSON(w, 200, map[string]any{"data": data})
	}, func(o *Options) { o.PollInitialDelay = 30 * time.Millisecond })
	var wg sync.WaitGroup
	errs := map[string]error{}
	var mu sync.Mutex
	for _, id := range []string{"good-1", "bad", "good-2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Wait(context.Background(), id, 1)
			mu.Lock()
			errs[id] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	if errs["good-1"] != nil || errs["good-2"] != nil {
		t.Errorf("good tasks failed: %v %v", errs["good-1"], errs["good-2"])
	}
	var e *Error
	if !errors.As(errs["bad"], &e) || e.Class != Permanent || !e.Terminal || e.Code != "invalidTaskUUID" {
		t.Errorf("bad: %#v", errs["bad"])
	}
}

// A failure of the whole poll request that is neither Fatal nor Transient
// (a proxy's non-JSON 404, a 400 naming no task, an unknown code) says
// nothing about the task: the Wait keeps polling, and ends only with the
// task's own outcome or at the caller's deadline. It never ends with a
// Permanent error, which would make the executor fail the job and pay for
// it again.
func TestWaitRequestLevelPollFailureKeepsPolling(t *testing.T) {
	failures := []struct {
		name  string
		write func(w http.ResponseWriter)
	}{
		{"non-JSON 404", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(404)
			fmt.Fprint(w, "<html>404 page not found</html>")
		}},
		{"400 naming no task", func(w http.ResponseWriter) {
			writeJSON(w, 400, map[string]any{"errors": []any{map[string]any{"code": "invalidTaskType", "message": "bad"}}})
		}},
		{"2xx with an error naming no task", func(w http.ResponseWriter) {
			writeJSON(w, 200, map[string]any{"errors": []any{map[string]any{"code": "providerError"}}})
		}},
	}
	for _, fc := range failures {
		t.Run(fc.name+" then success", func(t *testing.T) {
			f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
				if n <= 3 {
					fc.write(w)
					return
				}
				writeJSON(w, 200, map[string]any{"data": []any{success(tasks[0]["taskUUID"].(string), "v", 0.05)}})
			})
			res, err := c.Wait(context.Background(), "lone", 1)
			if err != nil || len(res.Items) != 1 {
				t.Fatalf("Wait = %+v, %v", res, err)
			}
			if got := len(f.requests()); got != 4 {
				t.Errorf("%d polls, want 4", got)
			}
		})
		t.Run(fc.name+" until the deadline", func(t *testing.T) {
			f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
				fc.write(w)
			})
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			_, err := c.Wait(ctx, "lone", 1)
			var e *Error
			if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &e) {
				t.Fatalf("got %#v", err)
			}
			if got := len(f.requests()); got < 3 {
				t.Errorf("only %d polls before the deadline", got)
			}
		})
	}
}

// Tasks put in solo polls after a shared poll failed go back to shared
// polls once a solo poll answers cleanly.
func TestPollSoloTasksRejoinSharedPolls(t *testing.T) {
	var polls atomic.Int64
	var failedOnce atomic.Bool
	f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
		if len(tasks) > 1 && failedOnce.CompareAndSwap(false, true) {
			writeJSON(w, 400, map[string]any{"errors": []any{map[string]any{"code": "invalidPayload"}}})
			return
		}
		var data []any
		for _, tk := range tasks {
			id := tk["taskUUID"].(string)
			if polls.Add(1) > 15 {
				data = append(data, success(id, "v-"+id, 0.05))
			} else {
				data = append(data, processing(id))
			}
		}
		writeJSON(w, 200, map[string]any{"data": data})
	}, func(o *Options) { o.PollInitialDelay = 30 * time.Millisecond })
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Wait(context.Background(), id, 1); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Find the failed shared poll, then for one of its tasks a solo poll
	// and, later, a shared poll carrying it again.
	reqs := f.requests()
	failed := -1
	for i, r := range reqs {
		if len(r.tasks) > 1 {
			failed = i
			break
		}
	}
	if failed < 0 {
		t.Fatal("no shared poll at all")
	}
	id := reqs[failed].tasks[0]["taskUUID"]
	solo, rejoined := false, false
	for _, r := range reqs[failed+1:] {
		for _, tk := range r.tasks {
			if tk["taskUUID"] != id {
				continue
			}
			if len(r.tasks) == 1 {
				solo = true
			} else if solo {
				rejoined = true
			}
		}
	}
	if !solo || !rejoined {
		t.Errorf("task %v: polled alone %v, back in a shared poll after that %v (%d requests)", id, solo, rejoined, len(reqs))
	}
}

// A poll answered 429/503 with Retry-After is not repeated before that
// delay (capped at BackoffMax), whether the reply blames the request or
// the task.
func TestPollHonoursRetryAfter(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		retryAfter string
		body       func(id string) any
		backoffMax time.Duration
		wantGap    time.Duration
	}{
		{"429 request-level", 429, "1", func(string) any {
			return map[string]any{"errors": []any{map[string]any{"code": "rateLimitExceeded"}}}
		}, 5 * time.Second, time.Second},
		{"503 without body", 503, "1", nil, 5 * time.Second, time.Second},
		{"429 naming the task", 429, "1", func(id string) any {
			return map[string]any{"errors": []any{map[string]any{"code": "rateLimitExceeded", "taskUUID": id}}}
		}, 5 * time.Second, time.Second},
		{"503 capped by BackoffMax", 503, "30", nil, 400 * time.Millisecond, 400 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var at []time.Time
				_, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
					mu.Lock()
					at = append(at, time.Now())
					mu.Unlock()
					id := tasks[0]["taskUUID"].(string)
					if n > 1 {
						writeJSON(w, 200, map[string]any{"data": []any{success(id, "v", 0.05)}})
						return
					}
					w.Header().Set("Retry-After", tc.retryAfter)
					if tc.body == nil {
						w.WriteHeader(tc.status)
						return
					}
					writeJSON(w, tc.status, tc.body(id))
				}, func(o *Options) { o.Retry.Max = tc.backoffMax })
				if _, err := c.Wait(context.Background(), "ra", 1); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if len(at) != 2 {
					t.Fatalf("%d polls, want 2", len(at))
				}
				// The next round after the wait: within one poll interval of it.
				gap := at[1].Sub(at[0])
				if gap < tc.wantGap || gap > tc.wantGap+fastOptions("").PollMaxInterval {
					t.Errorf("second poll %v after the first, want %v to %v", gap, tc.wantGap, tc.wantGap+fastOptions("").PollMaxInterval)
				}
			})
		})
	}
}

func TestWaitContextAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
			writeJSON(w, 200, map[string]any{"data": []any{processing(tasks[0]["taskUUID"].(string))}})
		})
		ctx, cancel := context.WithTimeout(t.Context(), 40*time.Millisecond)
		defer cancel()
		if _, err := c.Wait(ctx, "ctx-1", 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		// The same UUID can be waited for again after a cancelled Wait.
		polls := len(f.requests())
		done := make(chan error, 1)
		go func() { _, err := c.Wait(t.Context(), "ctx-1", 1); done <- err }()
		time.Sleep(30 * time.Millisecond)
		if len(f.requests()) == polls {
			t.Error("the second Wait did not poll")
		}
		c.Close()
		synctest.Wait()
		select {
		case err := <-done:
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("after Close: %v", err)
			}
		default:
			t.Fatal("Wait did not return at Close")
		}
		if _, err := c.Submit(t.Context(), testTask("late")); !errors.Is(err, ErrClosed) {
			t.Errorf("Submit after Close: %v", err)
		}
	})
}

func TestPingAndUploadMedia(t *testing.T) {
	f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
		switch tasks[0]["taskType"] {
		case "authentication":
			writeJSON(w, 200, map[string]any{"data": []any{}})
		case "mediaStorage":
			if n == 2 {
				w.WriteHeader(503)
				return
			}
			writeJSON(w, 200, map[string]any{"data": []any{map[string]any{"taskType": "mediaStorage",
				"taskUUID": tasks[0]["taskUUID"], "mediaUUID": "m-1", "mediaURL": "https://im.example/m-1"}}})
		}
	})
	if err := c.Authenticate(context.Background()); err != nil {
		t.Fatal(err)
	}
	id, u, err := c.UploadMedia(context.Background(), "data:audio/wav;base64,UklGRg==")
	if err != nil || id != "m-1" || u != "https://im.example/m-1" {
		t.Fatalf("UploadMedia = %q %q %v", id, u, err)
	}
	reqs := f.requests()
	if reqs[2].tasks[0]["operation"] != "upload" || reqs[2].tasks[0]["media"] != "data:audio/wav;base64,UklGRg==" {
		t.Errorf("upload task %v", reqs[2].tasks[0])
	}
}

// The API key and presigned query strings appear in no log line and no
// error, including transport errors.
func TestSecretsStayOutOfLogsAndErrors(t *testing.T) {
	var logs testutil.Buffer
	h := slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})
	f, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
		if n == 1 { // echo the key back in an error message, as a careless server might
			writeJSON(w, 401, map[string]any{"errors": []any{map[string]any{"code": "invalidApiKey", "message": "key sk-test-SECRET rejected"}}})
			return
		}
		panic(http.ErrAbortHandler) // reset before any reply
	}, func(o *Options) { o.Logger = slog.New(h); o.Retry.Attempts = 2 })
	task := testTask("s-1")
	task.Request.SetUploadEndpoint("https://bucket.s3.example/out.mp4?X-Amz-Signature=SIGSECRET&X-Amz-Credential=AKIASECRET")
	task.Video = "https://media.example/v.mp4?X-Amz-Signature=VIDSECRET"
	_, err1 := c.Submit(context.Background(), task)
	task.TaskUUID = "s-2"
	_, err2 := c.Submit(context.Background(), task)
	if ClassOf(err1) != Fatal || ClassOf(err2) != Transient {
		t.Fatalf("errors %v / %v", err1, err2)
	}
	text := logs.String() + err1.Error() + err2.Error()
	for _, secret := range []string{"sk-test-SECRET", "SIGSECRET", "AKIASECRET", "VIDSECRET"} {
		if strings.Contains(text, secret) {
			t.Errorf("%q leaked:\n%s", secret, text)
		}
	}
	if !strings.Contains(text, "runware request") || !strings.Contains(text, "out.mp4?REDACTED") {
		t.Errorf("expected debug request logs with redacted URLs:\n%s", text)
	}
	if len(f.requests()) != 3 {
		t.Errorf("%d requests", len(f.requests()))
	}
}

// The first poll waits PollInitialDelay; later polls back off x1.5 (with
// ±20 % jitter) up to PollMaxInterval. On synctest's clock the gaps are
// the client's own, to the nanosecond.
func TestPollSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var at []time.Duration
		start := time.Now()
		_, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
			mu.Lock()
			at = append(at, time.Since(start))
			mu.Unlock()
			writeJSON(w, 200, map[string]any{"data": []any{processing(tasks[0]["taskUUID"].(string))}})
		}, func(o *Options) {
			o.PollInitialDelay = 100 * time.Millisecond
			o.PollInterval = 40 * time.Millisecond
			o.PollMaxInterval = 90 * time.Millisecond
		})
		ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
		defer cancel()
		if _, err := c.Wait(ctx, "sched", 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(at) < 6 || at[0] != 100*time.Millisecond {
			t.Fatalf("poll times %v, want the first at 100ms", at)
		}
		nominal := []time.Duration{40, 60, 90} // ms, then 90 ms on
		for i := 1; i < len(at); i++ {
			n := nominal[min(i-1, len(nominal)-1)] * time.Millisecond
			if gap := at[i] - at[i-1]; gap < n*8/10 || gap > n*12/10 {
				t.Errorf("gap %d = %v, want %v ±20 %% (times %v)", i, gap, n, at)
			}
		}
	})
}

// Trained on finished tasks, the schedule does not poll a task before the
// earliest plausible finish, polls it densely around the expected one
// (every hotFraction of the median render time, at least PollRoundGap)
// and finds it done within one hot interval. Renders here take 10 s.
func TestPollScheduleLearns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const render = 10 * time.Second
		var mu sync.Mutex
		polls := map[string][]time.Duration{}
		started := map[string]time.Time{}
		_, c := newFake(t, func(n int, tasks []map[string]any, w http.ResponseWriter) {
			mu.Lock()
			defer mu.Unlock()
			var data []any
			for _, tk := range tasks {
				id := tk["taskUUID"].(string)
				age := time.Since(started[id])
				polls[id] = append(polls[id], age)
				if age >= render {
					data = append(data, map[string]any{"taskType": "videoInference", "taskUUID": id, "status": "success",
						"videoUUID": "v-" + id, "videoURL": "https://im.example/" + id + ".mp4"})
				} else {
					data = append(data, processing(id))
				}
			}
			writeJSON(w, 200, map[string]any{"data": data})
		}, func(o *Options) {
			o.PollInitialDelay, o.PollInterval, o.PollMaxInterval, o.PollRoundGap = time.Second, time.Second, 10*time.Second, 100*time.Millisecond
		})
		wait := func(id string) {
			mu.Lock()
			started[id] = time.Now()
			mu.Unlock()
			if _, err := c.Wait(t.Context(), id, 1); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
		// Train: minSamples tasks one after another (untrained back-off).
		for i := range minSamples {
			wait(fmt.Sprintf("train-%d", i))
		}
		wait("trained")
		mu.Lock()
		defer mu.Unlock()
		p := polls["trained"]
		hot := time.Duration(hotFraction * float64(render))
		// The earliest plausible finish is the 10th percentile of the last
		// "processing" poll of the training tasks (their untrained polls
		// came at 1 s, 2 s, 3.5 s, ... so about 6-8 s), not the 1 s an
		// untrained schedule starts at.
		if p[0] < render*6/10 {
			t.Errorf("first poll at %v, want no earlier than %v: the learned schedule waits for the earliest plausible finish", p[0], render*6/10)
		}
		if last := p[len(p)-1]; last < render || last > render+hot {
			t.Errorf("found done at %v, want within %v of %v (polls %v)", last, hot, render, p)
		}
		if len(p) > int((render-p[0])/hot)+3 {
			t.Errorf("%d polls %v: too many for one task", len(p), p)
		}
	})
}
