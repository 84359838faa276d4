package planner

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A URL presigned for GET refuses HEAD (the method is signed); the probe's
// ranged GET checks the input instead of failing the plan.
func TestPresignedGETRefusesHEAD(t *testing.T) {
	files := http.FileServer(http.Dir("../testdata/media"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			http.Error(w, "SignatureDoesNotMatch", http.StatusForbidden)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	p := mustPlan(t, `
output: {url: out}
jobs:
  - {id: a, video: "`+srv.URL+`/face.mp4?X-Amz-Signature=s1", audio: "`+srv.URL+`/speech_4_2s.wav?X-Amz-Signature=s2"}
`, Options{NeedPrice: true, HTTPClient: srv.Client()})
	if j := p.Jobs[0]; j.BillableSeconds != 5 || j.Video.Width != 1280 {
		t.Errorf("not probed: %+v", j)
	}
	// A re-signed URL is the same input.
	q := mustPlan(t, `
output: {url: out}
jobs:
  - {id: a, video: "`+srv.URL+`/face.mp4?X-Amz-Signature=other", audio: "`+srv.URL+`/speech_4_2s.wav?X-Amz-Signature=s3"}
`, Options{NeedPrice: true, HTTPClient: srv.Client()})
	if p.Jobs[0].Fingerprint != q.Jobs[0].Fingerprint {
		t.Error("re-signing an input URL changed the job's fingerprint")
	}
	// A missing object still fails, and the cause survives redaction.
	_, err := plan(t, `
output: {url: out}
jobs:
  - {id: a, video: "http://127.0.0.1:1/v.mp4?X-Amz-Signature=secret", audio: "`+srv.URL+`/speech_4_2s.wav"}
`, Options{NeedPrice: true, HTTPClient: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "secret") {
		t.Errorf("unreachable input: %v", err)
	}
}

// A FIFO (or device) as a local input is refused at once, not read forever.
func TestNonRegularLocalInput(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.wav")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := plan(t, `
output: {url: out}
jobs:
  - {id: a, video: `+md+`face.mp4, audio: `+fifo+`}
`, Options{NeedPrice: true})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("planning a FIFO input hangs")
	}
}

func TestDuplicateTagsCountOnce(t *testing.T) {
	p := mustPlan(t, `
output: {url: out}
jobs:
  - {id: a, video: `+md+`face.mp4, audio: `+md+`speech_4_2s.wav, tags: [es, es, s1]}
`, Options{NeedPrice: true})
	if p.ByTag["es"] != 462 || len(p.Jobs[0].Tags) != 2 {
		t.Errorf("by tag %v, tags %v", p.ByTag, p.Jobs[0].Tags)
	}
}

// A key template problem is reported once, at output.key.
func TestBadTemplateReportedOnce(t *testing.T) {
	_, err := plan(t, `
output: {url: out, key: "../{id}.{ext}"}
defaults: {numberResults: 2}
jobs:
  - {id: a, video: `+md+`face.mp4, audio: `+md+`speech_4_2s.wav}
  - {id: b, video: `+md+`face.mp4, audio: `+md+`speech_4_2s.wav}
`, Options{})
	if err == nil || strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), "m.yaml:2:25: output.key:") {
		t.Errorf("want one problem at output.key, got:\n%v", err)
	}
}

// A video input needs a video track, an audio input an audio track.
func TestStreamTypes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range [][]string{
		{"-i", "../testdata/media/face.mp4", "-an", "-c", "copy", filepath.Join(dir, "silent.mp4")},
		{"-i", "../testdata/media/face.mp4", "-vn", "-c", "copy", filepath.Join(dir, "audio_only.mp4")},
		{"-i", "../testdata/media/face.mp4", "-an", "-c", "copy", filepath.Join(dir, "video_only.m4a")},
	} {
		if out, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, c...)...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
	}
	_, err := plan(t, `
output: {url: out}
jobs:
  - {id: a, video: `+filepath.Join(dir, "audio_only.mp4")+`, audio: `+filepath.Join(dir, "video_only.m4a")+`}
`, Options{NeedPrice: true})
	if err == nil || !strings.Contains(err.Error(), "audio_only.mp4 has no video track (it holds audio)") ||
		!strings.Contains(err.Error(), "video_only.m4a has no audio track (it holds video)") {
		t.Errorf("got %v", err)
	}
	// A silent video is a fine video input: the new audio replaces nothing.
	if _, err := plan(t, `
output: {url: out}
jobs:
  - {id: a, video: `+filepath.Join(dir, "silent.mp4")+`, audio: `+md+`speech_4_2s.wav}
`, Options{NeedPrice: true}); err != nil {
		t.Errorf("silent video: %v", err)
	}
}
