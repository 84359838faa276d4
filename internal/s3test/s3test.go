// Package s3test starts a real, SigV4-verifying S3 server (versitygw with
// its posix backend) for tests, so that presigned URLs, content-type
// signing and expiry are checked the way AWS checks them.
//
// Design choices:
//   - versitygw runs as a separate process (not embedded) to keep go.mod free
//     of its ~60 indirect modules.
//   - A missing binary is a test failure, never a skip: integration tests must
//     not go silently green on a machine without the server.
//   - Each server gets its own data dir, a free loopback port and fixed
//     credentials; on Linux the child is killed if the test binary dies.
package s3test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Fixed credentials and region of every test server.
const (
	AccessKey = "testaccess"
	SecretKey = "testsecret123"
	Region    = "us-east-1"
)

// InstallHint says how to get the server binary.
const InstallHint = "install it with `go install github.com/versity/versitygw/cmd/versitygw@v1.8.0` " +
	"(or point $VERSITYGW at the binary)"

// Server is a running versitygw.
type Server struct {
	Endpoint  string // http://127.0.0.1:port
	AccessKey string
	SecretKey string
	Region    string
	DataDir   string // posix backend root; buckets are its sub-directories

	cmd  *exec.Cmd
	done chan error
	once sync.Once
}

// Start starts a versitygw for the test, waits until it is healthy, creates
// buckets, and stops the server in t.Cleanup. It calls t.Fatal when the
// binary is missing or the server does not come up.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	s, err := start(t.TempDir(), buckets)
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	t.Cleanup(s.stop)
	return s
}

// StartMain is Start for a TestMain, where no testing.TB exists. The caller
// must call stop (it also removes the data dir), typically after m.Run:
//
//	srv, stop, err := s3test.StartMain("bucket")
//	if err != nil { fmt.Fprintln(os.Stderr, err); os.Exit(1) }
//	code := m.Run(); stop(); os.Exit(code)
func StartMain(buckets ...string) (srv *Server, stop func(), err error) {
	dir, err := os.MkdirTemp("", "s3test-")
	if err != nil {
		return nil, nil, fmt.Errorf("s3test: data dir: %w", err)
	}
	s, err := start(dir, buckets)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("s3test: %w", err)
	}
	return s, func() { s.stop(); os.RemoveAll(dir) }, nil
}

// Binary finds the versitygw binary: $VERSITYGW, then PATH, then
// $(go env GOPATH)/bin/versitygw.
func Binary() (string, error) {
	if b := os.Getenv("VERSITYGW"); b != "" {
		if _, err := os.Stat(b); err != nil {
			return "", fmt.Errorf("$VERSITYGW=%s: %w; %s", b, err, InstallHint)
		}
		return b, nil
	}
	if b, err := exec.LookPath("versitygw"); err == nil {
		return b, nil
	}
	for _, gp := range gopaths() {
		b := filepath.Join(gp, "bin", "versitygw")
		if st, err := os.Stat(b); err == nil && !st.IsDir() {
			return b, nil
		}
	}
	return "", fmt.Errorf("versitygw not found in $VERSITYGW, PATH or GOPATH/bin; %s", InstallHint)
}

func gopaths() []string {
	var out []string
	if b, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		out = append(out, filepath.SplitList(strings.TrimSpace(string(b)))...)
	}
	return append(out, filepath.SplitList(build.Default.GOPATH)...)
}

func start(dataDir string, buckets []string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	// A port picked by listen+close can be taken again before the server
	// binds it; retry a few times on an early exit.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := launch(bin, dataDir)
		if err != nil {
			lastErr = err
			continue
		}
		if err := s.createBuckets(buckets); err != nil {
			s.stop()
			return nil, err
		}
		return s, nil
	}
	return nil, lastErr
}

func launch(bin, dataDir string) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pick a free port: %w", err)
	}
	addr := l.Addr().String()
	l.Close()

	out := &limitedBuffer{max: 8 << 10}
	cmd := exec.Command(bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", addr, "--quiet", "--health", "/health", "posix", dataDir)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{
		Endpoint: "http://" + addr, AccessKey: AccessKey, SecretKey: SecretKey, Region: Region,
		DataDir: dataDir, cmd: cmd, done: make(chan error, 1),
	}
	go func() { s.done <- cmd.Wait() }()

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-s.done:
			s.done <- err // keep it for stop
			return nil, fmt.Errorf("versitygw exited before becoming healthy (%v): %s", err, out.String())
		case <-ctx.Done():
			s.stop()
			return nil, fmt.Errorf("versitygw at %s not healthy after 15s: %s", addr, out.String())
		case <-tick.C:
		}
		resp, err := hc.Get(s.Endpoint + "/health")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
}

func (s *Server) stop() {
	s.once.Do(func() {
		s.cmd.Process.Kill()
		<-s.done
	})
}

func (s *Server) createBuckets(buckets []string) error {
	c := s.Client()
	for _, b := range buckets {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		cancel()
		if err != nil {
			return fmt.Errorf("create bucket %q: %w", b, err)
		}
	}
	return nil
}

// Client returns an S3 client for the server: path-style addressing,
// static credentials.
func (s *Server) Client() *s3.Client {
	return s.ClientWith(s.AccessKey, s.SecretKey)
}

// ClientWith is Client with other credentials (e.g. a wrong secret).
func (s *Server) ClientWith(accessKey, secretKey string) *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	})
}

// Env returns the AWS environment variables that point the SDK's default
// chain at this server, for child processes (cmd.Env = append(os.Environ(),
// s.Env()...)) or t.Setenv.
func (s *Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=" + s.Region,
		"AWS_ENDPOINT_URL_S3=" + s.Endpoint,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Setenv sets Env() for the duration of the test with t.Setenv.
func (s *Server) Setenv(t testing.TB) {
	t.Helper()
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Put stores body under bucket/key with the SDK; t.Fatal on error.
func (s *Server) Put(t testing.TB, bucket, key string, body []byte, contentType string) {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if _, err := s.Client().PutObject(context.Background(), in); err != nil {
		t.Fatalf("s3test: put s3://%s/%s: %v", bucket, key, err)
	}
}

// Get reads bucket/key with the SDK; t.Fatal on error (including absence).
func (s *Server) Get(t testing.TB, bucket, key string) (body []byte, contentType string) {
	t.Helper()
	out, err := s.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("s3test: get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	body, err = io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("s3test: read s3://%s/%s: %v", bucket, key, err)
	}
	return body, aws.ToString(out.ContentType)
}

// Delete removes bucket/key; t.Fatal on error.
func (s *Server) Delete(t testing.TB, bucket, key string) {
	t.Helper()
	if _, err := s.Client().DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		t.Fatalf("s3test: delete s3://%s/%s: %v", bucket, key, err)
	}
}

// Exists reports whether bucket/key exists (HeadObject); t.Fatal on errors
// other than not-found.
func (s *Server) Exists(t testing.TB, bucket, key string) bool {
	t.Helper()
	_, err := s.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		return true
	}
	var nf interface{ ErrorCode() string }
	if errors.As(err, &nf) && (nf.ErrorCode() == "NotFound" || nf.ErrorCode() == "NoSuchKey") {
		return false
	}
	t.Fatalf("s3test: head s3://%s/%s: %v", bucket, key, err)
	return false
}

// limitedBuffer keeps the first max bytes of the server's output for error
// messages.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}
