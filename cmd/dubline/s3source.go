package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/dubline/dubline/pipeline"
	"github.com/dubline/dubline/storage"
)

// s3Adapter gives the planner HEAD and ranged GETs on s3:// inputs.
type s3Adapter struct{ s *storage.S3 }

func (a s3Adapter) Head(ctx context.Context, bucket, key string) (int64, string, error) {
	o, err := a.s.Head(ctx, bucket, key)
	return o.Size, o.ETag, err
}

func (a s3Adapter) GetRange(ctx context.Context, bucket, key string, off, n int64) ([]byte, int64, error) {
	return a.s.GetRange(ctx, bucket, key, off, n)
}

// s3Source returns an S3 source for the planner when the manifest uses
// s3:// anywhere, else nil (no AWS configuration is needed then).
func s3Source(ctx context.Context, m *pipeline.Manifest, e env) (*s3Adapter, error) {
	if !usesS3(m) {
		return nil, nil
	}
	s, err := newS3(ctx, m)
	if err != nil {
		return nil, err
	}
	return &s3Adapter{s}, nil
}

func newS3(ctx context.Context, m *pipeline.Manifest) (*storage.S3, error) {
	s, err := storage.NewS3(ctx, storage.Config{
		Endpoint:  m.Output.Endpoint.Or(""),
		Region:    m.Output.Region.Or(""),
		PathStyle: m.Output.PathStyle.Or(false),
	})
	if err != nil {
		return nil, fmt.Errorf("S3 configuration: %w", err)
	}
	return s, nil
}

func usesS3(m *pipeline.Manifest) bool {
	if strings.HasPrefix(m.Output.URL.V, "s3://") {
		return true
	}
	for i := range m.Jobs {
		if strings.HasPrefix(m.Jobs[i].Video.V, "s3://") || strings.HasPrefix(m.Jobs[i].Audio.V, "s3://") {
			return true
		}
	}
	return false
}
