package runware

import (
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dubline/dubline/internal/retry"
	"github.com/dubline/dubline/kling"
)

// fakeAPI is a scripted Runware stand-in for unit tests: every request is
// recorded and answered by handle (called with the request's 1-based index
// and its decoded task objects).
type fakeAPI struct {
	mu     sync.Mutex
	reqs   []fakeReq
	handle func(n int, tasks []map[string]any, w http.ResponseWriter)
}

type fakeReq struct {
	auth, ctype, ua string
	raw             []byte
	tasks           []map[string]any
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var tasks []map[string]any
	_ = json.Unmarshal(raw, &tasks)
	f.mu.Lock()
	f.reqs = append(f.reqs, fakeReq{r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.Header.Get("User-Agent"), raw, tasks})
	n := len(f.reqs)
	h := f.handle
	f.mu.Unlock()
	h(n, tasks, w)
}

func (f *fakeAPI) requests() []fakeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeReq(nil), f.reqs...)
}

func (f *fakeAPI) count(taskType string) int {
	n := 0
	for _, r := range f.requests() {
		if len(r.tasks) > 0 && r.tasks[0]["taskType"] == taskType {
			n++
		}
	}
	return n
}

// writeJSON answers with status and v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// acks answers every task with an ack.
func acks(tasks []map[string]any) map[string]any {
	var data []map[string]any
	for _, t := range tasks {
		data = append(data, map[string]any{"taskType": t["taskType"], "taskUUID": t["taskUUID"]})
	}
	return map[string]any{"data": data}
}

// fastOptions are client options scaled down to milliseconds.
func fastOptions(url string) Options {
	return Options{
		URL:              url,
		APIKey:           "sk-test-SECRET",
		BatchWindow:      5 * time.Millisecond,
		PollInitialDelay: 5 * time.Millisecond,
		PollInterval:     10 * time.Millisecond,
		PollMaxInterval:  20 * time.Millisecond,
		RequestTimeout:   2 * time.Second,
		Retry:            retry.Policy{Attempts: 4, Initial: time.Millisecond, Max: 5 * time.Millisecond},
		Rand:             rand.New(rand.NewPCG(7, 7)),
	}
}

// memTransport serves requests with a handler in memory: no sockets, so a
// test can run the client inside a testing/synctest bubble, on its fake
// clock. A handler that panics with http.ErrAbortHandler is a connection
// reset before any reply.
type memTransport struct{ h http.Handler }

func (m memTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			resp, err = nil, errors.New("connection reset by peer")
		}
	}()
	m.h.ServeHTTP(rec, req)
	if req.Body != nil {
		req.Body.Close()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}

// newFake makes a fake server and a client for it.
func newFake(t *testing.T, h func(n int, tasks []map[string]any, w http.ResponseWriter), tweak ...func(*Options)) (*fakeAPI, *Client) {
	t.Helper()
	f := &fakeAPI{handle: h}
	o := fastOptions("http://runware.fake/v1")
	o.HTTPClient = &http.Client{Transport: memTransport{f}}
	for _, fn := range tweak {
		fn(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return f, c
}

func testTask(id string) Task {
	return Task{
		TaskUUID: id, Request: kling.DefaultRequest(),
		Video: "https://media.example/v.mp4", Audio: "https://media.example/a.wav",
	}
}
