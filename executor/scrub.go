package executor

import (
	"regexp"

	"github.com/dubline/dubline/internal/redact"
)

// Secrets. The journal and the report hold no URLs at all; every error
// message is scrubbed (URL query strings and user info removed, and
// Options.Secrets replaced) before it is logged, journalled or reported.

// urlPattern finds URLs inside free text (error messages quote them).
var urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)

// scrubber removes secrets from text bound for logs, journal and report.
type scrubber struct{ secrets []string }

func (s scrubber) text(t string) string {
	t = urlPattern.ReplaceAllStringFunc(t, redact.URL)
	for _, sec := range s.secrets {
		t = redact.Secret(t, sec)
	}
	return t
}

func (s scrubber) err(err error) string {
	if err == nil {
		return ""
	}
	return s.text(err.Error())
}
