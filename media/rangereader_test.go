package media

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func TestRangeReaderBlocks(t *testing.T) {
	data := pattern(100_000)
	rr, err := NewRangeReader(context.Background(), memFetch(data), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Size() != int64(len(data)) || rr.Requests() != 1 || rr.BytesFetched() != 1000 {
		t.Fatalf("after head fetch: size %d, %d requests, %d bytes", rr.Size(), rr.Requests(), rr.BytesFetched())
	}
	steps := []struct {
		off, n   int64
		requests int // total after this read
	}{
		{0, 1000, 1},     // head block is cached
		{5500, 10, 2},    // block 5
		{3000, 7000, 4},  // blocks 3-9: runs 3-4 and 6-9, block 5 cached
		{3000, 7000, 4},  // all cached
		{99_990, 10, 5},  // last block
		{20_000, 100, 6}, // block 20
	}
	for _, s := range steps {
		p := make([]byte, s.n)
		n, err := rr.ReadAt(p, s.off)
		if err != nil || n != int(s.n) || !bytes.Equal(p, data[s.off:s.off+s.n]) {
			t.Fatalf("ReadAt(%d, %d): n %d, err %v, data equal %v", s.off, s.n, n, err, bytes.Equal(p, data[s.off:s.off+s.n]))
		}
		if rr.Requests() != s.requests {
			t.Errorf("after ReadAt(%d, %d): %d requests, want %d", s.off, s.n, rr.Requests(), s.requests)
		}
	}
	// Prefetch fetches a range in one request; reads inside it are free.
	if err := rr.Prefetch(40_000, 30_000); err != nil {
		t.Fatal(err)
	}
	if rr.Requests() != 7 {
		t.Errorf("after Prefetch: %d requests, want 7", rr.Requests())
	}
	p := make([]byte, 25_000)
	if _, err := rr.ReadAt(p, 42_000); err != nil || !bytes.Equal(p, data[42_000:67_000]) || rr.Requests() != 7 {
		t.Errorf("read inside prefetched range: err %v, %d requests", err, rr.Requests())
	}
	// Reads at and across the end.
	p = make([]byte, 20)
	if n, err := rr.ReadAt(p, 99_990); n != 10 || err != io.EOF || !bytes.Equal(p[:10], data[99_990:]) {
		t.Errorf("read across the end: n %d, err %v", n, err)
	}
	if n, err := rr.ReadAt(p, 100_000); n != 0 || err != io.EOF {
		t.Errorf("read at the end: n %d, err %v", n, err)
	}
	if _, err := rr.ReadAt(p, -1); err == nil {
		t.Error("negative offset: no error")
	}
}

func TestRangeReaderBadFetch(t *testing.T) {
	data := pattern(10_000)
	tests := []struct {
		name  string
		fetch FetchFunc
		want  string
	}{
		{"size changes", func(ctx context.Context, off, n int64) ([]byte, int64, error) {
			b, total, err := memFetch(data)(ctx, off, n)
			if off > 0 {
				total *= 2
			}
			return b, total, err
		}, "changed"},
		{"short body", func(ctx context.Context, off, n int64) ([]byte, int64, error) {
			b, total, err := memFetch(data)(ctx, off, n)
			if off > 0 {
				b = b[:len(b)/2]
			}
			return b, total, err
		}, "returned"},
		{"unknown size", func(ctx context.Context, off, n int64) ([]byte, int64, error) {
			if off > 0 {
				return nil, -1, nil
			}
			return memFetch(data)(ctx, off, n)
		}, "size"},
	}
	for _, tc := range tests {
		rr, err := NewRangeReader(context.Background(), tc.fetch, 1000)
		if err != nil {
			t.Fatalf("%s: head fetch: %v", tc.name, err)
		}
		_, err = rr.ReadAt(make([]byte, 10), 5000)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewRangeReader(context.Background(), func(context.Context, int64, int64) ([]byte, int64, error) {
		return nil, 0, errors.New("boom")
	}, 0); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failing head fetch: %v", err)
	}
}

// HTTP servers that do Range badly or not at all still give right answers.
func TestHTTPFetchServers(t *testing.T) {
	path := filepath.Join(fixtures, "face_moov_end.mp4")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ProbeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	handlers := map[string]http.HandlerFunc{
		// No Range support and no Content-Length (chunked).
		"200 chunked": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			for i := 0; i < len(data); i += 1000 {
				w.Write(data[i:min(i+1000, len(data))])
				w.(http.Flusher).Flush()
			}
		},
		// No Range support, with Content-Length.
		"200 sized": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data)
		},
	}
	for name, h := range handlers {
		srv := httptest.NewServer(h)
		got, stats, err := ProbeURL(context.Background(), srv.Client(), srv.URL+"/v/face_moov_end.mp4")
		srv.Close()
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", name, got, err, want)
		}
		t.Logf("%s: %d requests, %d bytes", name, stats.Requests, stats.Bytes)
	}
	// A server answering with the wrong range is an error, not wrong data.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Range", "bytes 10-19/"+strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(data[10:20])
	}))
	defer srv.Close()
	if _, _, err := ProbeURL(context.Background(), srv.Client(), srv.URL+"/a.mp4"); err == nil || !strings.Contains(err.Error(), "Content-Range") {
		t.Errorf("wrong Content-Range: %v", err)
	}
	// An empty object (S3 and net/http answer 416 to a range on it).
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "empty.mp4"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	esrv := httptest.NewServer(&fileServer{dir: dir})
	defer esrv.Close()
	if _, _, err := ProbeURL(context.Background(), esrv.Client(), esrv.URL+"/empty.mp4"); !errors.Is(err, ErrTruncated) {
		t.Errorf("empty object: %v, want ErrTruncated", err)
	}
}
