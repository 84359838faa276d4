package storage

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/dubline/dubline/internal/retry"
)

// Destination is where results go. Both implementations satisfy it.
type Destination interface {
	// UploadURL returns a presigned PUT URL for key that Runware's
	// uploadEndpoint can use, or "" when this destination cannot take
	// direct uploads (a local directory). contentType is signed.
	UploadURL(ctx context.Context, key, contentType string, ttl time.Duration) (string, error)
	// Stat returns the stored object (Key is the destination-relative key);
	// the error wraps ErrNotFound if it is absent.
	Stat(ctx context.Context, key string) (Object, error)
	// CopyFromURL downloads srcURL (a Runware videoURL) and stores it under
	// key with contentType, then checks the stored object with Verify. It
	// retries the download on 422/429/5xx and network errors for a bounded
	// time, and the store as described on each implementation; the caller
	// does not retry it. A result is never visible half-written. The error
	// wraps ErrSourceGone when the source is gone for good.
	CopyFromURL(ctx context.Context, srcURL, key, contentType string) (Object, error)
	// String names the destination for messages ("s3://bucket/prefix/",
	// "/abs/dir/").
	String() string
}

// Defaults: the source GET follows what Runware's own client does for a
// not-yet-servable videoURL (about ten tries over up to ~2 minutes); the
// upload retries briefly, as S3 5xx errors are short-lived.
var (
	DefaultFetchRetry  = retry.Policy{Initial: time.Second, Max: 15 * time.Second, Window: 2 * time.Minute}
	DefaultUploadRetry = retry.Policy{Initial: 500 * time.Millisecond, Max: 10 * time.Second, Attempts: 6}
)

// DefaultUploadTTL is the lifetime of the presigned URL CopyFromURL uses
// for its own PUT (a fresh one per attempt).
const DefaultUploadTTL = 15 * time.Minute

// Option tunes a Destination.
type Option func(*options)

type options struct {
	http        *http.Client
	fetchRetry  retry.Policy
	uploadRetry retry.Policy
	uploadTTL   time.Duration
	// attemptTimeout bounds one download or upload attempt, so a stalled
	// connection is retried instead of hanging an unattended run.
	attemptTimeout time.Duration
	log            *slog.Logger
}

// DefaultAttemptTimeout bounds one transfer attempt. Results are at most
// a few hundred MB; at 1 MB/s that is minutes, not an hour.
const DefaultAttemptTimeout = 15 * time.Minute

// WithAttemptTimeout sets the bound of one download or upload attempt.
func WithAttemptTimeout(d time.Duration) Option { return func(o *options) { o.attemptTimeout = d } }

// WithHTTPClient sets the client for source downloads and presigned PUTs.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.http = c } }

// WithFetchRetry sets the retry bounds of the source download.
func WithFetchRetry(r retry.Policy) Option { return func(o *options) { o.fetchRetry = r } }

// WithUploadRetry sets the retry bounds of the S3 upload.
func WithUploadRetry(r retry.Policy) Option { return func(o *options) { o.uploadRetry = r } }

// WithUploadTTL sets the lifetime of CopyFromURL's own presigned PUT URLs.
func WithUploadTTL(d time.Duration) Option { return func(o *options) { o.uploadTTL = d } }

// WithLogger sets the logger for retry messages (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

func buildOptions(opts []Option) options {
	o := options{fetchRetry: DefaultFetchRetry, uploadRetry: DefaultUploadRetry, uploadTTL: DefaultUploadTTL, attemptTimeout: DefaultAttemptTimeout}
	for _, f := range opts {
		f(&o)
	}
	if o.http == nil {
		o.http = defaultHTTPClient()
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	return o
}

// defaultHTTPClient has no overall timeout (results can be large) but
// bounds connecting and waiting for response headers.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.ResponseHeaderTimeout = 2 * time.Minute
	return &http.Client{Transport: t}
}
