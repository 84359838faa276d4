package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
)

// maxBody bounds a request body; base64 inputs make bodies large.
const maxBody = 256 << 20

// reply is the response envelope; either key may be absent.
type reply struct {
	Data   []any       `json:"data,omitempty"`
	Errors []*apiError `json:"errors,omitempty"`
}

// ServeHTTP serves the API (POST on any path) and the emulator's own GET
// endpoints: /debug/stats, /media/<uuid> and /video/<uuid>.<ext>.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case get && r.URL.Path == "/debug/stats":
		writeJSONValue(w, http.StatusOK, e.Stats())
	case get && strings.HasPrefix(r.URL.Path, "/media/"):
		e.serveMedia(w, r)
	case get && strings.HasPrefix(r.URL.Path, "/video/"):
		e.serveVideo(w, r)
	case r.Method != http.MethodPost:
		e.countRequest()
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, reply{Errors: []*apiError{
			newErr(http.StatusMethodNotAllowed, "methodNotAllowed", "Only POST is supported on the API endpoint.")}})
	default:
		e.serveAPI(w, r)
	}
}

func (e *Emulator) countRequest() {
	e.mu.Lock()
	e.stats.Requests++
	e.mu.Unlock()
}

func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	e.countRequest()

	tasks, bad := readTasks(r)
	if bad != nil {
		writeJSON(w, bad.http, reply{Errors: []*apiError{bad}})
		return
	}
	f := e.requestFault(taskTypes(tasks))
	if f != nil {
		switch f.Kind {
		case FaultStatus, FaultNonJSON:
			e.o.Logger.Debug("emulator: injected status fault", slog.Int("status", f.Status), slog.String("kind", string(f.Kind)))
			writeFault(w, f)
			return
		case FaultSlow:
			if !e.sleep(r.Context(), f.Delay) {
				return // the client went away before we got to it
			}
		}
	}
	status, body := e.handle(r, tasks)
	if f != nil && f.Kind == FaultReset {
		resetConn(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// readTasks checks the content type and decodes the body as an array of
// JSON objects.
func readTasks(r *http.Request) ([]fields, *apiError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, newErr(http.StatusBadRequest, "invalidContentType", "Content-Type must be application/json.")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, newErr(http.StatusBadRequest, "invalidRequestBody", "Could not read the request body.")
	}
	if len(body) > maxBody {
		return nil, newErr(http.StatusRequestEntityTooLarge, "requestTooLarge", fmt.Sprintf("Request body over %d bytes.", maxBody))
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, newErr(http.StatusBadRequest, "invalidRequestBody", "The request body must be a JSON array of task objects.")
	}
	if len(raws) == 0 {
		return nil, newErr(http.StatusBadRequest, "invalidRequestBody", "The request body must contain at least one task.")
	}
	tasks := make([]fields, len(raws))
	for i, raw := range raws {
		if kind(raw) != "object" || json.Unmarshal(raw, &tasks[i]) != nil {
			return nil, newErr(http.StatusBadRequest, "invalidRequestBody", fmt.Sprintf("Task %d is not a JSON object.", i))
		}
	}
	return tasks, nil
}

func taskTypes(tasks []fields) []string {
	var out []string
	for _, t := range tasks {
		var s string
		_ = json.Unmarshal(t["taskType"], &s)
		out = append(out, s)
	}
	return out
}

// handle authenticates and runs the tasks, returning the reply's status
// and body: 200 if any task produced data, else the first error's status.
func (e *Emulator) handle(r *http.Request, tasks []fields) (int, []byte) {
	if ae := e.authenticate(r, tasks); ae != nil {
		return ae.http, mustJSON(reply{Errors: []*apiError{ae}})
	}
	if taskTypes(tasks)[0] == "authentication" {
		tasks = tasks[1:]
	}
	base := e.baseURL(r)
	var rep reply
	for _, t := range tasks {
		data, errs := e.runTask(r, t, base)
		rep.Data = append(rep.Data, data...)
		rep.Errors = append(rep.Errors, errs...)
	}
	status := http.StatusOK
	if len(rep.Data) == 0 && len(rep.Errors) > 0 {
		status = rep.Errors[0].http
	}
	if rep.Data == nil && rep.Errors == nil {
		rep.Data = []any{}
	}
	return status, mustJSON(rep)
}

// runTask dispatches one task by type; errors get its type and UUID.
func (e *Emulator) runTask(r *http.Request, t fields, base string) ([]any, []*apiError) {
	var typ, id string
	_ = json.Unmarshal(t["taskType"], &typ)
	_ = json.Unmarshal(t["taskUUID"], &id)
	var data []any
	var errs []*apiError
	switch typ {
	case "videoInference":
		var d any
		var ae *apiError
		if r.Header.Get("X-Runware-Dry-Run") == "1" {
			d, ae = e.dryRun(t, base)
		} else {
			d, ae = e.submitVideo(t, base)
		}
		data, errs = one(d, ae)
	case "getResponse":
		data, errs = e.getResponse(t)
	case "mediaStorage":
		d, ae := e.mediaStorage(r, t, base)
		data, errs = one(d, ae)
	case "ping":
		if e.o.RefusePing { // what a REST server that knows ping only over WebSocket may answer
			ae := newErr(http.StatusBadRequest, "unsupportedTaskType", "Task type \"ping\" is only supported over WebSocket.")
			ae.Parameter = "taskType"
			errs = []*apiError{ae}
			break
		}
		d := map[string]any{"taskType": "ping", "pong": true}
		if id != "" {
			d["taskUUID"] = id
		}
		data = []any{d}
	case "accountManagement":
		d, ae := e.account(t)
		data, errs = one(d, ae)
	case "authentication":
		// Only meaningful first; a later one is ignored.
	case "":
		errs = []*apiError{missingParam("taskType", "string")}
	default:
		e := newErr(http.StatusBadRequest, "unsupportedTaskType", fmt.Sprintf("Task type %q is not supported here.", truncate(typ, 40)))
		e.Parameter, e.AllowedValues = "taskType", []string{"videoInference", "getResponse", "mediaStorage", "ping", "accountManagement", "authentication"}
		errs = []*apiError{e}
	}
	for _, ae := range errs {
		if ae.TaskType == "" {
			ae.TaskType = typ
		}
		if ae.TaskUUID == "" {
			ae.TaskUUID = id
		}
	}
	return data, errs
}

func one(d any, ae *apiError) ([]any, []*apiError) {
	if ae != nil {
		return nil, []*apiError{ae}
	}
	return []any{d}, nil
}

// authenticate accepts a leading authentication task's apiKey, else the
// Authorization: Bearer header.
func (e *Emulator) authenticate(r *http.Request, tasks []fields) *apiError {
	key, fromTask := "", false
	if taskTypes(tasks)[0] == "authentication" {
		fromTask = true
		_ = json.Unmarshal(tasks[0]["apiKey"], &key)
	} else if h := r.Header.Get("Authorization"); h != "" {
		if s, ok := strings.CutPrefix(h, "Bearer "); ok {
			key = strings.TrimSpace(s)
		} else {
			return authErr("invalidApiKey", "The Authorization header must be \"Bearer <API key>\".")
		}
	}
	switch {
	case key == "":
		msg := "Missing API key: send Authorization: Bearer <key> or an authentication task first."
		if fromTask {
			msg = "The authentication task has no apiKey."
		}
		return authErr("missingApiKey", msg)
	case e.o.APIKey != "" && key != e.o.APIKey:
		return authErr("invalidApiKey", "Invalid API key. Get a valid one from your dashboard.")
	}
	return nil
}

func authErr(code, msg string) *apiError {
	ae := newErr(http.StatusUnauthorized, code, msg)
	ae.Parameter, ae.Type, ae.TaskType = "apiKey", "string", "authentication"
	ae.Documentation = "https://runware.ai/docs/platform/authentication"
	return ae
}

// baseURL is where the emulator's own downloads are served.
func (e *Emulator) baseURL(r *http.Request) string {
	if e.o.PublicURL != "" {
		return strings.TrimRight(e.o.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// resetConn closes the client connection without a reply (an RST where
// the platform allows).
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{"errors":[{"code":"internalServerError","message":"encode reply"}]}`)
	}
	return buf.Bytes()
}

func writeJSON(w http.ResponseWriter, status int, rep reply) { writeJSONValue(w, status, rep) }

func writeJSONValue(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(mustJSON(v))
}
