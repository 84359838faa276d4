package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dubline/dubline/internal/redact"
)

// StatusError is an HTTP response that is neither 200, 206 nor 416.
// URL has its query string (presigned signature, credential) removed.
type StatusError struct {
	URL  string
	Code int
}

// Error says the status, with a hint for 403 and 404.
func (e *StatusError) Error() string {
	hint := ""
	switch e.Code {
	case http.StatusNotFound:
		hint = " (no such object)"
	case http.StatusForbidden:
		hint = " (access denied, or the presigned URL expired)"
	}
	return fmt.Sprintf("GET %s: HTTP %d %s%s", e.URL, e.Code, http.StatusText(e.Code), hint)
}

// HTTPFetch returns a FetchFunc doing one GET with a Range header per
// call. The object size comes from Content-Range. A server that ignores
// Range (200) still works: the body is read up to the wanted range and the
// size taken from Content-Length (or by reading to the end). Errors never
// contain the URL's query string.
func HTTPFetch(client *http.Client, rawURL string) FetchFunc {
	if client == nil {
		client = http.DefaultClient
	}
	safe := redact.URL(rawURL)
	return func(ctx context.Context, off, n int64) ([]byte, int64, error) {
		if off < 0 || n <= 0 {
			return nil, 0, fmt.Errorf("GET %s: bad range %d+%d", safe, off, n)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return nil, 0, fmt.Errorf("GET %s: invalid URL", safe) // err would repeat the URL
		}
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
		req.Header.Set("Accept-Encoding", "identity") // byte ranges of the stored object, not of a gzip stream
		resp, err := client.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // url.Error's message holds the full URL
			}
			return nil, 0, fmt.Errorf("GET %s: %w", safe, err)
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusPartialContent:
			start, end, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
			if !ok || start != off || end < start || total < 0 || end >= total {
				return nil, 0, fmt.Errorf("GET %s: unusable Content-Range %q for range %d-%d", safe, resp.Header.Get("Content-Range"), off, off+n-1)
			}
			data := make([]byte, min(end-start+1, n))
			if _, err := io.ReadFull(resp.Body, data); err != nil {
				return nil, 0, fmt.Errorf("GET %s: read body: %w", safe, err)
			}
			return data, total, nil
		case http.StatusOK:
			slog.Debug("server ignored the Range header; reading from the start", "url", safe, "offset", off)
			total := resp.ContentLength
			if _, err := io.CopyN(io.Discard, resp.Body, off); err != nil {
				return nil, 0, fmt.Errorf("GET %s: skip to offset %d: %w", safe, off, err)
			}
			want := n
			if total >= 0 {
				want = max(0, min(n, total-off))
			}
			data := make([]byte, want)
			m, err := io.ReadFull(resp.Body, data)
			if err != nil && !(total < 0 && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF))) {
				return nil, 0, fmt.Errorf("GET %s: read body: %w", safe, err)
			}
			if total < 0 { // no Content-Length: the rest of the body tells the size
				rest, err := io.Copy(io.Discard, resp.Body)
				if err != nil {
					return nil, 0, fmt.Errorf("GET %s: read body: %w", safe, err)
				}
				total = off + int64(m) + rest
			}
			return data[:m], total, nil
		case http.StatusRequestedRangeNotSatisfiable:
			// The range starts at or past the end; an empty object answers so.
			cr := resp.Header.Get("Content-Range")
			if t, ok := strings.CutPrefix(cr, "bytes */"); ok {
				if total, err := strconv.ParseInt(t, 10, 64); err == nil && total >= 0 && off >= total {
					return nil, total, nil
				}
			}
			return nil, 0, fmt.Errorf("GET %s: range %d-%d not satisfiable (Content-Range %q)", safe, off, off+n-1, cr)
		}
		return nil, 0, &StatusError{URL: safe, Code: resp.StatusCode}
	}
}

// parseContentRange parses "bytes START-END/TOTAL"; TOTAL "*" is -1.
func parseContentRange(s string) (start, end, total int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	start, err1 = strconv.ParseInt(a, 10, 64)
	end, err2 = strconv.ParseInt(b, 10, 64)
	total = -1
	if tot != "*" {
		total, err3 = strconv.ParseInt(tot, 10, 64)
	}
	return start, end, total, err1 == nil && err2 == nil && err3 == nil && start >= 0
}

// Stats is what a remote probe cost.
type Stats struct {
	Requests int   // ranged GETs made
	Bytes    int64 // bytes received
}

// ProbeURL probes the object at rawURL with ranged GETs through a
// RangeReader (DefaultBlockSize blocks). The extension of the URL's path
// decides the expected format. Errors name the URL without its query.
func ProbeURL(ctx context.Context, client *http.Client, rawURL string) (Info, Stats, error) {
	name := ""
	if u, err := url.Parse(rawURL); err == nil {
		name = u.Path
	}
	safe := redact.URL(rawURL)
	rr, err := NewRangeReader(ctx, HTTPFetch(client, rawURL), DefaultBlockSize)
	if err != nil {
		return Info{}, Stats{Requests: 1}, fmt.Errorf("probe: %w", err)
	}
	info, err := Probe(rr, rr.Size(), name)
	st := Stats{Requests: rr.Requests(), Bytes: rr.BytesFetched()}
	if err != nil {
		return Info{}, st, fmt.Errorf("probe %s: %w", safe, err)
	}
	return info, st, nil
}
