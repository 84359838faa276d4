package runware

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// rawItem is one element of a reply's data array: an ack, a poll status, a
// mediaStorage result or account details. Unknown fields are ignored.
type rawItem struct {
	TaskType    string          `json:"taskType"`
	TaskUUID    string          `json:"taskUUID"`
	Status      string          `json:"status"`
	VideoUUID   string          `json:"videoUUID"`
	VideoURL    string          `json:"videoURL"`
	MediaUUID   string          `json:"mediaUUID"`
	MediaURL    string          `json:"mediaURL"`
	Seed        json.Number     `json:"seed"`
	NSFWContent bool            `json:"NSFWContent"`
	Cost        *float64        `json:"cost"`
	Balance     json.RawMessage `json:"balance"` // accountManagement: a number or {amount}
	Error       *rawError       `json:"error"`
}

// rawError is one error object, in any of the shapes the API and the
// official clients are known to use (their source).
type rawError struct {
	Code            string          `json:"code"`
	Message         string          `json:"message"`
	Parameter       json.RawMessage `json:"parameter"`     // string or array of strings
	AllowedValues   json.RawMessage `json:"allowedValues"` // array, or object with numeric string keys
	TaskType        string          `json:"taskType"`
	TaskUUID        string          `json:"taskUUID"`
	Status          string          `json:"status"`
	ResponseContent json.RawMessage `json:"responseContent"` // string or {message}
}

// envelope is a parsed reply body.
type envelope struct {
	Data   []rawItem
	Errors []rawError
}

// objectEnvelope is the documented reply shape plus the legacy/CLI variants:
// a single "error" object, optionally with a top-level taskUUID.
type objectEnvelope struct {
	Data     []rawItem       `json:"data"`
	Errors   []rawError      `json:"errors"`
	Error    json.RawMessage `json:"error"`
	TaskUUID string          `json:"taskUUID"`
}

var errNotJSON = errors.New("response body is not JSON")

// parseEnvelope decodes a reply body: {data, errors} with either absent, an
// {error: {...}} object, or a bare array whose elements are error objects
// (or, tolerated, data items).
func parseEnvelope(body []byte) (envelope, error) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return envelope{}, errNotJSON
	}
	switch b[0] {
	case '{':
		var o objectEnvelope
		if err := json.Unmarshal(b, &o); err != nil {
			return envelope{}, fmt.Errorf("%w: %v", errNotJSON, err)
		}
		env := envelope{Data: o.Data, Errors: o.Errors}
		if e, ok := decodeErrorField(o.Error); ok {
			if e.TaskUUID == "" {
				e.TaskUUID = o.TaskUUID
			}
			env.Errors = append(env.Errors, e)
		}
		return env, nil
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(b, &elems); err != nil {
			return envelope{}, fmt.Errorf("%w: %v", errNotJSON, err)
		}
		var env envelope
		for _, el := range elems {
			var probe struct {
				Code   string `json:"code"`
				Status string `json:"status"`
			}
			_ = json.Unmarshal(el, &probe)
			if probe.Code != "" || probe.Status == "error" {
				var e rawError
				if err := json.Unmarshal(el, &e); err == nil {
					env.Errors = append(env.Errors, e)
				}
				continue
			}
			var it rawItem
			if err := json.Unmarshal(el, &it); err == nil {
				env.Data = append(env.Data, it)
			}
		}
		return env, nil
	}
	return envelope{}, errNotJSON
}

// decodeErrorField reads an "error" member that is an object or a string.
func decodeErrorField(raw json.RawMessage) (rawError, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return rawError{}, false
	}
	var e rawError
	if err := json.Unmarshal(raw, &e); err == nil {
		return e, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil && s != "" {
		return rawError{Message: s}, true
	}
	return rawError{}, false
}

// parameterString returns "parameter" as one string; an array is joined
// with commas.
func parameterString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var arr []any
	if json.Unmarshal(raw, &arr) == nil {
		parts := make([]string, 0, len(arr))
		for _, v := range arr {
			parts = append(parts, scalarString(v))
		}
		return strings.Join(parts, ",")
	}
	return ""
}

// allowedValuesList normalises "allowedValues": an array, or an object whose
// keys are array indexes ("0", "1", ...), ordered by index.
func allowedValuesList(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var arr []any
	if json.Unmarshal(raw, &arr) == nil {
		out := make([]string, 0, len(arr))
		for _, v := range arr {
			out = append(out, scalarString(v))
		}
		return out
	}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) == nil {
		type kv struct {
			idx int
			key string
			v   any
		}
		list := make([]kv, 0, len(obj))
		for k, v := range obj {
			n, err := strconv.Atoi(k)
			if err != nil {
				n = len(obj) + len(list) // non-numeric keys sort last, by name below
			}
			list = append(list, kv{n, k, v})
		}
		sort.Slice(list, func(i, j int) bool {
			if list[i].idx != list[j].idx {
				return list[i].idx < list[j].idx
			}
			return list[i].key < list[j].key
		})
		out := make([]string, 0, len(list))
		for _, e := range list {
			out = append(out, scalarString(e.v))
		}
		return out
	}
	return nil
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return "null"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// responseContentMessage extracts the upstream provider's detail.
func responseContentMessage(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.Message
	}
	return ""
}
