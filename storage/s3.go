package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/dubline/dubline/internal/redact"
)

// DefaultRegion is used when neither Config.Region nor the AWS
// configuration names a region.
const DefaultRegion = "us-east-1"

// Config selects the S3 endpoint. Credentials always come from the SDK's
// default chain (environment, shared config/credentials files, SSO, IMDS).
type Config struct {
	// Endpoint is an S3-compatible endpoint URL; "" uses the SDK default,
	// which honours AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL.
	Endpoint string
	// Region overrides the configured region; "" uses AWS_REGION or the
	// profile, then DefaultRegion.
	Region string
	// PathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key (needed by most S3-compatible servers).
	PathStyle bool
}

// S3 is a thin client for the S3 operations Dubline needs.
type S3 struct {
	client  *s3.Client
	presign *s3.PresignClient
}

// NewS3 builds a client from the default AWS configuration and cfg.
func NewS3(ctx context.Context, cfg Config) (*S3, error) {
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = DefaultRegion
	}
	c := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	return NewS3FromClient(c), nil
}

// NewS3FromClient wraps an existing SDK client (tests, custom transports).
func NewS3FromClient(c *s3.Client) *S3 {
	return &S3{client: c, presign: s3.NewPresignClient(c)}
}

// Client returns the underlying SDK client.
func (s *S3) Client() *s3.Client { return s.client }

// endpoint names the endpoint for error messages.
func (s *S3) endpoint() string {
	o := s.client.Options()
	if ep := aws.ToString(o.BaseEndpoint); ep != "" {
		return redact.URL(ep)
	}
	return "the AWS S3 endpoint of region " + o.Region
}

// ParseS3URL splits "s3://bucket/key/with/slashes" into bucket and key.
// The key may be empty ("s3://bucket" or "s3://bucket/"), which callers use
// as a prefix.
func ParseS3URL(u string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("parse %q: not an s3:// URL", redact.URL(u))
	}
	if strings.ContainsAny(rest, "?#") {
		return "", "", fmt.Errorf("parse %q: s3:// URLs take no query or fragment", redact.URL(u))
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("parse %q: no bucket", u)
	}
	return bucket, key, nil
}

// s3URL formats bucket and key for messages.
func s3URL(bucket, key string) string { return "s3://" + bucket + "/" + key }

// Head returns the object's metadata; the error wraps ErrNotFound when it
// does not exist.
func (s *S3) Head(ctx context.Context, bucket, key string) (Object, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if httpStatus(err) == 404 {
			return Object{}, fmt.Errorf("head %s: %w", s3URL(bucket, key), ErrNotFound)
		}
		return Object{}, fmt.Errorf("head %s: %w", s3URL(bucket, key), scrub(err))
	}
	return Object{
		Key:         key,
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		ETag:        strings.Trim(aws.ToString(out.ETag), `"`),
	}, nil
}

// GetRange reads up to n bytes at offset off with one ranged GET and
// returns them with the object's total size (from Content-Range). Reading at
// or past the end returns no data and the total.
func (s *S3) GetRange(ctx context.Context, bucket, key string, off, n int64) (data []byte, total int64, err error) {
	if off < 0 || n <= 0 {
		return nil, 0, fmt.Errorf("get %s: invalid range offset %d length %d", s3URL(bucket, key), off, n)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1)),
	})
	if err != nil {
		switch httpStatus(err) {
		case 404:
			return nil, 0, fmt.Errorf("get %s: %w", s3URL(bucket, key), ErrNotFound)
		case 416: // offset at or past the end (or empty object)
			obj, herr := s.Head(ctx, bucket, key)
			if herr != nil {
				return nil, 0, herr
			}
			return nil, obj.Size, nil
		}
		return nil, 0, fmt.Errorf("get %s bytes %d+%d: %w", s3URL(bucket, key), off, n, scrub(err))
	}
	defer out.Body.Close()
	if out.ContentRange == nil {
		// The server ignored the range and sent the whole object.
		total = aws.ToInt64(out.ContentLength)
		if _, err := io.CopyN(io.Discard, out.Body, off); err != nil {
			return nil, total, nil // off is past the end
		}
	} else if total, err = parseContentRangeTotal(*out.ContentRange); err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", s3URL(bucket, key), err)
	}
	data, err = io.ReadAll(io.LimitReader(out.Body, n))
	if err != nil {
		return nil, 0, fmt.Errorf("get %s bytes %d+%d: read: %w", s3URL(bucket, key), off, n, scrub(err))
	}
	return data, total, nil
}

// parseContentRangeTotal reads the total from "bytes 0-99/1234".
func parseContentRangeTotal(cr string) (int64, error) {
	_, tot, ok := strings.Cut(cr, "/")
	if !ok || tot == "*" {
		return 0, fmt.Errorf("Content-Range %q has no total size", cr)
	}
	n, err := strconv.ParseInt(tot, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("Content-Range %q: bad total size", cr)
	}
	return n, nil
}

// httpStatus returns the HTTP status of an SDK error, or 0 when the request
// got no response.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// apiCode returns the S3 error code ("NoSuchBucket", "AccessDenied"), or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// scrub redacts the request URL inside err (net/http puts the full URL,
// including any presigned query, into *url.Error) and returns err.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redact.URL(ue.URL)
	}
	return err
}
