package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ErrPreflight is wrapped by every error Preflight returns, so callers can
// tell "the destination is unusable" from other failures.
var ErrPreflight = errors.New("storage preflight failed")

// Preflight checks before anything is paid that bucket exists and that
// objects can be written under prefix: HeadBucket, then PUT and DELETE of a
// tiny marker object. Its errors say in plain words what is wrong: the
// bucket does not exist, the credentials are rejected, there is no
// permission to write, or the endpoint cannot be reached. A failed DELETE
// of the marker is only logged: Dubline never needs to delete.
func (s *S3) Preflight(ctx context.Context, bucket, prefix string) error {
	where := s3URL(bucket, prefix)
	_, headErr := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if headErr != nil {
		if st := httpStatus(headErr); st != 403 && st != 404 {
			return s.classify(headErr, bucket, where)
		}
		// HEAD answers carry no error code, so the PUT below tells a missing
		// bucket from a rejected credential (versitygw answers 404 to an
		// unknown access key) or a missing permission.
	}
	key := prefix + ".dubline-preflight-" + randomHex(8)
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader("dubline preflight\n"), ContentType: aws.String("text/plain"),
	})
	if err != nil {
		return s.classify(err, bucket, where)
	}
	if headErr != nil {
		// Writable but HeadBucket is denied: fine for Dubline.
		slog.Debug("storage preflight: HeadBucket failed but PUT allowed", "bucket", bucket, "err", headErr)
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		slog.Warn("storage preflight: could not delete marker object", "object", s3URL(bucket, key), "err", scrub(err))
	}
	return nil
}

// classify turns an SDK error into a Preflight message.
func (s *S3) classify(err error, bucket, where string) error {
	err = scrub(err)
	code := apiCode(err)
	switch status := httpStatus(err); {
	case code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" || code == "InvalidClientTokenId" ||
		code == "ExpiredToken" || code == "InvalidToken" || code == "XAdminUserNotFound":
		return fmt.Errorf("%w: credentials rejected by %s (%s): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the AWS profile: %w",
			ErrPreflight, s.endpoint(), code, err)
	case status == 404 || code == "NoSuchBucket":
		return fmt.Errorf("%w: bucket %q does not exist at %s: %w", ErrPreflight, bucket, s.endpoint(), err)
	case status == 403:
		return fmt.Errorf("%w: no permission to write %s: %w", ErrPreflight, where, err)
	case status == 301 || code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed":
		return fmt.Errorf("%w: bucket %q is in another region than %s (set AWS_REGION): %w",
			ErrPreflight, bucket, s.client.Options().Region, err)
	case status == 0 && isCredentialError(err):
		return fmt.Errorf("%w: no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE): %w", ErrPreflight, err)
	case status == 0 && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: cannot reach endpoint %s: %w", ErrPreflight, s.endpoint(), err)
	}
	return fmt.Errorf("%w: %s: %w", ErrPreflight, where, err)
}

func isCredentialError(err error) bool {
	m := err.Error()
	return strings.Contains(m, "retrieve credentials") || strings.Contains(m, "get identity")
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
