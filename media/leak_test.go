package media

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A text or key file named as media by mistake must not have its contents
// quoted in the error, which ends up in logs, journals and reports.
func TestProbeErrorsDoNotQuoteContents(t *testing.T) {
	dir := t.TempDir()
	const secret = "sk_live_0123456789abcdef"
	env := []byte("RUNWARE_API_KEY=" + secret + "\nAWS_SECRET_ACCESS_KEY=" + secret + "\n")
	key := make([]byte, 1200) // a binary key (DER), random bytes
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	key[0], key[1] = 0x30, 0x82 // DER SEQUENCE
	png := append([]byte("\x89PNG\r\n\x1a\n"), key[:200]...)
	utf8Text := []byte("contraseña=" + secret + "\n")
	files := []struct {
		name    string
		data    []byte
		mention string
	}{
		{".env.mp4", env, fmt.Sprintf("%d bytes of text, not media", len(env))},
		{"secrets.mp3", env, "bytes of text, not media"},
		{"secrets.wav", env, "bytes of text, not media"},
		{"secrets.webm", env, "bytes of text, not media"},
		{"secrets.ogg", env, "bytes of text, not media"},
		{"secrets.aac", env, "bytes of text, not media"},
		{"secrets", env, "bytes of text, not media"}, // no extension: sniffed
		{"notes.mp4", utf8Text, "bytes of text, not media"},
		{"key.mp4", key, "1200 bytes of unrecognised binary data, not media"},
		{"key", key, "binary data, not media"},
		{"photo.mp4", png, "a PNG image"},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ProbeFile(path)
		if !errors.Is(err, ErrNotMedia) {
			t.Errorf("%s: %v; want ErrNotMedia", f.name, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, f.mention) {
			t.Errorf("%s: error %q does not say %q", f.name, msg, f.mention)
		}
		for _, leak := range []string{secret, "RUNWARE", "contrase", fmt.Sprintf("% x", f.data[2:6]), fmt.Sprintf("%x", f.data[2:6])} {
			if strings.Contains(msg, leak) {
				t.Errorf("%s: error quotes the file's bytes (%q): %s", f.name, leak, msg)
			}
		}
		t.Logf("%s: %v", f.name, err)
	}
}
