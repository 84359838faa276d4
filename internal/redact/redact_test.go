package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://b.s3.amazonaws.com/k.mp4?X-Amz-Signature=abc&X-Amz-Credential=AKIA", "https://b.s3.amazonaws.com/k.mp4?REDACTED"},
		{"https://user:pw@host/x", "https://host/x"},
		{"https://host/x", "https://host/x"},
		{"s3://bucket/key", "s3://bucket/key"},
		{"relative/path.mp4", "relative/path.mp4"},
		{"weird?X-Amz-Signature=1", "weird?REDACTED"},
		{"data:video/mp4;base64,AAAA", "data:video/mp4;base64,…"},
	}
	for _, c := range cases {
		if got := URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(URL(c.in), "Signature=") || strings.Contains(URL(c.in), "pw@") {
			t.Errorf("URL(%q) leaks a secret", c.in)
		}
	}
}

func TestSecret(t *testing.T) {
	if got := Secret("key sk-123 in text sk-123", "sk-123"); got != "key REDACTED in text REDACTED" {
		t.Errorf("got %q", got)
	}
	if got := Secret("unchanged", ""); got != "unchanged" {
		t.Errorf("got %q", got)
	}
}

func TestText(t *testing.T) {
	in := `Head "https://h:9/v.mp4?X-Amz-Signature=abc&X-Amz-Credential=AK": dial tcp 127.0.0.1:9: connect: connection refused`
	want := `Head "https://h:9/v.mp4?REDACTED": dial tcp 127.0.0.1:9: connect: connection refused`
	if got := Text(in); got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if got := Text("no urls here"); got != "no urls here" {
		t.Errorf("got %q", got)
	}
}
