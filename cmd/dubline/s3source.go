package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/dubline/dubline/planner"
	"github.com/dubline/dubline/storage"
)

// s3Client is the run's one S3 client, made on first need (the planner's
// first s3:// input, or wiring an S3 output) from the plan's settings.
type s3Client struct {
	once sync.Once
	c    *storage.S3
	err  error
}

func (s *s3Client) get(ctx context.Context, out planner.Output) (*storage.S3, error) {
	s.once.Do(func() {
		s.c, s.err = storage.NewS3(ctx, storage.Config{Endpoint: out.Endpoint, Region: out.Region, PathStyle: out.PathStyle})
		if s.err != nil {
			s.err = fmt.Errorf("S3 configuration: %w", s.err)
		}
	})
	return s.c, s.err
}

// source gives the planner HEAD and ranged GETs on s3:// inputs.
func (s *s3Client) source(ctx context.Context, out planner.Output) (planner.S3Source, error) {
	c, err := s.get(ctx, out)
	if err != nil {
		return nil, err
	}
	return s3Adapter{c}, nil
}

type s3Adapter struct{ s *storage.S3 }

func (a s3Adapter) Head(ctx context.Context, bucket, key string) (int64, string, error) {
	o, err := a.s.Head(ctx, bucket, key)
	return o.Size, o.ETag, err
}

func (a s3Adapter) GetRange(ctx context.Context, bucket, key string, off, n int64) ([]byte, int64, error) {
	return a.s.GetRange(ctx, bucket, key, off, n)
}
