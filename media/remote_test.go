package media

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fileServer serves a directory with Range support (http.ServeContent)
// and counts requests and body bytes.
type fileServer struct {
	dir         string
	ignoreRange bool // answer 200 with the whole file, as a server without Range support does

	inflight sync.WaitGroup // handlers still writing when the client has its bytes
	mu       sync.Mutex
	requests int
	bytes    int64
}

func (s *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Done()
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	if r.URL.Query().Get("X-Amz-Signature") == "expired" {
		http.Error(w, "AccessDenied", http.StatusForbidden)
		return
	}
	f, err := os.Open(filepath.Join(s.dir, filepath.Base(r.URL.Path)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	cw := &countingWriter{ResponseWriter: w, n: &s.bytes, mu: &s.mu}
	if s.ignoreRange {
		r.Header.Del("Range")
	}
	http.ServeContent(cw, r, st.Name(), time.Time{}, f)
}

// reset returns the counts since the last reset, once every handler has
// finished.
func (s *fileServer) reset() (int, int64) {
	s.inflight.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	n, b := s.requests, s.bytes
	s.requests, s.bytes = 0, 0
	return n, b
}

type countingWriter struct {
	http.ResponseWriter
	n  *int64
	mu *sync.Mutex
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.mu.Lock()
	*c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

// makeLargeMedia renders large inputs with ffmpeg: a 1280x720 20 s MP4 at
// 3 Mb/s with moov at the END (several MB) and its faststart remux, and
// 60 s M4A, WAV, MP3, WebM, Opus and Ogg.
func makeLargeMedia(t *testing.T, dir string) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatalf("ffmpeg is required for this test (apt-get install ffmpeg): %v", err)
	}
	tone := "sine=frequency=330:sample_rate=44100:duration=60"
	cmds := [][]string{
		{"-f", "lavfi", "-i", "testsrc2=s=1280x720:r=15:d=20", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=20",
			"-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M", "-c:a", "aac", "-b:a", "64k", "big_moov_end.mp4"},
		// The same with moov first: the walk past moov must stay cheap.
		{"-i", "big_moov_end.mp4", "-c", "copy", "-movflags", "+faststart", "big_faststart.mp4"},
		{"-f", "lavfi", "-i", tone, "-c:a", "aac", "-b:a", "128k", "long.m4a"},
		{"-f", "lavfi", "-i", tone, "-c:a", "pcm_s16le", "long.wav"},
		{"-f", "lavfi", "-i", tone, "-c:a", "libmp3lame", "-b:a", "128k", "long.mp3"},
		// CBR without a Xing/Info tag: the duration is estimated from the bitrate.
		{"-f", "lavfi", "-i", tone, "-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0", "long_cbr.mp3"},
		{"-f", "lavfi", "-i", tone, "-c:a", "libopus", "-b:a", "128k", "long.webm"},
		{"-f", "lavfi", "-i", tone, "-c:a", "libopus", "-b:a", "128k", "long.opus"},
		{"-f", "lavfi", "-i", tone, "-c:a", "libvorbis", "-b:a", "128k", "long.ogg"},
	}
	for _, c := range cmds {
		args := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, c...)
		cmd := exec.Command("ffmpeg", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", c, err, out)
		}
	}
}

// moovAtEnd reports whether the MP4's moov box comes after its mdat.
func moovAtEnd(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Index(string(b), "mdat") < strings.Index(string(b), "moov")
}

func TestProbeURLCost(t *testing.T) {
	dir := t.TempDir()
	makeLargeMedia(t, dir)
	if !moovAtEnd(t, filepath.Join(dir, "big_moov_end.mp4")) {
		t.Fatal("big_moov_end.mp4 was written with moov first; the test needs it at the end")
	}
	fs := &fileServer{dir: dir}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	tests := []struct {
		file        string
		format      string
		video       bool
		audio       bool
		w, h        int
		minSize     int64
		maxRequests int
		maxBytes    int64
	}{
		{"big_moov_end.mp4", "mp4", true, true, 1280, 720, 4 << 20, 3, 256 << 10},
		{"big_faststart.mp4", "mp4", true, true, 1280, 720, 4 << 20, 3, 256 << 10},
		{"long.m4a", "m4a", false, true, 0, 0, 512 << 10, 3, 256 << 10},
		{"long.wav", "wav", false, true, 0, 0, 4 << 20, 3, 256 << 10},
		{"long.mp3", "mp3", false, true, 0, 0, 512 << 10, 3, 256 << 10},
		{"long_cbr.mp3", "mp3", false, true, 0, 0, 256 << 10, 3, 256 << 10},
		{"long.webm", "webm", false, true, 0, 0, 512 << 10, 3, 256 << 10},
		{"long.opus", "opus", false, true, 0, 0, 512 << 10, 3, 256 << 10},
		{"long.ogg", "ogg", false, true, 0, 0, 128 << 10, 3, 256 << 10},
	}
	rows := []string{"| file | size | ours (s) | ffprobe (s) | requests | bytes |", "|---|---|---|---|---|---|"}
	for _, tc := range tests {
		path := filepath.Join(dir, tc.file)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() < tc.minSize {
			t.Fatalf("%s is %d bytes; the test needs at least %d", tc.file, st.Size(), tc.minSize)
		}
		fs.reset()
		info, stats, err := ProbeURL(context.Background(), srv.Client(), srv.URL+"/"+tc.file+"?X-Amz-Signature=s3cr3t")
		reqs, bytes := fs.reset()
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		ff := ffprobeDuration(t, path)
		if info.Format != tc.format || info.Video != tc.video || info.Audio != tc.audio || info.Width != tc.w || info.Height != tc.h || info.Size != st.Size() {
			t.Errorf("%s: got %+v", tc.file, info)
		}
		if math.Abs(info.Seconds-ff) > ffprobeTol {
			t.Errorf("%s: %.6f s, ffprobe %.6f s", tc.file, info.Seconds, ff)
		}
		if stats.Requests != reqs {
			t.Errorf("%s: Stats.Requests %d, server counted %d", tc.file, stats.Requests, reqs)
		}
		if stats.Bytes != bytes {
			t.Errorf("%s: Stats.Bytes %d, server sent %d", tc.file, stats.Bytes, bytes)
		}
		if reqs > tc.maxRequests || bytes > tc.maxBytes {
			t.Errorf("%s (%d bytes): %d requests, %d bytes; want <= %d requests, <= %d bytes", tc.file, st.Size(), reqs, bytes, tc.maxRequests, tc.maxBytes)
		}
		t.Logf("%s: %d bytes, %.3f s, %d requests, %d bytes transferred", tc.file, st.Size(), info.Seconds, reqs, bytes)
		rows = append(rows, fmt.Sprintf("| %s | %d | %.6f | %.6f | %d | %d |", tc.file, st.Size(), info.Seconds, ff, reqs, bytes))
	}
	t.Logf("remote probe cost:\n%s", strings.Join(rows, "\n"))
}

// Every fixture probes the same over HTTP as from disk.
func TestProbeURLMatchesFile(t *testing.T) {
	for _, ignoreRange := range []bool{false, true} {
		fs := &fileServer{dir: fixtures, ignoreRange: ignoreRange}
		srv := httptest.NewServer(fs)
		all, _ := filepath.Glob(filepath.Join(fixtures, "*"))
		for _, path := range all {
			name := filepath.Base(path)
			want, wantErr := ProbeFile(path)
			got, stats, err := ProbeURL(context.Background(), srv.Client(), srv.URL+"/"+name)
			if (err == nil) != (wantErr == nil) || got != want {
				t.Errorf("ignoreRange=%v %s: URL %+v, %v; file %+v, %v", ignoreRange, name, got, err, want, wantErr)
			}
			if wantErr != nil && !errors.Is(err, unwrapSentinel(wantErr)) {
				t.Errorf("ignoreRange=%v %s: URL error %v, file error %v", ignoreRange, name, err, wantErr)
			}
			if !ignoreRange && stats.Requests > 3 {
				t.Errorf("%s: %d requests", name, stats.Requests)
			}
		}
		srv.Close()
	}
}

func unwrapSentinel(err error) error {
	for _, s := range []error{ErrNotMedia, ErrTruncated, ErrUnsupported} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

func TestProbeURLErrorsHideQuery(t *testing.T) {
	srv := httptest.NewServer(&fileServer{dir: fixtures})
	defer srv.Close()
	tests := []struct {
		url  string
		code int
	}{
		{srv.URL + "/missing.mp4?X-Amz-Credential=AKIDSECRET&X-Amz-Signature=deadbeef", http.StatusNotFound},
		{srv.URL + "/face.mp4?X-Amz-Credential=AKIDSECRET&X-Amz-Signature=expired", http.StatusForbidden},
	}
	for _, tc := range tests {
		_, _, err := ProbeURL(context.Background(), srv.Client(), tc.url)
		var se *StatusError
		if !errors.As(err, &se) || se.Code != tc.code {
			t.Errorf("%s: error %v, want HTTP %d", redactForTest(tc.url), err, tc.code)
			continue
		}
		for _, secret := range []string{"AKIDSECRET", "deadbeef", "X-Amz-Signature=expired"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks %q: %v", secret, err)
			}
		}
		if !strings.Contains(err.Error(), srv.URL) {
			t.Errorf("error does not name the host: %v", err)
		}
		t.Logf("%v", err)
	}
	// A refused connection: net/http's url.Error would print the full URL.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	_, _, err := ProbeURL(context.Background(), http.DefaultClient, deadURL+"/a.mp4?X-Amz-Signature=deadbeef")
	if err == nil || strings.Contains(err.Error(), "deadbeef") {
		t.Errorf("connection error %v: want an error without the signature", err)
	}
	// A cancelled context stops the probe.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := ProbeURL(ctx, srv.Client(), srv.URL+"/face.mp4"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func redactForTest(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}
