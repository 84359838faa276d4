package storage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dubline/dubline/internal/retry"
	"github.com/dubline/dubline/internal/s3test"
)

// srv is one real versitygw shared by the package's tests; tests use
// distinct keys.
var srv *s3test.Server

const bucket = "media"

func TestMain(m *testing.M) {
	s, stop, err := s3test.StartMain(bucket, "out")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv = s
	code := m.Run()
	stop()
	os.Exit(code)
}

// newS3 returns an S3 for srv whose SDK requests go through rt (nil: default).
func newS3(rt http.RoundTripper) *S3 {
	return newS3With(srv.AccessKey, srv.SecretKey, rt)
}

func newS3With(access, secret string, rt http.RoundTripper) *S3 {
	o := s3.Options{
		Region:       srv.Region,
		BaseEndpoint: aws.String(srv.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(access, secret, ""),
	}
	if rt != nil {
		o.HTTPClient = &http.Client{Transport: rt}
	}
	return NewS3FromClient(s3.New(o))
}

// fast retries keep the tests quick.
var fastRetry = retry.Policy{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond, Attempts: 5}

// recorder is an http.RoundTripper that records requests and can replace or
// delay chosen ones.
type recorder struct {
	mu     sync.Mutex
	reqs   []string // "METHOD path"
	status []int    // status per request, -1 for errors
	// hook, when set, runs before forwarding; n counts earlier requests
	// with the same method. A non-nil response or error is returned instead
	// of forwarding.
	hook func(n int, r *http.Request) (*http.Response, error)
}

func (rc *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	rc.mu.Lock()
	n := 0
	for _, q := range rc.reqs {
		if strings.HasPrefix(q, r.Method+" ") {
			n++
		}
	}
	rc.reqs = append(rc.reqs, r.Method+" "+r.URL.Path)
	hook := rc.hook
	rc.mu.Unlock()
	var resp *http.Response
	var err error
	if hook != nil {
		resp, err = hook(n, r)
	}
	if resp == nil && err == nil {
		resp, err = http.DefaultTransport.RoundTrip(r)
	}
	st := -1
	if err == nil {
		st = resp.StatusCode
	}
	rc.mu.Lock()
	rc.status = append(rc.status, st)
	rc.mu.Unlock()
	return resp, err
}

// count returns how many recorded requests used method.
func (rc *recorder) count(method string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, r := range rc.reqs {
		if strings.HasPrefix(r, method+" ") {
			n++
		}
	}
	return n
}

func (rc *recorder) statuses() []int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]int(nil), rc.status...)
}

// fakeResponse builds a response without touching the network; the request
// body is drained as a server would.
func fakeResponse(r *http.Request, status int) *http.Response {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(nil)), Request: r,
	}
}

// httpDo sends one request with the default client.
func httpDo(t *testing.T, method, url string, body []byte, contentType string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// assertNoSecret fails when s carries presign query parts or the secret.
func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, bad := range []string{"X-Amz-Signature", "X-Amz-Credential", "token=", srv.SecretKey} {
		if strings.Contains(s, bad) {
			t.Errorf("message leaks %q: %s", bad, s)
		}
	}
}
