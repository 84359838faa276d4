package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/dubline/dubline/internal/redact"
)

// statusError is an HTTP answer we did not want. URL is already redacted.
type statusError struct {
	Method string
	URL    string
	Status int
	Code   string // S3 <Code>, when the body had one
}

// ErrSourceGone is wrapped by CopyFromURL when the source answered 403,
// 404 or 410: the file is no longer there (a Runware videoURL past its
// ttl) and waiting will not bring it back.
var ErrSourceGone = errors.New("source no longer available")

// Unwrap makes a final answer to a GET match ErrSourceGone.
func (e *statusError) Unwrap() error {
	if e.Method == "GET" && (e.Status == 403 || e.Status == 404 || e.Status == 410) {
		return ErrSourceGone
	}
	return nil
}

func (e *statusError) Error() string {
	s := fmt.Sprintf("%s %s: HTTP %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	return s
}

// retryableFetch lists the source GET answers worth waiting for: Runware's
// videoURL answers 422 while the file is not servable yet, and gateways
// answer 502/503/504 briefly.
func retryableFetch(status int) bool {
	switch status {
	case 422, 429, 500, 502, 503, 504:
		return true
	}
	return false
}

// fetchToFile downloads srcURL into f (truncating it first on every
// attempt) and returns the byte count.
func fetchToFile(ctx context.Context, o options, srcURL string, f *os.File) (int64, error) {
	rt := o.fetchRetry.Start(nil)
	for {
		actx, cancel := context.WithTimeout(ctx, o.attemptTimeout)
		n, err := fetchOnce(actx, o.http, srcURL, f)
		cancel()
		if err == nil {
			return n, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		var se *statusError
		if errors.As(err, &se) && !retryableFetch(se.Status) {
			return 0, err
		}
		o.log.Warn("storage: download failed, retrying", "url", redact.URL(srcURL), "attempt", rt.Attempts()+1, "err", err)
		ok, werr := rt.Failed(ctx, 0)
		if werr != nil {
			return 0, werr
		}
		if !ok {
			return 0, fmt.Errorf("gave up after %d attempts: %w", rt.Attempts(), err)
		}
	}
}

func fetchOnce(ctx context.Context, c *http.Client, srcURL string, f *os.File) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srcURL, nil)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", redact.URL(srcURL), scrub(err))
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, scrub(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return 0, &statusError{Method: "GET", URL: redact.URL(srcURL), Status: resp.StatusCode}
	}
	if err := f.Truncate(0); err != nil {
		return 0, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := io.Copy(f, resp.Body)
	if err != nil {
		return 0, fmt.Errorf("GET %s: reading body after %d bytes: %w", redact.URL(srcURL), n, scrub(err))
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return 0, fmt.Errorf("GET %s: got %d of %d bytes", redact.URL(srcURL), n, resp.ContentLength)
	}
	if n == 0 {
		return 0, fmt.Errorf("GET %s: empty body", redact.URL(srcURL))
	}
	return n, nil
}

// s3ErrorCode extracts <Code>…</Code> from an S3 XML error body.
func s3ErrorCode(body string) string {
	i := strings.Index(body, "<Code>")
	if i < 0 {
		return ""
	}
	rest := body[i+len("<Code>"):]
	j := strings.Index(rest, "</Code>")
	if j < 0 || j > 100 {
		return ""
	}
	return rest[:j]
}
