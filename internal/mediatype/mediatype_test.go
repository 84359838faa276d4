package mediatype

import "testing"

func TestFor(t *testing.T) {
	for name, want := range map[string]string{
		"a/b.MP4": "video/mp4", "x.mov": "video/quicktime", "x.webm": "video/webm",
		"speech.wav": "audio/wav", "x.mp3": "audio/mpeg", "x.bin": Unknown, "noext": Unknown,
	} {
		if got := For(name); got != want {
			t.Errorf("For(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestSame(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"video/mp4", "video/mp4", true},
		{"Video/MP4; codecs=avc1", "video/mp4", true},
		{"video/mp4", "video/webm", false},
		{"", "video/mp4", false},
		{"garbage;;", "GARBAGE;;", true},
	} {
		if got := Same(c.a, c.b); got != c.want {
			t.Errorf("Same(%q, %q) = %t", c.a, c.b, got)
		}
	}
}
