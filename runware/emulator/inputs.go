package emulator

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/google/uuid"

	"github.com/dubline/dubline/internal/redact"
	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/media"
)

// inputs are a task's fetched and probed inputs.
type inputs struct {
	video, audio         []byte
	videoInfo, audioInfo media.Info
}

// loadInputs fetches and checks both inputs; the error is the task's
// failure.
func (e *Emulator) loadInputs(t *task) (inputs, *apiError) {
	var in inputs
	var err error
	var ae *apiError
	for _, x := range []struct {
		kind, param, ref string
		data             *[]byte
		info             *media.Info
	}{
		{"video", "inputs.video", t.req.Video, &in.video, &in.videoInfo},
		{"audio", "inputs.audio", t.req.Audio, &in.audio, &in.audioInfo},
	} {
		var name string
		*x.data, name, err = e.fetch(e.ctx, x.ref)
		if err != nil {
			ae := genErr("downloadFailed", fmt.Sprintf("Could not download %s: %v", x.param, err))
			ae.Parameter = x.param
			return in, ae
		}
		if *x.info, ae = e.check(x.kind, x.param, name, *x.data); ae != nil {
			return in, ae
		}
	}
	return in, nil
}

// maxInput is the largest input worth reading: one byte over the largest
// size limit, so an oversized file is still recognised as such.
func (e *Emulator) maxInput() int64 {
	var n int64
	for _, tbl := range []map[kling.Level]kling.InputLimits{e.o.Limits.Video, e.o.Limits.Audio} {
		for _, l := range tbl {
			n = max(n, l.MaxBytes)
		}
	}
	if n == 0 {
		return 1 << 30
	}
	return n + 1
}

// fetch resolves an input reference: an http(s) URL, a data URI, a media
// UUID stored here, or bare base64. Errors never quote a URL's query.
func (e *Emulator) fetch(ctx context.Context, ref string) (data []byte, name string, err error) {
	switch {
	case strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://"):
		return e.fetchURL(ctx, ref)
	case strings.HasPrefix(ref, "data:"):
		data, err = decodeDataURI(ref)
		return data, "data", err
	}
	if _, perr := uuid.Parse(ref); perr == nil && len(ref) == 36 {
		e.mu.Lock()
		b, ok := e.media[strings.ToLower(ref)]
		e.mu.Unlock()
		if !ok {
			return nil, "", fmt.Errorf("no media with UUID %s", ref)
		}
		return b.data, ref, nil
	}
	data, err = base64.StdEncoding.DecodeString(ref)
	if err != nil {
		return nil, "", errors.New("not a URL, data URI, media UUID or base64 data")
	}
	return data, "base64", nil
}

func (e *Emulator) fetchURL(ctx context.Context, ref string) ([]byte, string, error) {
	safe := redact.URL(ref)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref, nil)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: bad URL", safe)
	}
	resp, err := e.o.HTTPClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %s", safe, redactErr(err, ref))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, "", fmt.Errorf("GET %s: HTTP %d", safe, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, e.maxInput()))
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %s", safe, redactErr(err, ref))
	}
	name := "url"
	if u, err := url.Parse(ref); err == nil {
		name = path.Base(u.Path)
	}
	return data, name, nil
}

// redactErr renders err with any copy of the raw URL replaced.
func redactErr(err error, raw string) string {
	return strings.ReplaceAll(err.Error(), raw, redact.URL(raw))
}

func decodeDataURI(s string) ([]byte, error) {
	meta, payload, ok := strings.Cut(strings.TrimPrefix(s, "data:"), ",")
	if !ok {
		return nil, errors.New("malformed data URI")
	}
	if strings.HasSuffix(meta, ";base64") {
		b, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			return nil, errors.New("data URI: bad base64")
		}
		return b, nil
	}
	b, err := url.PathUnescape(payload)
	if err != nil {
		return nil, errors.New("data URI: bad escaping")
	}
	return []byte(b), nil
}

// check probes an input and holds it against the error-level limits.
func (e *Emulator) check(kind, param, name string, data []byte) (media.Info, *apiError) {
	upper := strings.ToUpper(kind[:1]) + kind[1:]
	table := e.o.Limits.Audio
	if kind == "video" {
		table = e.o.Limits.Video
	}
	fail := func(code, msg string) (media.Info, *apiError) {
		ae := genErr(code, msg)
		ae.Parameter = param
		return media.Info{}, ae
	}
	info, err := e.o.Probe(bytes.NewReader(data), int64(len(data)), name)
	if err != nil {
		return fail("invalid"+upper+"Format", fmt.Sprintf("The %s input is not a readable media file.", kind))
	}
	if kind == "video" && !info.Video {
		return fail("invalidVideoFormat", "The video input has no video stream.")
	}
	m := kling.Media{Bytes: int64(len(data)), Seconds: info.Seconds, Width: info.Width, Height: info.Height}
	if info.Format != "" {
		m.Ext = "." + info.Format
	}
	for _, v := range kling.Check(table, kind, m) {
		if v.Level != kling.Error {
			continue
		}
		code := map[string]string{
			"extension": "invalid" + upper + "Format", "size": "invalidFileSize",
			"duration": "invalid" + upper + "Duration", "width": "invalidWidth", "height": "invalidHeight",
		}[v.Field]
		return fail(code, v.Msg)
	}
	return info, nil
}
