package runware

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Classify decides an error's Class once, from the Runware code first and
// the HTTP status second (status 0: no HTTP response, i.e. a network error
// or timeout). The table, in the order the rules are tried:
//
//	code                                                     class
//	conflictTaskUUID                                         Permanent (Submit turns it into Conflict on a re-send)
//	*ApiKey*, unauthorized, forbidden, permissionDenied,
//	  accessDenied                                           Fatal
//	*Credits*, *Quota*, *Balance*, paymentRequired           Fatal
//	*RateLimit*, rateLimited, tooManyRequests                Transient
//	timeoutProvider, providerTimeout, providerGatewayTimeout Regenerate (the generation timed out)
//	requestTimeout, timeout, gatewayTimeout, *Timeout        Transient
//	*ContentPolicy*, nsfw*, *Nsfw*, *Safety*                 Permanent
//	*NotFound, *Expired, taskCancelled                       Permanent (incl. unknownModel-style and expired tasks)
//	downloadFailed, *DownloadFailed                          Permanent (an input could not be fetched: fix the input)
//	uploadFailed, *UploadFailed                              Permanent (the result may be billed; see below)
//	inferenceError, processingFailed, taskFailed,
//	  generationFailed, provider*                            Regenerate (provider-side failure; a new task may work)
//	internalServerError, serverError, serviceUnavailable,
//	  unknownError, noAvailableServer, modelUnavailable,
//	  badGateway, connectionFailed                           Transient
//	invalid*, missing*, unsupported*, unknown*, incompatible*,
//	  value*, array*, duplicate*, max*, min*, validationFailed Permanent
//
// Any other code, or no code, falls to the HTTP status:
//
//	0 (network), 408, 429, 500, 502, 503, 504, other 5xx     Transient
//	401, 403                                                 Fatal
//	402                                                      Fatal
//	400, 404, 409, other 4xx, 2xx (an error in a 200 reply)  Permanent
//
// uploadFailed is Permanent, not Regenerate: Runware may have billed the
// generation and then failed to PUT it to uploadEndpoint, so regenerating
// automatically could pay twice for one job. The safe paths are the
// executor's own delivery fallback (copying videoURL) and a user's rerun.
// Wait upgrades a Transient code reported with status "error" for a task
// to Regenerate (see the package comment).
func Classify(code string, httpStatus int) Class {
	if c, ok := classifyCode(code); ok {
		return c
	}
	return classifyStatus(httpStatus)
}

func classifyCode(code string) (Class, bool) {
	if code == "" {
		return 0, false
	}
	lc := strings.ToLower(code)
	has := func(s string) bool { return strings.Contains(lc, s) }
	pre := func(ps ...string) bool {
		for _, p := range ps {
			if strings.HasPrefix(lc, p) {
				return true
			}
		}
		return false
	}
	switch {
	case lc == "conflicttaskuuid":
		return Permanent, true
	case has("apikey"), lc == "unauthorized", lc == "forbidden", lc == "permissiondenied", lc == "accessdenied":
		return Fatal, true
	case has("credits"), has("quota"), has("balance"), lc == "paymentrequired":
		return Fatal, true
	case has("ratelimit"), lc == "ratelimited", lc == "toomanyrequests":
		return Transient, true
	case lc == "timeoutprovider", lc == "providertimeout", lc == "providergatewaytimeout":
		return Regenerate, true
	case lc == "timeout", strings.HasSuffix(lc, "timeout"):
		return Transient, true
	case has("contentpolicy"), has("nsfw"), has("safety"):
		return Permanent, true
	case strings.HasSuffix(lc, "notfound"), strings.HasSuffix(lc, "expired"), lc == "taskcancelled":
		return Permanent, true
	case strings.HasSuffix(lc, "downloadfailed"), strings.HasSuffix(lc, "uploadfailed"):
		return Permanent, true
	case lc == "inferenceerror", lc == "processingfailed", lc == "taskfailed",
		lc == "generationfailed", pre("provider"):
		return Regenerate, true
	case lc == "internalservererror", lc == "servererror", lc == "serviceunavailable",
		lc == "unknownerror", lc == "noavailableserver", lc == "modelunavailable",
		lc == "badgateway", lc == "connectionfailed":
		return Transient, true
	case pre("invalid", "missing", "unsupported", "unknown", "incompatible", "value",
		"array", "duplicate", "max", "min"), lc == "validationfailed":
		return Permanent, true
	}
	return 0, false
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
		Parameter:     parameterString(e.Parameter),
		AllowedValues: allowedValuesList(e.AllowedValues),
		HTTPStatus:    status,
		TaskUUID:      e.TaskUUID,
	}
}
