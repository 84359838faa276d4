package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// PresignGet returns a URL that lets anyone holding it GET bucket/key until
// ttl has passed. The URL is a secret: log only redact.URL of it.
func (s *S3) PresignGet(ctx context.Context, bucket, key string, ttl time.Duration) (string, error) {
	r, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign GET %s: %w", s3URL(bucket, key), err)
	}
	return r.URL, nil
}

// PresignPut returns a URL that lets anyone holding it PUT bucket/key until
// ttl has passed. When contentType is not "", it is signed: the PUT must
// send exactly that Content-Type or S3 answers 403. Content-Length is not
// signed, so the uploader needs not know the size in advance.
func (s *S3) PresignPut(ctx context.Context, bucket, key, contentType string, ttl time.Duration) (string, error) {
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	r, err := s.presign.PresignPutObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign PUT %s: %w", s3URL(bucket, key), err)
	}
	return r.URL, nil
}
