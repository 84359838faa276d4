package runware

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Classify decides an error's Class once, from the Runware code first and
// the HTTP status second (status 0: no HTTP response, i.e. a network error
// or timeout). Codes are matched case-insensitively by codeRules, in
// order; any other code, or no code, falls to the HTTP status:
//
//	0 (network), 408, 429, 500, 502, 503, 504, other 5xx     Transient
//	401, 403                                                 Fatal
//	402                                                      Fatal
//	400, 404, 409, other 4xx, 2xx (an error in a 200 reply)  Permanent
//
// Wait upgrades a Transient code reported with status "error" for a task
// to Regenerate (see the package comment). The README's "Error classes"
// table lists the same rules with what each costs; a test keeps the two
// in step.
func Classify(code string, httpStatus int) Class {
	if c, ok := classifyCode(code); ok {
		return c
	}
	return classifyStatus(httpStatus)
}

// codeRule classes the codes matching any of its patterns: "x" is the
// code x, "x*" a prefix, "*x" a suffix, "*x*" a substring (lower case).
type codeRule struct {
	patterns []string
	class    Class
}

// codeRules classes Runware's codes by what a retry buys. Why some rows:
//   - a moderation or safety refusal is about the content: a new task with
//     the same inputs is refused again (and may be billed), so it is
//     Permanent even when the code starts with "provider";
//   - uploadFailed may follow a billed generation (Runware generated the
//     video, then failed to PUT it to uploadEndpoint): regenerating could
//     pay twice, so it is Permanent and the executor copies videoURL itself;
//   - taskNotFound/taskExpired: Runware forgot the task (goneCode); the
//     executor then looks for the output before anything else.
var codeRules = []codeRule{
	{[]string{"conflicttaskuuid"}, Permanent}, // Submit turns it into Conflict on a re-send
	{[]string{"*apikey*", "unauthorized", "forbidden", "permissiondenied", "accessdenied"}, Fatal},
	{[]string{"*credits*", "*quota*", "*balance*", "paymentrequired"}, Fatal},
	{[]string{"*ratelimit*", "ratelimited", "toomanyrequests"}, Transient},
	{[]string{"timeoutprovider", "providertimeout", "providergatewaytimeout"}, Regenerate}, // the generation timed out
	{[]string{"*timeout"}, Transient},
	{[]string{"*moderation*", "*contentpolicy*", "*nsfw*", "*safety*", "*inappropriate*", "*prohibited*"}, Permanent},
	{[]string{"*notfound", "*expired", "taskcancelled"}, Permanent},
	{[]string{"*downloadfailed"}, Permanent}, // an input could not be fetched: fix the input
	{[]string{"*uploadfailed"}, Permanent},
	{[]string{"inferenceerror", "processingfailed", "taskfailed", "generationfailed", "provider*"}, Regenerate},
	{[]string{"internalservererror", "servererror", "serviceunavailable", "unknownerror",
		"noavailableserver", "modelunavailable", "badgateway", "connectionfailed"}, Transient},
	{[]string{"invalid*", "missing*", "unsupported*", "unknown*", "incompatible*", "value*",
		"array*", "duplicate*", "max*", "min*", "validationfailed"}, Permanent},
}

func classifyCode(code string) (Class, bool) {
	if code == "" {
		return 0, false
	}
	lc := strings.ToLower(code)
	for _, r := range codeRules {
		for _, p := range r.patterns {
			if matchCode(lc, p) {
				return r.class, true
			}
		}
	}
	return 0, false
}

func matchCode(lc, p string) bool {
	pre, suf := strings.HasPrefix(p, "*"), strings.HasSuffix(p, "*")
	core := strings.Trim(p, "*")
	switch {
	case pre && suf:
		return strings.Contains(lc, core)
	case pre:
		return strings.HasSuffix(lc, core)
	case suf:
		return strings.HasPrefix(lc, core)
	}
	return lc == core
}

// goneCode is true for the codes with which getResponse says it does not
// know a task (classified Permanent above).
func goneCode(code string) bool {
	return strings.EqualFold(code, "taskNotFound") || strings.EqualFold(code, "taskExpired")
}

func classifyStatus(status int) Class {
	switch {
	case status == 0, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return Transient
	case status >= 500:
		return Transient
	case status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusPaymentRequired:
		return Fatal
	}
	return Permanent
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP-date. It returns 0 when absent or unparsable; a date in the past is
// 0 as well.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// apiError converts a wire error into a classified *Error. status is the
// reply's HTTP status; key is redacted from the message.
func apiError(e rawError, status int, key string) *Error {
	msg := e.Message
	if rc := responseContentMessage(e.ResponseContent); rc != "" && rc != msg {
		if msg != "" {
			msg += ": "
		}
		msg += rc
	}
	return &Error{
		Class:         Classify(e.Code, status),
		Code:          e.Code,
		Message:       redactKey(msg, key),
		Parameter:     redactKey(parameterString(e.Parameter), key),
		AllowedValues: redactAll(allowedValuesList(e.AllowedValues), key),
		HTTPStatus:    status,
		TaskUUID:      e.TaskUUID,
	}
}

// redactAll redacts key from every value: a server may echo anything.
func redactAll(vs []string, key string) []string {
	for i, v := range vs {
		vs[i] = redactKey(v, key)
	}
	return vs
}
