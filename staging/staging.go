// Package staging turns a planned job input into something Runware can
// fetch:
//
//   - an https:// URL or a Runware media UUID passes through;
//   - an s3:// object becomes a presigned GET URL;
//   - a local file is uploaded once to the staging prefix (content
//     addressed: s3://bucket/prefix/<sha256>.<ext>, so reruns do not upload
//     again) and passed as a presigned GET URL;
//   - a local file with no S3 staging configured (e.g. output to a local
//     directory) is uploaded to Runware itself with a mediaStorage task and
//     passed as its media UUID. The UUIDs are remembered in the state
//     directory by content hash and Scope (the API endpoint and account)
//     for 24 hours, so a rerun does not upload the same file again, and a
//     UUID from one endpoint or account (e.g. a sandbox rehearsal) is never
//     sent to another. Runware does not document how long uploaded media
//     are kept; 24 h is our conservative choice.
//
// A local file is staged or uploaded once per process, but its presigned
// GET URL is made afresh for every job, so a job submitted hours into a
// long run never gets a URL that expired while earlier jobs ran.
//
// Returned URLs may be presigned: they are secrets, never logged.
package staging

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/dubline/dubline/internal/mediatype"
	"github.com/dubline/dubline/planner"
)

// S3 is what staging needs from storage.S3.
type S3 interface {
	PresignGet(ctx context.Context, bucket, key string, ttl time.Duration) (string, error)
	Stage(ctx context.Context, bucket, prefix, localPath string) (key string, err error)
}

// Uploader uploads media to Runware (runware.Client.UploadMedia).
type Uploader interface {
	UploadMedia(ctx context.Context, media string) (mediaUUID, mediaURL string, err error)
}

// MaxInlineBytes bounds files sent inline to mediaStorage as data URIs
// (base64 grows them by 4/3); Kling's own limit on video is 100 MB.
const MaxInlineBytes = 100 << 20

// cacheTTL is how long an uploaded media UUID is reused.
const cacheTTL = 24 * time.Hour

// Inputs implements executor.Inputs.
type Inputs struct {
	S3       S3            // nil: no S3 (s3:// inputs are then an error)
	Staging  string        // s3://bucket/prefix/ for local files; "": upload to Runware instead
	TTL      time.Duration // lifetime of presigned GET URLs
	Uploader Uploader      // for local files without Staging
	StateDir string        // where the media UUID cache lives; "": no cache on disk
	Scope    string        // names the API endpoint and account the cached UUIDs belong to
	Now      func() time.Time

	flight singleflight.Group // one upload per distinct file at a time, however many jobs use it
	mu     sync.Mutex
	staged map[string]string // local path -> staged S3 key or Runware media UUID, this process
	cache  map[string]cacheEntry
}

type cacheEntry struct {
	UUID     string    `json:"uuid"`
	Uploaded time.Time `json:"uploaded"`
}

// URL returns the URL (or media UUID) Runware should fetch for in.
func (s *Inputs) URL(ctx context.Context, in planner.Input) (string, error) {
	switch in.Kind {
	case planner.InputHTTP, planner.InputRunware:
		return in.URL, nil
	case planner.InputS3:
		if s.S3 == nil {
			return "", fmt.Errorf("%s: no S3 client configured", in.Raw)
		}
		u, err := s.S3.PresignGet(ctx, in.Bucket, in.Key, s.TTL)
		if err != nil {
			return "", fmt.Errorf("presign %s: %w", in.Raw, err)
		}
		return u, nil
	case planner.InputLocal:
		ref, err := s.once(ctx, in.Path)
		if err != nil || s.Staging == "" {
			return ref, err // a media UUID does not expire
		}
		bucket, _ := s.staging()
		u, err := s.S3.PresignGet(ctx, bucket, ref, s.TTL)
		if err != nil {
			return "", fmt.Errorf("presign staged %s: %w", in.Path, err)
		}
		return u, nil
	}
	return "", fmt.Errorf("input %q: unknown kind %q", in.Raw, in.Kind)
}

// once stages or uploads path at most once per process; concurrent callers
// for the same file wait for the first. A failure is not remembered, so a
// later job tries again.
func (s *Inputs) once(ctx context.Context, path string) (string, error) {
	s.mu.Lock()
	ref, ok := s.staged[path]
	s.mu.Unlock()
	if ok {
		return ref, nil
	}
	ch := s.flight.DoChan(path, func() (any, error) {
		// A caller that missed the map just before the previous flight
		// stored its result must not start a second upload.
		s.mu.Lock()
		ref, ok := s.staged[path]
		s.mu.Unlock()
		if ok {
			return ref, nil
		}
		ref, err := s.local(ctx, path)
		if err == nil {
			s.mu.Lock()
			if s.staged == nil {
				s.staged = map[string]string{}
			}
			s.staged[path] = ref
			s.mu.Unlock()
		}
		return ref, err
	})
	select {
	case r := <-ch:
		return r.Val.(string), r.Err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// staging splits Staging into bucket and key prefix.
func (s *Inputs) staging() (bucket, prefix string) {
	bucket, prefix, _ = strings.Cut(strings.TrimPrefix(s.Staging, "s3://"), "/")
	return bucket, prefix
}

// local stages path (returning its S3 key) or uploads it to Runware
// (returning its media UUID).
func (s *Inputs) local(ctx context.Context, path string) (string, error) {
	if s.Staging != "" {
		if s.S3 == nil {
			return "", errors.New("staging needs an S3 client")
		}
		bucket, prefix := s.staging()
		key, err := s.S3.Stage(ctx, bucket, prefix, path)
		if err != nil {
			return "", fmt.Errorf("stage %s: %w", path, err)
		}
		return key, nil
	}
	if s.Uploader == nil {
		return "", fmt.Errorf("%s: local inputs need S3 staging (output.staging) or a Runware upload", path)
	}
	data, err := readLimited(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	hash := s.Scope + "|" + hex.EncodeToString(sum[:])
	if id, ok := s.cached(hash); ok {
		return id, nil
	}
	ct := mediatype.For(path)
	uri := "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(data)
	id, _, err := s.Uploader.UploadMedia(ctx, uri)
	if err != nil {
		return "", fmt.Errorf("upload %s to Runware: %w", path, err)
	}
	s.remember(hash, id)
	return id, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read input: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxInlineBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > MaxInlineBytes {
		return nil, fmt.Errorf("%s is over %d MB; configure output.staging (S3) for large local inputs", path, MaxInlineBytes>>20)
	}
	return data, nil
}

func (s *Inputs) cachePath() string {
	if s.StateDir == "" {
		return ""
	}
	return filepath.Join(s.StateDir, "media-uploads.json")
}

func (s *Inputs) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Inputs) cached(hash string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		s.cache = map[string]cacheEntry{}
		if p := s.cachePath(); p != "" {
			if b, err := os.ReadFile(p); err == nil {
				_ = json.Unmarshal(b, &s.cache) // a damaged cache only costs an upload
			}
		}
	}
	e, ok := s.cache[hash]
	if !ok || s.now().Sub(e.Uploaded) > cacheTTL {
		return "", false
	}
	return e.UUID, true
}

func (s *Inputs) remember(hash, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		s.cache = map[string]cacheEntry{}
	}
	s.cache[hash] = cacheEntry{UUID: id, Uploaded: s.now()}
	p := s.cachePath()
	if p == "" {
		return
	}
	b, err := json.MarshalIndent(s.cache, "", " ")
	if err != nil {
		return
	}
	tmp := p + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, p)
	}
}
