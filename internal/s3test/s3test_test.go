package s3test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestStartPutGet(t *testing.T) {
	s := Start(t, "media", "out")
	for _, b := range []string{"media", "out"} {
		if st, err := os.Stat(filepath.Join(s.DataDir, b)); err != nil || !st.IsDir() {
			t.Fatalf("bucket %s not created in data dir: %v", b, err)
		}
	}
	s.Put(t, "media", "a/b.mp4", []byte("hello"), "video/mp4")
	body, ct := s.Get(t, "media", "a/b.mp4")
	if string(body) != "hello" || ct != "video/mp4" {
		t.Fatalf("got %q %q", body, ct)
	}
	if !s.Exists(t, "media", "a/b.mp4") || s.Exists(t, "media", "nope") {
		t.Fatal("Exists wrong")
	}
}

func TestSignatureIsChecked(t *testing.T) {
	s := Start(t, "media")
	_, err := s.ClientWith(s.AccessKey, "wrongsecret").PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("media"), Key: aws.String("x"), Body: bytes.NewReader([]byte("x")),
	})
	if err == nil {
		t.Fatal("PUT with a wrong secret was accepted")
	}
	resp, err := http.DefaultClient.Do(mustReq(t, http.MethodPut, s.Endpoint+"/media/anon", "x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous PUT: status %d, want 403", resp.StatusCode)
	}
}

func TestStopsOnCleanup(t *testing.T) {
	var endpoint string
	t.Run("inner", func(t *testing.T) { endpoint = Start(t).Endpoint })
	c := http.Client{Timeout: time.Second}
	if resp, err := c.Get(endpoint + "/health"); err == nil {
		resp.Body.Close()
		t.Fatalf("server still answers at %s after cleanup", endpoint)
	}
}

func TestStartMain(t *testing.T) {
	s, stop, err := StartMain("bkt")
	if err != nil {
		t.Fatal(err)
	}
	s.Put(t, "bkt", "k", []byte("v"), "")
	stop()
	stop() // idempotent
	if _, err := os.Stat(s.DataDir); !os.IsNotExist(err) {
		t.Fatalf("data dir not removed: %v", err)
	}
}

func TestEnv(t *testing.T) {
	s := &Server{Endpoint: "http://127.0.0.1:1", AccessKey: "a", SecretKey: "b", Region: "r"}
	env := strings.Join(s.Env(), "\n")
	for _, want := range []string{"AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b", "AWS_REGION=r", "AWS_ENDPOINT_URL_S3=http://127.0.0.1:1"} {
		if !strings.Contains(env, want) {
			t.Errorf("Env() lacks %s", want)
		}
	}
}

func TestMissingBinary(t *testing.T) {
	t.Setenv("VERSITYGW", filepath.Join(t.TempDir(), "nope"))
	_, err := Binary()
	if err == nil || !strings.Contains(err.Error(), "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0") {
		t.Fatalf("err = %v, want install hint", err)
	}
}

func mustReq(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return r
}
