package storage

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/dubline/dubline/internal/retry"
)

// A source that stops sending mid-body is abandoned after the attempt
// timeout and retried, instead of hanging an unattended run.
func TestFetchAttemptTimeout(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		select { // stall
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	f, _ := os.CreateTemp(t.TempDir(), "f")
	defer f.Close()
	o := buildOptions([]Option{WithAttemptTimeout(200 * time.Millisecond), WithFetchRetry(retry.Policy{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, Attempts: 2})})
	start := time.Now()
	_, err := fetchToFile(context.Background(), o, srv.URL, f)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %s; want a timeout error well before the stall ends", err, time.Since(start))
	}
	if hits < 2 {
		t.Errorf("%d attempts, want the stalled attempt retried", hits)
	}
}

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
