// Package redact removes secrets from strings before they reach logs,
// errors, reports or journals: URL query strings (presigned signatures and
// credentials), URL user info, and API keys.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// URL returns u with its query string and user info removed. A presigned
// URL's signature, credential and security token all live in the query, so
// the result is safe to log. Strings that do not parse as URLs with a
// scheme are returned unchanged.
func URL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" {
		// Not a URL we understand; still drop anything after '?'.
		if i := strings.IndexByte(u, '?'); i >= 0 {
			return u[:i] + "?REDACTED"
		}
		return u
	}
	if p.Scheme == "data" {
		if i := strings.IndexByte(u, ','); i >= 0 && i < 64 {
			return u[:i] + ",…"
		}
		return "data:…"
	}
	p.User = nil
	if p.RawQuery != "" {
		p.RawQuery = "REDACTED"
	}
	p.Fragment = ""
	return p.String()
}

// Secret replaces every occurrence of secret in s with "REDACTED".
// An empty secret leaves s unchanged.
func Secret(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "REDACTED")
}

// urlInText finds URLs inside free text such as an error message.
var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// Text redacts every URL inside s (query strings and user info removed)
// and keeps the rest, so an error such as
// `Head "https://h/v.mp4?X-Amz-Signature=…": connection refused` still
// says why it failed.
func Text(s string) string {
	return urlInText.ReplaceAllStringFunc(s, URL)
}
