package storage

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dubline/dubline/internal/retry"
)

// source serves body after failing `fails` times with failStatus, like a
// Runware videoURL that is not servable yet. It counts requests.
type source struct {
	body       []byte
	fails      int32
	failStatus int
	hits       atomic.Int32
}

func (s *source) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.hits.Add(1)
	if n <= s.fails {
		http.Error(w, "not ready", s.failStatus)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(s.body)
}

func startSource(t *testing.T, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	// A query like Runware's signed URLs, which must never show in errors.
	return ts.URL + "/video/out.mp4?token=secret-token"
}

func TestS3DestinationString(t *testing.T) {
	for prefix, want := range map[string]string{"": "s3://out/", "a/b": "s3://out/a/b/", "a/b/": "s3://out/a/b/"} {
		if got := NewS3Destination(newS3(nil), "out", prefix).String(); got != want {
			t.Errorf("prefix %q: String() = %q, want %q", prefix, got, want)
		}
	}
}

// The URL Runware's uploadEndpoint would receive: PUT with the signed type
// lands under the prefix; Stat sees it with a destination-relative key.
func TestS3DestinationUploadURL(t *testing.T) {
	ctx := context.Background()
	d := NewS3Destination(newS3(nil), "out", "upl")
	u, err := d.UploadURL(ctx, "ep01.mp4", "video/mp4", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(ctx, "ep01.mp4"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Stat before upload: %v, want ErrNotFound", err)
	}
	if st, _ := httpDo(t, http.MethodPut, u, []byte("mp4!"), "binary/octet-stream"); st != http.StatusForbidden {
		t.Errorf("PUT with another Content-Type: %d, want 403", st)
	}
	if st, b := httpDo(t, http.MethodPut, u, []byte("mp4!"), "video/mp4"); st != http.StatusOK {
		t.Fatalf("PUT: %d %s", st, b)
	}
	obj, err := d.Stat(ctx, "ep01.mp4")
	if err != nil || obj.Key != "ep01.mp4" || obj.Size != 4 || obj.ContentType != "video/mp4" {
		t.Errorf("Stat = %+v, %v", obj, err)
	}
	if !srv.Exists(t, "out", "upl/ep01.mp4") {
		t.Error("object not under the prefix")
	}
	if _, err := d.UploadURL(ctx, "", "video/mp4", time.Minute); err == nil {
		t.Error("empty key accepted")
	}
}

func TestS3DestinationCopyFromURLWaitsForSource(t *testing.T) {
	ctx := context.Background()
	body := bytes.Repeat([]byte("frame"), 20000)
	src := &source{body: body, fails: 2, failStatus: http.StatusUnprocessableEntity}
	u := startSource(t, src)
	d := NewS3Destination(newS3(nil), "out", "copy/", WithFetchRetry(fastRetry))
	obj, err := d.CopyFromURL(ctx, u, "ep01.mp4", "video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	if src.hits.Load() != 3 {
		t.Errorf("source hit %d times, want 3 (422, 422, 200)", src.hits.Load())
	}
	if obj.Key != "ep01.mp4" || obj.Size != int64(len(body)) || obj.ContentType != "video/mp4" {
		t.Errorf("object = %+v", obj)
	}
	got, ct := srv.Get(t, "out", "copy/ep01.mp4")
	if !bytes.Equal(got, body) || ct != "video/mp4" {
		t.Errorf("stored %d bytes %q", len(got), ct)
	}
}

func TestS3DestinationCopyFromURLSourceErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		src      *source
		wantHits int32
		want     string
	}{
		{"not found is final", &source{fails: 99, failStatus: http.StatusNotFound}, 1, "HTTP 404"},
		{"forbidden is final", &source{fails: 99, failStatus: http.StatusForbidden}, 1, "HTTP 403"},
		{"503 until attempts run out", &source{fails: 99, failStatus: http.StatusServiceUnavailable}, 5, "gave up after 5 attempts"},
		{"empty body", &source{}, 5, "empty body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := startSource(t, c.src)
			d := NewS3Destination(newS3(nil), "out", "copyerr/", WithFetchRetry(fastRetry))
			_, err := d.CopyFromURL(ctx, u, "x.mp4", "video/mp4")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if !strings.Contains(err.Error(), "s3://out/copyerr/x.mp4") {
				t.Errorf("error does not name the destination: %v", err)
			}
			assertNoSecret(t, err.Error())
			if got := c.src.hits.Load(); got != c.wantHits {
				t.Errorf("source hit %d times, want %d", got, c.wantHits)
			}
			if srv.Exists(t, "out", "copyerr/x.mp4") {
				t.Error("object stored despite failure")
			}
		})
	}
}

// The S3 side fails once (an injected 503 or a dropped connection); the
// upload is retried with a replayed body and a fresh presigned URL.
func TestS3DestinationUploadRetries(t *testing.T) {
	ctx := context.Background()
	body := bytes.Repeat([]byte("x"), 100000)
	cases := []struct {
		name string
		hook func(n int, r *http.Request) (*http.Response, error)
	}{
		{"503", func(n int, r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPut && n == 0 {
				return fakeResponse(r, http.StatusServiceUnavailable), nil
			}
			return nil, nil
		}},
		{"connection reset", func(n int, r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPut && n == 0 {
				r.Body.Close()
				return nil, syscall.ECONNRESET
			}
			return nil, nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := startSource(t, &source{body: body})
			rec := &recorder{hook: c.hook}
			key := "retry-" + strings.ReplaceAll(c.name, " ", "-") + ".mp4"
			d := NewS3Destination(newS3(nil), "out", "put/", WithUploadRetry(fastRetry),
				WithHTTPClient(&http.Client{Transport: rec}))
			obj, err := d.CopyFromURL(ctx, u, key, "video/mp4")
			if err != nil {
				t.Fatal(err)
			}
			if rec.count("PUT") != 2 {
				t.Errorf("%d PUTs, want 2 (failed, then retried)", rec.count("PUT"))
			}
			if obj.Size != int64(len(body)) {
				t.Errorf("size %d, want %d", obj.Size, len(body))
			}
			if got, _ := srv.Get(t, "out", "put/"+key); !bytes.Equal(got, body) {
				t.Errorf("stored %d bytes, want %d", len(got), len(body))
			}
		})
	}
}

// A presigned URL that expired before it was used is rejected by the
// server; CopyFromURL presigns again and succeeds.
func TestS3DestinationRecoversFromExpiredURL(t *testing.T) {
	ctx := context.Background()
	body := []byte("late upload")
	u := startSource(t, &source{body: body})
	rec := &recorder{hook: func(n int, r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPut && n == 0 {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
		}
		return nil, nil
	}}
	d := NewS3Destination(newS3(nil), "out", "exp/", WithUploadTTL(time.Second), WithUploadRetry(fastRetry),
		WithHTTPClient(&http.Client{Transport: rec}))
	if _, err := d.CopyFromURL(ctx, u, "late.mp4", "video/mp4"); err != nil {
		t.Fatal(err)
	}
	st := rec.statuses()
	if len(st) != 3 || st[0] != 200 || st[1] != http.StatusForbidden || st[2] != 200 {
		t.Errorf("statuses = %v, want [200 403 200] (GET, expired PUT, fresh PUT)", st)
	}
	if got, _ := srv.Get(t, "out", "exp/late.mp4"); !bytes.Equal(got, body) {
		t.Errorf("stored %q", got)
	}
}

// A 403 that is not an expiry (wrong credentials) is final, and the error
// carries no presigned query string.
func TestS3DestinationForbiddenIsFinal(t *testing.T) {
	ctx := context.Background()
	u := startSource(t, &source{body: []byte("data")})
	rec := &recorder{}
	d := NewS3Destination(newS3With(srv.AccessKey, "wrong-secret", nil), "out", "forbidden/", WithUploadRetry(fastRetry),
		WithHTTPClient(&http.Client{Transport: rec}))
	_, err := d.CopyFromURL(ctx, u, "x.mp4", "video/mp4")
	if err == nil || !strings.Contains(err.Error(), "HTTP 403") || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("err = %v, want a 403 SignatureDoesNotMatch", err)
	}
	if rec.count("PUT") != 1 {
		t.Errorf("%d PUTs, want 1", rec.count("PUT"))
	}
	assertNoSecret(t, err.Error())
}

func TestS3DestinationCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	u := startSource(t, &source{fails: 1000, failStatus: http.StatusUnprocessableEntity})
	d := NewS3Destination(newS3(nil), "out", "cancel/", WithFetchRetry(retry.Policy{Initial: time.Second, Window: time.Minute}))
	t0 := time.Now()
	_, err := d.CopyFromURL(ctx, u, "x.mp4", "video/mp4")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(t0) > 2*time.Second {
		t.Errorf("err = %v after %v; want DeadlineExceeded promptly", err, time.Since(t0))
	}
}

func TestDirDestination(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "results", "es")
	d, err := NewDirDestination(dir, WithFetchRetry(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	if d.String() != dir+"/" {
		t.Errorf("String() = %q", d.String())
	}
	if u, err := d.UploadURL(ctx, "a.mp4", "video/mp4", time.Minute); u != "" || err != nil {
		t.Errorf("UploadURL = %q, %v; want \"\"", u, err)
	}
	if _, err := d.Stat(ctx, "a.mp4"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat(missing) = %v, want ErrNotFound", err)
	}
	body := bytes.Repeat([]byte("webm"), 5000)
	u := startSource(t, &source{body: body, fails: 1, failStatus: http.StatusBadGateway})
	obj, err := d.CopyFromURL(ctx, u, "s1/ep01.webm", "video/webm")
	if err != nil {
		t.Fatal(err)
	}
	if obj.Key != "s1/ep01.webm" || obj.Size != int64(len(body)) || obj.ContentType != "video/webm" {
		t.Errorf("object = %+v", obj)
	}
	got, err := os.ReadFile(filepath.Join(dir, "s1", "ep01.webm"))
	if err != nil || !bytes.Equal(got, body) {
		t.Errorf("file: %d bytes, %v", len(got), err)
	}
	assertOnlyFiles(t, filepath.Join(dir, "s1"), "ep01.webm")
	if st, err := d.Stat(ctx, "s1/ep01.webm"); err != nil || st.Size != obj.Size || st.ContentType != "video/webm" {
		t.Errorf("Stat = %+v, %v", st, err)
	}
	for _, bad := range []string{"", "../escape.mp4", "/abs.mp4", "a/../../b.mp4", "dir/"} {
		if _, err := d.CopyFromURL(ctx, u, bad, "video/mp4"); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
}

// While the download is in progress, the final name does not exist; after
// a failed download neither the file nor a temporary file is left.
func TestDirDestinationAtomic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := NewDirDestination(dir)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	half := make(chan struct{})
	var failNext atomic.Bool
	u := startSource(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "8")
		w.Write([]byte("1234"))
		w.(http.Flusher).Flush()
		if failNext.Load() {
			panic(http.ErrAbortHandler) // drop the connection mid-body
		}
		close(half)
		<-release
		w.Write([]byte("5678"))
	}))
	done := make(chan error, 1)
	go func() {
		_, err := d.CopyFromURL(ctx, u, "out.mp4", "video/mp4")
		done <- err
	}()
	<-half
	if _, err := os.Stat(filepath.Join(dir, "out.mp4")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("final name exists while downloading: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "out.mp4")); string(got) != "12345678" {
		t.Errorf("file = %q", got)
	}
	assertOnlyFiles(t, dir, "out.mp4")

	failNext.Store(true)
	d2, _ := NewDirDestination(dir, WithFetchRetry(retry.Policy{Initial: time.Millisecond, Attempts: 2}))
	_, err = d2.CopyFromURL(ctx, u, "broken.mp4", "video/mp4")
	if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") {
		t.Fatalf("truncated download: err = %v", err)
	}
	assertNoSecret(t, err.Error())
	assertOnlyFiles(t, dir, "out.mp4")
}

func TestNewDirDestinationNotWritable(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewDirDestination(filepath.Join(f, "sub")); err == nil || !strings.Contains(err.Error(), f) {
		t.Errorf("err = %v, want an error naming %s", err, f)
	}
}

func assertOnlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("%s holds %v, want %v", dir, names, want)
	}
}
