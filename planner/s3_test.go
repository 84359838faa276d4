package planner

import (
	"context"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dubline/dubline/internal/s3test"
	"github.com/dubline/dubline/storage"
)

// s3Counting adapts storage.S3 to S3Source and counts requests and bytes.
type s3Counting struct {
	s           *storage.S3
	heads, gets atomic.Int32
	bytes       atomic.Int64
}

func (c *s3Counting) Head(ctx context.Context, bucket, key string) (int64, string, error) {
	c.heads.Add(1)
	o, err := c.s.Head(ctx, bucket, key)
	return o.Size, o.ETag, err
}

func (c *s3Counting) GetRange(ctx context.Context, bucket, key string, off, n int64) ([]byte, int64, error) {
	c.gets.Add(1)
	b, total, err := c.s.GetRange(ctx, bucket, key, off, n)
	c.bytes.Add(int64(len(b)))
	return b, total, err
}

// s3:// inputs are checked with HEAD and probed with ranged GETs against
// a real S3 API (versitygw, SigV4 checked).
func TestS3InputsProbed(t *testing.T) {
	srv := s3test.Start(t, "media")
	for _, name := range []string{"face_moov_end.mp4", "tone_12_5s.m4a", "speech_4_2s.wav"} {
		b, err := os.ReadFile("../testdata/media/" + name)
		if err != nil {
			t.Fatal(err)
		}
		srv.Put(t, "media", "in/"+name, b, "application/octet-stream")
	}
	src := &s3Counting{s: storage.NewS3FromClient(srv.Client())}
	p := mustPlan(t, `
output: {url: out}
jobs:
  - {id: a, video: s3://media/in/face_moov_end.mp4, audio: s3://media/in/tone_12_5s.m4a}
  - {id: b, video: s3://media/in/face_moov_end.mp4, audio: s3://media/in/speech_4_2s.wav}
`, Options{NeedPrice: true, S3: func(context.Context, Output) (S3Source, error) { return src, nil }})
	a, b := p.Jobs[0], p.Jobs[1]
	if a.Video.Width != 1280 || a.Video.Height != 720 || a.BillableSeconds != 13 || b.BillableSeconds != 5 {
		t.Errorf("a: %dx%d %d s; b: %d s", a.Video.Width, a.Video.Height, a.BillableSeconds, b.BillableSeconds)
	}
	if a.Video.Version == "" || a.Video.Size == 0 {
		t.Errorf("HEAD did not fill size/ETag: %+v", a.Video)
	}
	// Three distinct objects: one HEAD each, at most two ranged GETs each.
	heads, gets := src.heads.Load(), src.gets.Load()
	t.Logf("3 objects: %d HEADs, %d ranged GETs, %d bytes", heads, gets, src.bytes.Load())
	if heads != 3 || gets > 6 || src.bytes.Load() > 3*256<<10 {
		t.Errorf("%d HEADs, %d GETs, %d bytes: want 3 HEADs, <= 2 GETs and <= 256 KiB per object", heads, gets, src.bytes.Load())
	}

	_, err := plan(t, `
output: {url: out}
jobs:
  - {id: a, video: s3://media/in/missing.mp4, audio: s3://media/in/tone_12_5s.m4a}
`, Options{NeedPrice: true, S3: func(context.Context, Output) (S3Source, error) { return src, nil }})
	if err == nil || !strings.Contains(err.Error(), "m.yaml:4:20: jobs[0].video: head s3://media/in/missing.mp4: not found") {
		t.Errorf("missing object: %v", err)
	}
}
