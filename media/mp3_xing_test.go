package media

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An MP3 whose Xing/Info header states the stream length (flags&2) but
// which ends well before it is truncated; it used to probe as the full
// length from the frame count. A file short by less than a frame, or
// longer (a trailing ID3v1 tag), is not.
func TestProbeMP3ShorterThanXingBytes(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		file string
		cut  func(n int) int // bytes kept of n
		want error
	}{
		{"speech_es_3_6s.mp3", func(int) int { return 1000 }, ErrTruncated},
		{"speech_es_3_6s.mp3", func(n int) int { return n / 2 }, ErrTruncated},
		{"tone_12_5s.mp3", func(n int) int { return n * 9 / 10 }, ErrTruncated},
		{"tone_12_5s.mp3", func(n int) int { return n - 50 }, nil}, // under one frame short: within the slack
		{"speech_es_3_6s.mp3", func(n int) int { return n }, nil},
	}
	for _, tc := range tests {
		full, err := os.ReadFile(filepath.Join(fixtures, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		keep := tc.cut(len(full))
		path := filepath.Join(dir, "cut.mp3")
		if err := os.WriteFile(path, full[:keep], 0o644); err != nil {
			t.Fatal(err)
		}
		info, err := ProbeFile(path)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s cut to %d of %d bytes: %v; want success", tc.file, keep, len(full), err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s cut to %d of %d bytes: got %+v, %v; want %v", tc.file, keep, len(full), info, err, tc.want)
		case tc.want != nil && !strings.Contains(err.Error(), "Xing/Info header states"):
			t.Errorf("error %q does not say what the header states", err)
		}
		if err != nil {
			t.Logf("%s cut to %d: %v", tc.file, keep, err)
		}
	}
	// A trailing ID3v1 tag (not counted in the Xing length) is fine.
	full, err := os.ReadFile(filepath.Join(fixtures, "speech_es_3_6s.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	tag := make([]byte, 128)
	copy(tag, "TAG")
	withTag := append(append([]byte{}, full...), tag...)
	if info, err := Probe(bytesReaderAt(withTag), int64(len(withTag)), "tagged.mp3"); err != nil || info.Seconds < 3.5 {
		t.Errorf("with an ID3v1 tag: got %+v, %v", info, err)
	}
}
