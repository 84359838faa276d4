package planner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/dubline/dubline/internal/redact"
	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/media"
)

// S3Source is what the planner needs from S3 to check and probe s3://
// inputs. storage.S3 provides it (through a small adapter in cmd).
type S3Source interface {
	// Head returns the object's size and a version tag (the ETag).
	Head(ctx context.Context, bucket, key string) (size int64, version string, err error)
	// GetRange reads n bytes at off in one ranged GET and returns the
	// object's total size.
	GetRange(ctx context.Context, bucket, key string, off, n int64) ([]byte, int64, error)
}

// probeBlock is the size of each ranged read of a remote probe: the head
// of the file in one request, the moov box of a moov-at-end MP4 in one more.
const probeBlock = 64 << 10

// mediaUUID matches a Runware media UUID used as an input.
var mediaUUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// classify resolves the text of an input to its kind and location.
func classify(raw, dir string) (Input, error) {
	in := Input{Raw: raw}
	switch {
	case raw == "":
		return in, errors.New("is required")
	case strings.HasPrefix(raw, "s3://"):
		b, k, err := splitS3(raw)
		if err != nil {
			return in, err
		}
		if k == "" || strings.HasSuffix(k, "/") {
			return in, fmt.Errorf("%q names no object", raw)
		}
		in.Kind, in.Bucket, in.Key = InputS3, b, k
	case strings.HasPrefix(raw, "https://") || strings.HasPrefix(raw, "http://"):
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return in, fmt.Errorf("%q is not a valid URL", redact.URL(raw))
		}
		in.Kind, in.URL = InputHTTP, raw
	case strings.HasPrefix(raw, "file://"):
		u, err := url.Parse(raw)
		if err != nil || !filepath.IsAbs(u.Path) {
			return in, fmt.Errorf("%q must be file:///absolute/path", raw)
		}
		in.Kind, in.Path = InputLocal, filepath.Clean(u.Path)
	case mediaUUID.MatchString(raw):
		in.Kind, in.URL = InputRunware, raw
	case strings.HasPrefix(raw, "data:"):
		return in, errors.New("data URIs are not supported in manifests; give a file path, s3:// or https:// URL")
	case strings.Contains(raw, "://"):
		return in, fmt.Errorf("%q: scheme not supported; allowed: a local path, file://, s3://, https:// or a Runware media UUID", redact.URL(raw))
	default:
		p := raw
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		in.Kind, in.Path = InputLocal, filepath.Clean(p)
	}
	return in, nil
}

// ext returns the lower-case extension of an input's name, "" for UUIDs.
func (in Input) ext() string {
	var name string
	switch in.Kind {
	case InputLocal:
		name = in.Path
	case InputS3:
		name = in.Key
	case InputHTTP:
		if u, err := url.Parse(in.URL); err == nil {
			name = u.Path
		}
	default:
		return ""
	}
	return strings.ToLower(filepath.Ext(name))
}

// String names the input in messages without secrets.
func (in Input) String() string {
	switch in.Kind {
	case InputLocal:
		return in.Path
	case InputHTTP:
		return redact.URL(in.URL)
	}
	return in.Raw
}

// probeReq says what to learn about one distinct input.
type probeReq struct {
	in    Input
	probe bool // read the media header (duration, size in pixels)
}

// probeRes is what was learned, or why not.
type probeRes struct {
	in  Input
	err error
}

// prober checks and probes distinct inputs in parallel, once each.
type prober struct {
	offline bool
	http    *http.Client
	s3      func() (S3Source, error) // made once, on first need
	workers int
}

// run checks every request; the result map is keyed by Input.Raw+dir.
func (p *prober) run(ctx context.Context, reqs map[string]probeReq) map[string]probeRes {
	out := make(map[string]probeRes, len(reqs))
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(p.workers)
	for k, r := range reqs {
		g.Go(func() error {
			in, err := p.check(ctx, r)
			mu.Lock()
			out[k] = probeRes{in, err}
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return out
}

func (p *prober) check(ctx context.Context, r probeReq) (Input, error) {
	in := r.in
	switch in.Kind {
	case InputLocal:
		return p.local(in, r.probe)
	case InputS3:
		if p.offline {
			return in, nil
		}
		if p.s3 == nil {
			return in, errors.New("cannot check s3:// inputs: no S3 client (use --offline to skip network checks)")
		}
		s3, err := p.s3()
		if err != nil {
			return in, err
		}
		size, ver, err := s3.Head(ctx, in.Bucket, in.Key)
		if err != nil {
			return in, err // storage's errors name the s3:// URL
		}
		in.Size, in.Version = size, ver
		if !r.probe {
			return in, nil
		}
		fetch := func(ctx context.Context, off, n int64) ([]byte, int64, error) {
			return s3.GetRange(ctx, in.Bucket, in.Key, off, n)
		}
		return probeRemote(ctx, in, fetch)
	case InputHTTP:
		if p.offline {
			return in, nil
		}
		status, err := p.head(ctx, &in)
		// A URL presigned for GET refuses HEAD (the method is signed):
		// the probe's first ranged GET checks existence and size instead.
		if err != nil && !(r.probe && (status == http.StatusForbidden || status == http.StatusMethodNotAllowed)) {
			return in, err
		}
		if !r.probe {
			return in, nil
		}
		return probeRemote(ctx, in, media.HTTPFetch(p.http, in.URL))
	}
	return in, nil
}

func (p *prober) local(in Input, probe bool) (Input, error) {
	st, err := os.Stat(in.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return in, fmt.Errorf("file %s does not exist", in.Path)
	case err != nil:
		return in, fmt.Errorf("cannot read %s: %w", in.Path, err)
	case st.IsDir():
		return in, fmt.Errorf("%s is a directory, not a media file", in.Path)
	case !st.Mode().IsRegular():
		return in, fmt.Errorf("%s is not a regular file (a device, pipe or socket cannot be probed or uploaded)", in.Path)
	}
	in.Size = st.Size()
	in.Version = strconv.FormatInt(st.ModTime().UnixNano(), 10)
	f, err := os.Open(in.Path)
	if err != nil {
		return in, fmt.Errorf("cannot read %s: %w", in.Path, err)
	}
	defer f.Close()
	if !probe {
		return in, nil
	}
	info, err := media.Probe(f, st.Size(), in.Path)
	if err != nil {
		return in, err // names the file already
	}
	return withInfo(in, info), nil
}

// head checks an http(s) input and records its size and version; it
// returns the HTTP status (0 without an answer).
func (p *prober) head(ctx context.Context, in *Input) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, in.URL, nil)
	if err != nil {
		return 0, fmt.Errorf("%s: %s", in, redact.Text(err.Error()))
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s: %s", in, redact.Text(err.Error()))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("%s: HEAD answered %s", in, resp.Status)
	}
	in.Size = resp.ContentLength
	in.Version = resp.Header.Get("ETag")
	if in.Version == "" {
		in.Version = resp.Header.Get("Last-Modified")
	}
	return resp.StatusCode, nil
}

func probeRemote(ctx context.Context, in Input, fetch media.FetchFunc) (Input, error) {
	rr, err := media.NewRangeReader(ctx, fetch, probeBlock)
	if err != nil {
		return in, fmt.Errorf("%s: %w", in, err)
	}
	name := in.Key
	if in.Kind == InputHTTP {
		if u, err := url.Parse(in.URL); err == nil {
			name = u.Path
		}
	}
	info, err := media.Probe(rr, rr.Size(), name)
	if err != nil {
		return in, fmt.Errorf("%s: %w", in, err)
	}
	return withInfo(in, info), nil
}

func withInfo(in Input, info media.Info) Input {
	in.Seconds, in.Width, in.Height, in.Format = info.Seconds, info.Width, info.Height, info.Format
	switch {
	case info.Video && info.Audio:
		in.Tracks = "video+audio"
	case info.Video:
		in.Tracks = "video"
	case info.Audio:
		in.Tracks = "audio"
	}
	if info.Size > 0 {
		in.Size = info.Size
	}
	return in
}

// limitMedia turns what is known about an input into the limits table's terms.
func limitMedia(in Input) kling.Media {
	return kling.Media{Ext: in.ext(), Bytes: in.Size, Seconds: in.Seconds, Width: in.Width, Height: in.Height}
}
