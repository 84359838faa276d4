package staging

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dubline/dubline/planner"
)

type fakeUploader struct {
	n    atomic.Int32
	last string
}

func (f *fakeUploader) UploadMedia(ctx context.Context, media string) (string, string, error) {
	f.n.Add(1)
	f.last = media
	return "0b2d7c1e-1111-4222-8333-444455556666", "http://x/media", nil
}

type fakeS3 struct{ staged, presigned atomic.Int32 }

func (f *fakeS3) PresignGet(ctx context.Context, bucket, key string, ttl time.Duration) (string, error) {
	f.presigned.Add(1)
	return "https://s3.local/" + bucket + "/" + key + "?X-Amz-Signature=sig", nil
}

func (f *fakeS3) Stage(ctx context.Context, bucket, prefix, localPath string) (string, error) {
	f.staged.Add(1)
	return prefix + "abc.mp4", nil
}

func TestPassThroughAndPresign(t *testing.T) {
	s := &Inputs{S3: &fakeS3{}, TTL: time.Hour}
	ctx := context.Background()
	for _, c := range []struct {
		in   planner.Input
		want string
	}{
		{planner.Input{Kind: planner.InputHTTP, URL: "https://cdn/x.mp4"}, "https://cdn/x.mp4"},
		{planner.Input{Kind: planner.InputRunware, URL: "0b2d7c1e-1111-4222-8333-444455556666"}, "0b2d7c1e-1111-4222-8333-444455556666"},
		{planner.Input{Kind: planner.InputS3, Bucket: "media", Key: "a/b.wav"}, "https://s3.local/media/a/b.wav?X-Amz-Signature=sig"},
	} {
		got, err := s.URL(ctx, c.in)
		if err != nil || got != c.want {
			t.Errorf("URL(%+v) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// A local file used by many jobs is staged once, however many ask at once.
func TestStageOnce(t *testing.T) {
	f := &fakeS3{}
	s := &Inputs{S3: f, Staging: "s3://stage/pre/", TTL: time.Hour}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := s.URL(context.Background(), planner.Input{Kind: planner.InputLocal, Path: "../testdata/media/face.mp4"})
			if err != nil || u != "https://s3.local/stage/pre/abc.mp4?X-Amz-Signature=sig" {
				t.Errorf("got %q, %v", u, err)
			}
		}()
	}
	wg.Wait()
	if n := f.staged.Load(); n != 1 {
		t.Errorf("staged %d times, want 1", n)
	}
	// Each job gets its own presigned URL: one made at the start of a long
	// run must not be handed to a job submitted after it expired.
	if n := f.presigned.Load(); n != 20 {
		t.Errorf("presigned %d times, want 20 (one per job)", n)
	}
}

// Without staging, a local file goes to Runware's mediaStorage as a data
// URI, and the UUID is reused by a later run (cache in the state dir).
func TestUploadToRunwareCached(t *testing.T) {
	dir := t.TempDir()
	up := &fakeUploader{}
	in := planner.Input{Kind: planner.InputLocal, Path: "../testdata/media/speech_4_2s.wav"}
	s := &Inputs{Uploader: up, StateDir: dir, Scope: "https://api.runware.ai/v1#acct1"}
	id, err := s.URL(context.Background(), in)
	if err != nil || id != "0b2d7c1e-1111-4222-8333-444455556666" {
		t.Fatalf("got %q, %v", id, err)
	}
	if !strings.HasPrefix(up.last, "data:audio/") || !strings.Contains(up.last, ";base64,UklGR") {
		t.Errorf("upload was %.40q", up.last)
	}
	s2 := &Inputs{Uploader: up, StateDir: dir, Scope: "https://api.runware.ai/v1#acct1"}
	if id2, err := s2.URL(context.Background(), in); err != nil || id2 != id {
		t.Fatalf("second run: %q, %v", id2, err)
	}
	if n := up.n.Load(); n != 1 {
		t.Errorf("uploaded %d times, want 1", n)
	}
	later := &Inputs{Uploader: up, StateDir: dir, Scope: "https://api.runware.ai/v1#acct1", Now: func() time.Time { return time.Now().Add(25 * time.Hour) }}
	if _, err := later.URL(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if n := up.n.Load(); n != 2 {
		t.Errorf("after 25 h: uploaded %d times, want 2 (cache expired)", n)
	}
	// A UUID from one endpoint or account (a sandbox rehearsal, another
	// key) is never sent to another.
	other := &Inputs{Uploader: up, StateDir: dir, Scope: "http://127.0.0.1:8787/v1#sandbox"}
	if _, err := other.URL(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if n := up.n.Load(); n != 3 {
		t.Errorf("another scope: uploaded %d times, want 3 (not served from acct1's cache)", n)
	}
}

func TestErrors(t *testing.T) {
	s := &Inputs{}
	if _, err := s.URL(context.Background(), planner.Input{Kind: planner.InputS3, Raw: "s3://a/b"}); err == nil {
		t.Error("s3 without client: want an error")
	}
	if _, err := s.URL(context.Background(), planner.Input{Kind: planner.InputLocal, Path: "../testdata/media/face.mp4"}); err == nil {
		t.Error("local without staging or uploader: want an error")
	}
	s = &Inputs{Uploader: &fakeUploader{}}
	if _, err := s.URL(context.Background(), planner.Input{Kind: planner.InputLocal, Path: "nope.mp4"}); err == nil {
		t.Error("missing file: want an error")
	}
}
