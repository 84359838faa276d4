package storage

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestParseS3URL(t *testing.T) {
	cases := []struct {
		in, bucket, key string
		bad             bool
	}{
		{in: "s3://media/ep01.mp4", bucket: "media", key: "ep01.mp4"},
		{in: "s3://dubs-prod/nightly/es/", bucket: "dubs-prod", key: "nightly/es/"},
		{in: "s3://b/a/b/c.wav", bucket: "b", key: "a/b/c.wav"},
		{in: "s3://bucket", bucket: "bucket", key: ""},
		{in: "s3:///key", bad: true},
		{in: "https://host/key", bad: true},
		{in: "s3://b/k?x=1", bad: true},
		{in: "", bad: true},
	}
	for _, c := range cases {
		b, k, err := ParseS3URL(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("ParseS3URL(%q) = %q, %q; want error", c.in, b, k)
			}
			continue
		}
		if err != nil || b != c.bucket || k != c.key {
			t.Errorf("ParseS3URL(%q) = %q, %q, %v; want %q, %q", c.in, b, k, err, c.bucket, c.key)
		}
	}
}

func TestParseContentRangeTotal(t *testing.T) {
	for in, want := range map[string]int64{"bytes 0-9/100": 100, "bytes 5-5/6": 6, "bytes 0-0/*": -1, "garbage": -1} {
		got, err := parseContentRangeTotal(in)
		if want < 0 {
			if err == nil {
				t.Errorf("%q: want error, got %d", in, got)
			}
		} else if err != nil || got != want {
			t.Errorf("%q: got %d, %v; want %d", in, got, err, want)
		}
	}
}

// NewS3 must find the endpoint, credentials and region through the SDK's
// default chain (AWS_ENDPOINT_URL_S3 etc.), as the CLI does.
func TestNewS3FromEnvironment(t *testing.T) {
	srv.Setenv(t)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	srv.Put(t, bucket, "env/one.txt", []byte("one"), "text/plain")
	ctx := context.Background()

	s, err := NewS3(ctx, Config{PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if obj, err := s.Head(ctx, bucket, "env/one.txt"); err != nil || obj.Size != 3 {
		t.Fatalf("Head via env endpoint: %+v, %v", obj, err)
	}

	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	s, err = NewS3(ctx, Config{Endpoint: srv.Endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Client().Options().Region; r != DefaultRegion {
		t.Errorf("region = %q, want %q", r, DefaultRegion)
	}
	if _, err := s.Head(ctx, bucket, "env/one.txt"); err != nil {
		t.Fatalf("Head via Config.Endpoint: %v", err)
	}
	s, err = NewS3(ctx, Config{Endpoint: srv.Endpoint, Region: "eu-west-3"})
	if err != nil || s.Client().Options().Region != "eu-west-3" {
		t.Fatalf("Config.Region not used: %v", err)
	}
}

func TestHead(t *testing.T) {
	ctx := context.Background()
	s := newS3(nil)
	srv.Put(t, bucket, "head/a.mp4", []byte("0123456789"), "video/mp4")
	obj, err := s.Head(ctx, bucket, "head/a.mp4")
	if err != nil {
		t.Fatal(err)
	}
	if obj.Key != "head/a.mp4" || obj.Size != 10 || obj.ContentType != "video/mp4" || obj.ETag == "" || strings.Contains(obj.ETag, `"`) {
		t.Errorf("Head = %+v", obj)
	}
	_, err = s.Head(ctx, bucket, "head/missing.mp4")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "s3://media/head/missing.mp4") {
		t.Errorf("Head(missing) err = %v; want ErrNotFound naming the URL", err)
	}
	_, err = s.Head(ctx, "no-such-bucket", "k")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Head(missing bucket) err = %v; want ErrNotFound", err)
	}
}

func TestGetRange(t *testing.T) {
	ctx := context.Background()
	s := newS3(nil)
	body := []byte("abcdefghijklmnopqrstuvwxyz")
	srv.Put(t, bucket, "range/alpha.bin", body, "")
	cases := []struct {
		off, n int64
		want   string
	}{
		{0, 4, "abcd"},
		{10, 5, "klmno"},
		{20, 100, "uvwxyz"}, // runs past the end
		{25, 1, "z"},
		{26, 10, ""}, // at the end
		{1000, 10, ""},
	}
	for _, c := range cases {
		data, total, err := s.GetRange(ctx, bucket, "range/alpha.bin", c.off, c.n)
		if err != nil || string(data) != c.want || total != int64(len(body)) {
			t.Errorf("GetRange(%d,%d) = %q, %d, %v; want %q, %d", c.off, c.n, data, total, err, c.want, len(body))
		}
	}
	if _, _, err := s.GetRange(ctx, bucket, "range/missing", 0, 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing object: err = %v, want ErrNotFound", err)
	}
	if _, _, err := s.GetRange(ctx, bucket, "range/alpha.bin", 0, 0); err == nil {
		t.Error("n=0: want error")
	}
}

// This is what Runware's uploadEndpoint PUT meets: the signed content type
// must be sent exactly.
func TestPresignPutSignsContentType(t *testing.T) {
	ctx := context.Background()
	s := newS3(nil)
	u, err := s.PresignPut(ctx, bucket, "presign/ok.mp4", "video/mp4", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if st, b := httpDo(t, http.MethodPut, u, []byte("video"), "image/png"); st != http.StatusForbidden {
		t.Errorf("wrong Content-Type: status %d %s; want 403", st, b)
	}
	if st, b := httpDo(t, http.MethodPut, u, []byte("video"), ""); st != http.StatusForbidden {
		t.Errorf("missing Content-Type: status %d %s; want 403", st, b)
	}
	if srv.Exists(t, bucket, "presign/ok.mp4") {
		t.Fatal("rejected PUT stored an object")
	}
	if st, b := httpDo(t, http.MethodPut, u, []byte("video"), "video/mp4"); st != http.StatusOK {
		t.Fatalf("signed Content-Type: status %d %s; want 200", st, b)
	}
	got, ct := srv.Get(t, bucket, "presign/ok.mp4")
	if string(got) != "video" || ct != "video/mp4" {
		t.Errorf("stored %q %q", got, ct)
	}
}

func TestPresignGet(t *testing.T) {
	ctx := context.Background()
	s := newS3(nil)
	srv.Put(t, bucket, "presign/in.wav", []byte("RIFF...."), "audio/wav")
	u, err := s.PresignGet(ctx, bucket, "presign/in.wav", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	st, b := httpDo(t, http.MethodGet, u, nil, "")
	if st != http.StatusOK || string(b) != "RIFF...." {
		t.Errorf("presigned GET: %d %q", st, b)
	}
	if st, _ := httpDo(t, http.MethodGet, strings.Replace(u, "in.wav", "other.wav", 1), nil, ""); st != http.StatusForbidden {
		t.Errorf("URL reused for another key: %d, want 403", st)
	}
}

func TestStageUploadsOnce(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	s := newS3(rec)
	dir := t.TempDir()
	p := filepath.Join(dir, "Ep01.WAV")
	content := bytes.Repeat([]byte("pcm "), 1000)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	key1, err := s.Stage(ctx, bucket, "stage/", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key1, "stage/") || !strings.HasSuffix(key1, ".wav") || len(key1) != len("stage/")+64+len(".wav") {
		t.Errorf("key = %q, want stage/<sha256>.wav", key1)
	}
	if got := rec.count("PUT"); got != 1 {
		t.Fatalf("first Stage made %d PUTs, want 1", got)
	}
	got, ct := srv.Get(t, bucket, key1)
	if !bytes.Equal(got, content) || ct != "audio/wav" {
		t.Errorf("staged object: %d bytes, %q", len(got), ct)
	}

	key2, err := s.Stage(ctx, bucket, "stage/", p)
	if err != nil || key2 != key1 {
		t.Fatalf("second Stage = %q, %v; want %q", key2, err, key1)
	}
	if got := rec.count("PUT"); got != 1 {
		t.Errorf("second Stage uploaded again: %d PUTs", got)
	}

	// Same name, new content: a new key and an upload.
	if err := os.WriteFile(p, append(content, '!'), 0o644); err != nil {
		t.Fatal(err)
	}
	key3, err := s.Stage(ctx, bucket, "stage/", p)
	if err != nil || key3 == key1 || rec.count("PUT") != 2 {
		t.Errorf("changed file: key %q (old %q), %d PUTs, %v", key3, key1, rec.count("PUT"), err)
	}

	// An object under the key with another size (a broken earlier upload)
	// is replaced.
	srv.Put(t, bucket, key1, []byte("short"), "audio/wav")
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stage(ctx, bucket, "stage/", p); err != nil || rec.count("PUT") != 3 {
		t.Errorf("size mismatch not re-uploaded: %d PUTs, %v", rec.count("PUT"), err)
	}
	if got, _ := srv.Get(t, bucket, key1); !bytes.Equal(got, content) {
		t.Errorf("re-staged object has %d bytes, want %d", len(got), len(content))
	}

	if _, err := s.Stage(ctx, bucket, "stage/", filepath.Join(dir, "missing.wav")); err == nil || !strings.Contains(err.Error(), "missing.wav") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestPreflight(t *testing.T) {
	ctx := context.Background()
	t.Run("ok", func(t *testing.T) {
		s := newS3(nil)
		if err := s.Preflight(ctx, "out", "nightly/es/"); err != nil {
			t.Fatal(err)
		}
		list, err := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("out"), Prefix: aws.String("nightly/")})
		if err != nil || len(list.Contents) != 0 {
			t.Errorf("marker left behind: %d objects, %v", len(list.Contents), err)
		}
	})
	cases := []struct {
		name   string
		s      *S3
		bucket string
		want   string
	}{
		{"missing bucket", newS3(nil), "no-such-bucket", `bucket "no-such-bucket" does not exist`},
		{"wrong secret", newS3With(srv.AccessKey, "wrong-secret", nil), "out", "credentials rejected"},
		{"unknown access key", newS3With("nobody", "wrong-secret", nil), "out", "credentials rejected"},
		{"unreachable", NewS3FromClient(s3.New(s3.Options{
			Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), UsePathStyle: true, RetryMaxAttempts: 1,
			Credentials: srv.Client().Options().Credentials,
		})), "out", "cannot reach endpoint http://127.0.0.1:1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.s.Preflight(ctx, c.bucket, "p/")
			if err == nil || !errors.Is(err, ErrPreflight) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v; want ErrPreflight saying %q", err, c.want)
			}
			assertNoSecret(t, err.Error())
		})
	}
}
