package emulator

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/dubline/dubline/kling"
)

// getResponse reports a task's items: processing ones with progress,
// finished ones in full, and a failure per Options.ErrorShape.
func (e *Emulator) getResponse(f fields) ([]any, []*apiError) {
	e.mu.Lock()
	e.stats.GetResponseCalls++
	e.mu.Unlock()
	id, ae := taskUUIDOf(f)
	if ae != nil {
		return nil, []*apiError{ae}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tasks[id]
	if !ok {
		ae := newErr(http.StatusNotFound, "taskNotFound", "No active or recent task with this taskUUID.")
		ae.Parameter, ae.Type = "taskUUID", "string"
		ae.Documentation = "https://runware.ai/docs/platform/task-polling"
		return nil, []*apiError{ae}
	}
	var data []any
	for _, it := range t.items {
		switch {
		case it.status == "success":
			data = append(data, successItem(t, it))
		case t.fail == nil:
			data = append(data, map[string]any{"taskType": kling.TaskType, "taskUUID": id,
				"status": "processing", "progress": e.progress(it)})
		}
	}
	if t.fail == nil {
		return data, nil
	}
	fail := *t.fail
	if e.o.ErrorShape == ErrorShapeData {
		embedded := fail
		embedded.Status, embedded.TaskType, embedded.TaskUUID = "", "", ""
		data = append(data, map[string]any{"taskType": kling.TaskType, "taskUUID": id, "status": "error", "error": &embedded})
		return data, nil
	}
	return data, []*apiError{&fail}
}

// mediaStorage uploads (URL, data URI or base64) or deletes media.
func (e *Emulator) mediaStorage(r *http.Request, f fields, base string) (any, *apiError) {
	id, ae := taskUUIDOf(f)
	if ae != nil {
		return nil, ae
	}
	if !f.has("operation") {
		return nil, missingParam("operation", "string")
	}
	op, ae := f.enum("operation", "operation", []string{"upload", "delete"})
	if ae != nil {
		return nil, ae
	}
	if !f.has("media") {
		return nil, missingParam("media", "string")
	}
	ref, ae := f.str("media", "media")
	if ae != nil {
		return nil, ae
	}
	if op == "delete" {
		key := strings.ToLower(ref)
		e.mu.Lock()
		_, ok := e.media[key]
		delete(e.media, key)
		e.mu.Unlock()
		if !ok {
			ae := newErr(http.StatusNotFound, "mediaNotFound", "No media with this UUID.")
			ae.Parameter = "media"
			return nil, ae
		}
		return map[string]any{"taskType": "mediaStorage", "taskUUID": id, "operation": op, "mediaUUID": key}, nil
	}
	data, _, err := e.fetch(r.Context(), ref)
	if err != nil {
		ae := newErr(http.StatusBadRequest, "downloadFailed", fmt.Sprintf("Could not read media: %v", err))
		ae.Parameter = "media"
		return nil, ae
	}
	e.mu.Lock()
	mid := uuid.Must(uuid.NewRandomFromReader(e.rng)).String()
	e.media[mid] = &blob{data: data, contentType: http.DetectContentType(data)}
	e.mu.Unlock()
	return map[string]any{"taskType": "mediaStorage", "taskUUID": id, "operation": op,
		"mediaUUID": mid, "mediaURL": base + "/media/" + mid}, nil
}

// account answers accountManagement getDetails with the balance.
func (e *Emulator) account(f fields) (any, *apiError) {
	var id string
	if f.has("taskUUID") {
		var ae *apiError
		if id, ae = taskUUIDOf(f); ae != nil {
			return nil, ae
		}
	}
	if !f.has("operation") {
		return nil, missingParam("operation", "string")
	}
	if _, ae := f.enum("operation", "operation", []string{"getDetails"}); ae != nil {
		return nil, ae
	}
	bal, limited := e.Balance()
	usd := UnlimitedBalanceUSD
	if limited {
		usd = bal.USD()
	}
	var balance any = usd
	if e.o.BalanceObject {
		balance = map[string]any{"amount": usd, "freeBalance": 0, "currency": "USD"}
	}
	d := map[string]any{"taskType": "accountManagement", "operation": "getDetails", "balance": balance}
	if id != "" {
		d["taskUUID"] = id
	}
	return d, nil
}
