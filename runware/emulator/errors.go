package emulator

import (
	"fmt"
	"net/http"
	"strings"
)

// docBase is the model page; parameter errors link to its anchors.
const docBase = "https://runware.ai/docs/models/klingai-lip-sync"

// apiError is one entry of a reply's errors array, with the HTTP status it
// carries when it decides the reply's status.
type apiError struct {
	Code          string   `json:"code"`
	Message       string   `json:"message"`
	Parameter     string   `json:"parameter,omitempty"`
	Type          string   `json:"type,omitempty"`
	AllowedValues []string `json:"allowedValues,omitempty"`
	Min           *float64 `json:"min,omitempty"`
	Max           *float64 `json:"max,omitempty"`
	Multiplier    *float64 `json:"multiplier,omitempty"`
	Documentation string   `json:"documentation,omitempty"`
	TaskType      string   `json:"taskType,omitempty"`
	TaskUUID      string   `json:"taskUUID,omitempty"`
	Status        string   `json:"status,omitempty"`

	http int
}

func newErr(status int, code, msg string) *apiError {
	return &apiError{Code: code, Message: msg, http: status}
}

// paramDoc is the model page anchor of a dotted parameter path.
func paramDoc(param string) string {
	return docBase + "#request-" + strings.ToLower(strings.ReplaceAll(param, ".", "-"))
}

// paramErr is a 400 about one request parameter.
func paramErr(code, param, typ, msg string) *apiError {
	e := newErr(http.StatusBadRequest, code, msg)
	e.Parameter, e.Type, e.Documentation = param, typ, paramDoc(param)
	return e
}

// codeName turns the last segment of a parameter path into the suffix of
// missing<Name>/invalid<Name> codes.
func codeName(param string) string {
	leaf := param[strings.LastIndexByte(param, '.')+1:]
	switch leaf {
	case "ttl":
		return "TTL"
	case "taskUUID":
		return "TaskUUID"
	}
	return strings.ToUpper(leaf[:1]) + leaf[1:]
}

func missingParam(param, typ string) *apiError {
	return paramErr("missing"+codeName(param), param, typ,
		fmt.Sprintf("Missing required parameter %s.", param))
}

func invalidParam(param, typ, msg string) *apiError {
	return paramErr("invalid"+codeName(param), param, typ,
		fmt.Sprintf("Invalid value for %s: %s", param, msg))
}

func f64(v float64) *float64 { return &v }

// statusCode returns the default Runware code for a fault status.
func statusCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "rateLimitExceeded"
	case http.StatusServiceUnavailable:
		return "serviceUnavailable"
	case http.StatusGatewayTimeout:
		return "timeout"
	case http.StatusBadGateway:
		return "badGateway"
	case http.StatusUnauthorized:
		return "invalidApiKey"
	case http.StatusPaymentRequired:
		return "insufficientCredits"
	}
	if status >= 500 {
		return "internalServerError"
	}
	return "requestFailed"
}
