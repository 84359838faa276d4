package runware

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestClassify(t *testing.T) {
	cases := []struct {
		code   string
		status int
		want   Class
	}{
		// No code: the HTTP status decides.
		{"", 0, Transient},
		{"", 408, Transient},
		{"", 429, Transient},
		{"", 500, Transient},
		{"", 502, Transient},
		{"", 503, Transient},
		{"", 504, Transient},
		{"", 520, Transient},
		{"", 400, Permanent},
		{"", 404, Permanent},
		{"", 409, Permanent},
		{"", 422, Permanent},
		{"", 401, Fatal},
		{"", 402, Fatal},
		{"", 403, Fatal},
		{"", 200, Permanent},
		// Auth and money: Fatal whatever the status.
		{"invalidApiKey", 401, Fatal},
		{"missingApiKey", 401, Fatal},
		{"invalidApiKey", 400, Fatal},
		{"insufficientCredits", 402, Fatal},
		{"providerInsufficientCredits", 200, Fatal},
		{"thirdPartyInsufficientCredits", 402, Fatal},
		{"quotaExceeded", 402, Fatal},
		{"paymentRequired", 402, Fatal},
		{"insufficientBalance", 402, Fatal},
		// Rate limits and server trouble: Transient.
		{"rateLimitExceeded", 429, Transient},
		{"inferenceRateLimitExceeded", 429, Transient},
		{"providerRateLimitExceeded", 200, Transient},
		{"internalServerError", 500, Transient},
		{"serviceUnavailable", 503, Transient},
		{"unknownError", 500, Transient},
		{"noAvailableServer", 503, Transient},
		{"requestTimeout", 504, Transient},
		{"timeout", 504, Transient},
		// Generation failures: Regenerate.
		{"timeoutProvider", 200, Regenerate},
		{"providerTimeout", 200, Regenerate},
		{"providerGatewayTimeout", 504, Regenerate},
		{"inferenceError", 200, Regenerate},
		{"processingFailed", 200, Regenerate},
		{"taskFailed", 200, Regenerate},
		{"providerError", 500, Regenerate},
		// The request or input is wrong: Permanent.
		{"invalidWidth", 400, Permanent},
		{"invalidParameter", 400, Permanent},
		{"missingInputs", 400, Permanent},
		{"unsupportedDuration", 400, Permanent},
		{"unknownModel", 400, Permanent},
		{"modelNotFound", 404, Permanent},
		{"incompatibleParameters", 400, Permanent},
		{"valueTooLarge", 400, Permanent},
		{"validationFailed", 400, Permanent},
		{"conflictTaskUUID", 409, Permanent},
		{"downloadFailed", 200, Permanent},
		// uploadFailed may follow a billed generation: never regenerate
		// automatically (it could pay twice).
		{"uploadFailed", 200, Permanent},
		{"uploadFailed", 500, Permanent},
		{"providerUploadFailed", 200, Permanent},
		{"contentPolicyViolation", 200, Permanent},
		{"providerContentPolicyViolation", 200, Permanent},
		{"nsfwContentDetected", 200, Permanent},
		// Moderation refuses the content: a new task is refused again.
		{"providerContentModeration", 200, Permanent},
		{"contentModerationFailed", 400, Permanent},
		{"providerSafetyRefusal", 200, Permanent},
		{"taskNotFound", 404, Permanent},
		{"taskExpired", 404, Permanent},
		{"taskFailedOrNotFound", 404, Permanent},
		// An unknown code falls back to the status.
		{"somethingNew", 503, Transient},
		{"somethingNew", 400, Permanent},
		{"somethingNew", 401, Fatal},
	}
	for _, tc := range cases {
		if got := Classify(tc.code, tc.status); got != tc.want {
			t.Errorf("Classify(%q, %d) = %v, want %v", tc.code, tc.status, got, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 120 ", 120 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"Tuesday, 24-Nov-26 12:00:05 GMT", 5 * time.Second}, // RFC 850
	}
	for _, tc := range cases {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestPollIntervalGrowth(t *testing.T) {
	d := 2 * time.Second
	want := []time.Duration{3 * time.Second, 4500 * time.Millisecond, 6750 * time.Millisecond,
		10125 * time.Millisecond, 15 * time.Second, 15 * time.Second}
	for i, w := range want {
		d = nextPollInterval(d, 15*time.Second)
		if d != w {
			t.Fatalf("step %d: %v, want %v", i, d, w)
		}
	}
}

// TestREADMEErrorTable keeps the README's "Error classes" table true: every
// code it names has the class it states.
func TestREADMEErrorTable(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "<!-- error-classes -->")
	table, _, ok2 := strings.Cut(table, "<!-- /error-classes -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no <!-- error-classes --> table")
	}
	names := map[string]Class{"transient": Transient, "regenerate": Regenerate, "permanent": Permanent, "fatal": Fatal}
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.Contains(cells[1], "`") {
			continue
		}
		want, ok := names[strings.ToLower(strings.TrimSpace(cells[2]))]
		if !ok {
			t.Errorf("row %q: class %q is not one of transient, regenerate, permanent, fatal", line, cells[2])
			continue
		}
		for _, code := range strings.Split(cells[1], "`") {
			code = strings.TrimSpace(code)
			if code == "" || strings.ContainsAny(code, ", ") {
				continue
			}
			rows++
			if got := Classify(code, 200); got != want {
				t.Errorf("README says %s is %v; Classify says %v", code, want, got)
			}
		}
	}
	if rows < 20 {
		t.Errorf("only %d codes checked in the README table", rows)
	}
}
