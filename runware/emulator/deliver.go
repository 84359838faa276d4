package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dubline/dubline/internal/redact"
	"github.com/dubline/dubline/kling"
)

// upload PUTs a result to the task's uploadEndpoint, raw body,
// Content-Type per the output format. A failure is counted, not fatal.
func (e *Emulator) upload(ctx context.Context, t *task, out []byte) {
	if t.req.UploadEndpoint == "" {
		return
	}
	safe := redact.URL(t.req.UploadEndpoint)
	if t.uploadFail {
		e.countUpload(0, false)
		e.o.Logger.Info("emulator: upload fault, PUT not performed", "taskUUID", t.req.TaskUUID, "url", safe)
		return
	}
	err := e.put(ctx, t.req.UploadEndpoint, out, kling.ContentType(t.req.OutputFormat))
	e.countUpload(int64(len(out)), err == nil)
	if err != nil {
		e.o.Logger.Warn("emulator: upload failed", "taskUUID", t.req.TaskUUID, "url", safe, "err", redactErr(err, t.req.UploadEndpoint))
	}
}

func (e *Emulator) put(ctx context.Context, u string, body []byte, contentType string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("new PUT: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := e.o.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("PUT: %w", err)
	}
	defer resp.Body.Close()
	// The body is not quoted: S3 error bodies echo the canonical request,
	// credential included.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("PUT: HTTP %d", resp.StatusCode)
	}
	return nil
}

func (e *Emulator) countUpload(n int64, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ok {
		e.stats.BytesUploaded += n
	} else {
		e.stats.UploadsFailed++
	}
}

// webhook POSTs body (flat, no data wrapper) to u in the background,
// retrying non-2xx answers with backoff 250 ms doubling to 8 s, ±20 %.
func (e *Emulator) webhook(u string, body any) {
	if u == "" {
		return
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return
	}
	e.goBackground(func() {
		delay := 250 * time.Millisecond
		for attempt := 0; ; attempt++ {
			if e.postWebhook(u, payload) {
				e.mu.Lock()
				e.stats.WebhooksSent++
				e.mu.Unlock()
				return
			}
			if attempt >= e.o.WebhookRetries {
				e.o.Logger.Warn("emulator: webhook gave up", "url", redact.URL(u), "attempts", attempt+1)
				return
			}
			e.mu.Lock()
			d := e.jitter(delay, delay/5)
			e.mu.Unlock()
			if !e.sleep(e.ctx, d) {
				return
			}
			delay = min(2*delay, 8*time.Second)
		}
	})
}

func (e *Emulator) postWebhook(u string, payload []byte) bool {
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.o.HTTPClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}
