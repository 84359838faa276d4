package storage

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/dubline/dubline/internal/redact"
)

// s3Dest stores results under an S3 prefix.
type s3Dest struct {
	s      *S3
	bucket string
	prefix string
	o      options
}

// NewS3Destination returns a Destination for s3://bucket/prefix. A non-empty
// prefix without a trailing "/" gets one, so keys never run into it.
//
// CopyFromURL downloads to a temporary file (a replayable body), then PUTs
// it through a presigned URL from this process, presigned afresh for every
// attempt; attempts are retried on 5xx, 429 and network errors and on a 403
// for an expired URL, with exponential backoff and jitter. After the PUT
// the object is HEADed and its size and content type checked.
func NewS3Destination(s *S3, bucket, prefix string, opts ...Option) Destination {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &s3Dest{s: s, bucket: bucket, prefix: prefix, o: buildOptions(opts)}
}

func (d *s3Dest) String() string { return "s3://" + d.bucket + "/" + d.prefix }

func (d *s3Dest) key(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("%s: invalid key %q", d, key)
	}
	return d.prefix + key, nil
}

func (d *s3Dest) UploadURL(ctx context.Context, key, contentType string, ttl time.Duration) (string, error) {
	k, err := d.key(key)
	if err != nil {
		return "", err
	}
	return d.s.PresignPut(ctx, d.bucket, k, contentType, ttl)
}

func (d *s3Dest) Stat(ctx context.Context, key string) (Object, error) {
	k, err := d.key(key)
	if err != nil {
		return Object{}, err
	}
	obj, err := d.s.Head(ctx, d.bucket, k)
	obj.Key = key
	return obj, err
}

func (d *s3Dest) CopyFromURL(ctx context.Context, srcURL, key, contentType string) (Object, error) {
	k, err := d.key(key)
	if err != nil {
		return Object{}, err
	}
	fail := func(step string, err error) (Object, error) {
		return Object{}, fmt.Errorf("copy %s to %s: %s: %w", redact.URL(srcURL), s3URL(d.bucket, k), step, err)
	}
	tmp, err := os.CreateTemp("", "dubline-copy-*")
	if err != nil {
		return fail("temp file", err)
	}
	defer func() { tmp.Close(); os.Remove(tmp.Name()) }()

	size, err := fetchToFile(ctx, d.o, srcURL, tmp)
	if err != nil {
		return fail("download", err)
	}
	if err := d.upload(ctx, k, contentType, tmp, size); err != nil {
		return fail("upload", err)
	}
	obj, err := d.s.Head(ctx, d.bucket, k)
	if err != nil {
		return fail("verify", err)
	}
	obj.Key = key
	if obj.Size != size {
		return fail("verify", fmt.Errorf("stored %d bytes, uploaded %d", obj.Size, size))
	}
	if err := Verify(obj, contentType); err != nil {
		return fail("verify", err)
	}
	return obj, nil
}

// upload PUTs size bytes of f to bucket/k through presigned URLs.
func (d *s3Dest) upload(ctx context.Context, k, contentType string, f *os.File, size int64) error {
	rt := d.o.uploadRetry.Start(nil)
	for {
		actx, cancel := context.WithTimeout(ctx, d.o.attemptTimeout)
		again, err := d.putOnce(actx, k, contentType, f, size)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !again {
			return err
		}
		d.o.log.Warn("storage: upload failed, retrying", "object", s3URL(d.bucket, k), "attempt", rt.Attempts()+1, "err", err)
		ok, werr := rt.Failed(ctx, 0)
		if werr != nil {
			return werr
		}
		if !ok {
			return fmt.Errorf("gave up after %d attempts: %w", rt.Attempts(), err)
		}
	}
}

// putOnce makes one presigned PUT. retry reports whether the failure is
// worth another attempt: 5xx, 429, no answer at all, or a 403 for an
// expired URL (the next attempt presigns afresh).
func (d *s3Dest) putOnce(ctx context.Context, k, contentType string, f *os.File, size int64) (retry bool, err error) {
	ttl := d.o.uploadTTL
	u, err := d.s.PresignPut(ctx, d.bucket, k, contentType, ttl)
	if err != nil {
		return false, err
	}
	signed := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, io.NewSectionReader(f, 0, size))
	if err != nil {
		return false, fmt.Errorf("PUT %s: %w", redact.URL(u), scrub(err))
	}
	req.ContentLength = size
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(f, 0, size)), nil }
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := d.o.http.Do(req)
	if err != nil {
		return true, scrub(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	se := &statusError{Method: "PUT", URL: redact.URL(u), Status: resp.StatusCode, Code: s3ErrorCode(string(body))}
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return true, se
	case resp.StatusCode == http.StatusForbidden &&
		(strings.Contains(strings.ToLower(string(body)), "expired") || time.Since(signed) >= ttl):
		return true, fmt.Errorf("presigned URL expired: %w", se)
	}
	return false, se
}
