package runware

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/dubline/dubline/internal/redact"
)

// maxReplyBytes bounds how much of a reply body is read.
const maxReplyBytes = 32 << 20

// Request kinds, for Stats and logs.
const (
	kindSubmit = "submit"
	kindPoll   = "poll"
	kindUpload = "upload"
	kindQuote  = "quote" // a dry run: sent with DryRunHeader
	kindAuth   = "authentication"
	kindAcct   = "account"
)

// reply is one parsed HTTP answer.
type reply struct {
	status     int
	retryAfter time.Duration
	env        envelope
}

// transportError carries a sanitised message (no key, no query strings)
// while keeping the original error reachable for errors.Is/As.
type transportError struct {
	msg string
	err error
}

func (e *transportError) Error() string { return e.msg }
func (e *transportError) Unwrap() error { return e.err }

// post sends one HTTP attempt. It returns either a parsed reply (whatever
// its status) or a classified *Error for a failure before a JSON body was
// read: network errors, timeouts, and non-JSON bodies (class from status).
func (c *Client) post(ctx context.Context, kind string, body []byte, tasks int) (*reply, *Error) {
	c.countRequest(kind)
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, c.o.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.o.URL, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Class: Permanent, Message: "building request: " + c.sanitize(err.Error())}
	}
	req.Header.Set("Authorization", "Bearer "+c.o.APIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.o.UserAgent)
	if kind == kindQuote {
		req.Header.Set(DryRunHeader, "1")
	}

	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		e := c.transportFailure(ctx, rctx, err)
		c.logRequest(kind, tasks, 0, time.Since(start), e)
		return nil, e
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		e := c.transportFailure(ctx, rctx, err)
		e.HTTPStatus = resp.StatusCode
		c.logRequest(kind, tasks, resp.StatusCode, time.Since(start), e)
		return nil, e
	}
	ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	env, perr := parseEnvelope(raw)
	if perr != nil {
		e := &Error{
			Class:      Classify("", resp.StatusCode),
			HTTPStatus: resp.StatusCode,
			RetryAfter: ra,
			Message:    fmt.Sprintf("non-JSON response body (%d bytes)", len(raw)), // the status has its own field
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			// A 2xx we cannot read may have been acted on: treat as ambiguous.
			e.Class = Transient
		}
		c.logRequest(kind, tasks, resp.StatusCode, time.Since(start), e)
		return nil, e
	}
	c.logRequest(kind, tasks, resp.StatusCode, time.Since(start), nil)
	return &reply{status: resp.StatusCode, retryAfter: ra, env: env}, nil
}

// transportFailure turns a Do/read error into a Transient *Error with a
// sanitised message. A cancelled caller context is reported as such.
func (c *Client) transportFailure(ctx, rctx context.Context, err error) *Error {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	msg := "POST " + redact.URL(c.o.URL) + ": " + c.sanitize(inner.Error())
	switch {
	case ctx.Err() != nil:
		msg = "POST " + redact.URL(c.o.URL) + ": " + ctx.Err().Error()
		err = ctx.Err()
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		msg = fmt.Sprintf("POST %s: no reply within %s", redact.URL(c.o.URL), c.o.RequestTimeout)
	}
	return &Error{Class: Transient, Message: msg, Err: &transportError{msg: msg, err: err}}
}

// sanitize removes the API key from s.
func (c *Client) sanitize(s string) string { return redactKey(s, c.o.APIKey) }

func redactKey(s, key string) string { return redact.Secret(s, key) }

func (c *Client) logRequest(kind string, tasks, status int, d time.Duration, e *Error) {
	if e != nil {
		c.o.Logger.Debug("runware request", "kind", kind, "tasks", tasks, "status", status,
			"duration", d, "error", e.Error())
		return
	}
	c.o.Logger.Debug("runware request", "kind", kind, "tasks", tasks, "status", status, "duration", d)
}

// requestError picks the error that applies to a whole request: the first
// error without a taskUUID (or naming none of wanted), else, for a non-2xx
// status whose body answers none of the wanted tasks, one synthesised from
// the status. nil when the request as a whole did not fail.
func (c *Client) requestError(rep *reply, wanted func(string) bool) *Error {
	for _, e := range rep.env.Errors {
		if e.TaskUUID == "" || !wanted(e.TaskUUID) {
			ae := apiError(e, rep.status, c.o.APIKey)
			ae.RetryAfter = rep.retryAfter
			return ae
		}
	}
	if rep.status < 200 || rep.status > 299 {
		for _, it := range rep.env.Data {
			if wanted(it.TaskUUID) {
				return nil // the reply speaks per task; the status belongs to those answers
			}
		}
		for _, e := range rep.env.Errors {
			if wanted(e.TaskUUID) {
				return nil
			}
		}
		return &Error{
			Class:      Classify("", rep.status),
			HTTPStatus: rep.status,
			RetryAfter: rep.retryAfter,
			Message:    http.StatusText(rep.status),
		}
	}
	return nil
}

// callOne sends a single-task request with transport retries (used by
// Authenticate, AccountDetails and UploadMedia) and returns the reply's
// data items. A task-level or
// request-level error ends the call unless it is Transient.
func (c *Client) callOne(ctx context.Context, kind string, body []byte) ([]rawItem, error) {
	var last *Error
	rt := c.o.Retry.Start(c.jitter.float)
	for {
		rep, terr := c.post(ctx, kind, body, 1)
		if terr == nil {
			if len(rep.env.Errors) > 0 {
				terr = apiError(rep.env.Errors[0], rep.status, c.o.APIKey)
				terr.RetryAfter = rep.retryAfter
			} else if e := c.requestError(rep, func(string) bool { return true }); e != nil {
				terr = e
			} else {
				return rep.env.Data, nil
			}
		}
		last = terr
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if last.Class != Transient {
			return nil, last
		}
		ok, err := rt.Failed(ctx, last.RetryAfter)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, last
		}
		c.stats.retries.Add(1)
	}
}
