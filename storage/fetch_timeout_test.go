package storage

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dubline/dubline/internal/retry"
)

// A source that stops sending mid-body is abandoned after the attempt
// timeout and retried, instead of hanging an unattended run. On synctest's
// clock: each attempt ends exactly at the timeout.
func TestFetchAttemptTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var starts []time.Time
		stall := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			starts = append(starts, time.Now())
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			w.Write([]byte("partial"))
			<-r.Context().Done() // stall until the client gives up
		})
		f, _ := os.CreateTemp(t.TempDir(), "f")
		defer f.Close()
		o := buildOptions([]Option{WithAttemptTimeout(200 * time.Millisecond), WithFetchRetry(retry.Policy{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, Attempts: 2}),
			WithHTTPClient(&http.Client{Transport: streamTransport{stall}})})
		start := time.Now()
		_, err := fetchToFile(t.Context(), o, "http://source.test/v.mp4", f)
		if err == nil {
			t.Fatal("a stalled download succeeded")
		}
		if len(starts) != 2 {
			t.Fatalf("%d attempts, want the stalled attempt retried once", len(starts))
		}
		// 200 ms timeout, a 5-10 ms pause, 200 ms timeout.
		if gap := starts[1].Sub(starts[0]); gap < 205*time.Millisecond || gap > 210*time.Millisecond {
			t.Errorf("second attempt %v after the first, want the timeout plus the retry pause", gap)
		}
		if el := time.Since(start); el != starts[1].Sub(start)+200*time.Millisecond {
			t.Errorf("gave up after %v, want 200ms after the second attempt began", el)
		}
	})
}

// streamTransport serves a handler in memory, streaming its body as it is
// written (so a stalled body stalls the reader), inside a synctest bubble.
type streamTransport struct{ h http.Handler }

func (s streamTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	w := &pipeWriter{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		s.h.ServeHTTP(w, req)
		w.WriteHeader(200)
		pw.CloseWithError(req.Context().Err()) // nil: the body ends
	}()
	go func() { <-req.Context().Done(); pw.CloseWithError(req.Context().Err()) }()
	select {
	case <-w.ready:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	n, err := strconv.ParseInt(w.header.Get("Content-Length"), 10, 64)
	if err != nil {
		n = -1
	}
	return &http.Response{StatusCode: w.status, Header: w.header, Body: pr, ContentLength: n, Request: req}, nil
}

type pipeWriter struct {
	header http.Header
	pw     *io.PipeWriter
	status int
	ready  chan struct{}
}

func (w *pipeWriter) Header() http.Header { return w.header }
func (w *pipeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		close(w.ready)
	}
}
func (w *pipeWriter) Write(b []byte) (int, error) { w.WriteHeader(200); return w.pw.Write(b) }

// Final answers from the source mean the file is gone.
func TestSourceGone(t *testing.T) {
	for status, gone := range map[int]bool{404: true, 410: true, 403: true, 422: false, 503: false} {
		err := error(&statusError{Method: "GET", URL: "http://x/v.mp4", Status: status})
		if errors.Is(err, ErrSourceGone) != gone {
			t.Errorf("HTTP %d: ErrSourceGone = %t, want %t", status, !gone, gone)
		}
	}
	put := error(&statusError{Method: "PUT", URL: "http://x/v.mp4", Status: 404})
	if errors.Is(put, ErrSourceGone) {
		t.Error("a PUT answer is about the destination, not the source")
	}
}
