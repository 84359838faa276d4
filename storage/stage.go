package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/dubline/dubline/internal/mediatype"
)

// Stage uploads the local file to bucket under a content-addressed key,
// prefix + sha256(content) + lower-cased extension, and returns the key.
// The prefix is used as given (include the trailing "/"). When an object
// with that key and the file's size already exists, nothing is uploaded,
// so reruns cost one HEAD per input.
func (s *S3) Stage(ctx context.Context, bucket, prefix, localPath string) (key string, err error) {
	f, err := os.Open(localPath)
	if err != nil {
		return "", fmt.Errorf("stage %s: %w", localPath, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("stage %s: %w", localPath, err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("stage %s: not a regular file", localPath)
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", fmt.Errorf("stage %s: hash: %w", localPath, err)
	}
	key = prefix + hex.EncodeToString(h.Sum(nil)) + strings.ToLower(filepath.Ext(localPath))

	obj, err := s.Head(ctx, bucket, key)
	switch {
	case err == nil && obj.Size == st.Size():
		return key, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return "", fmt.Errorf("stage %s: %w", localPath, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("stage %s: %w", localPath, err)
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          f,
		ContentLength: aws.Int64(st.Size()),
		ContentType:   aws.String(mediatype.For(localPath)),
	})
	if err != nil {
		return "", fmt.Errorf("stage %s to %s: %w", localPath, s3URL(bucket, key), scrub(err))
	}
	return key, nil
}

// ctxReader stops a long local read when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
