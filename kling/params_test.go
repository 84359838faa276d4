package kling

import (
	"strings"
	"testing"
)

// Each kind of constraint in the table, through Check.
func TestParamCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		v    Value
		want string // "" or a part of the problem
	}{
		{"outputFormat", Str("WEBM"), ""},
		{"outputFormat", Str("mp4"), `"mp4" is not allowed; allowed: MP4|WEBM|MOV (did you mean MP4?)`},
		{"outputQuality", Num(20), ""},
		{"outputQuality", Num(100), "100 is out of range 20..99"},
		{"numberResults", Num(0), "0 is out of range 1..4"},
		{"ttl", Num(60), ""},
		{"ttl", Num(59), "59 is too small; ttl must be >= 60 seconds"},
		{"soundVolume", Num(0), ""},
		{"soundVolume", Num(1.25), ""},
		{"soundVolume", Num(2), ""},
		{"soundVolume", Num(1.005), "in steps of 0.01"},
		{"originalAudioVolume", Num(-0.01), "allowed: 0..2"},
		{"soundVolume", Num(2.01), "allowed: 0..2"},
		{"webhookURL", Str("https://h.example/x"), ""},
		{"webhookURL", Str("ftp://h.example/x?sig=SECRET"), "must be an absolute http:// or https:// URI"},
		{"safety.mode", Str("slow"), `allowed: none|fast|full`},
		{"includeCost", Flag(false), ""},
	} {
		got := Params[Lookup(c.name)].Check(c.v)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) || strings.Contains(got, "SECRET") {
			t.Errorf("%s %+v: %q, want %q", c.name, c.v, got, c.want)
		}
	}
}

// The table's invariants the other packages rely on.
func TestParamsTable(t *testing.T) {
	if fingerprintV1 > NParams {
		t.Fatalf("fingerprintV1 %d > %d parameters", fingerprintV1, NParams)
	}
	seen := map[string]bool{}
	lastGroup := ""
	for i := range Params {
		p := &Params[i]
		if seen[p.Name] || p.Name == "" || p.Wire == "" || p.Doc == "" {
			t.Errorf("parameter %d %q: duplicate or incomplete", i, p.Name)
		}
		seen[p.Name] = true
		g, _ := p.Group()
		if g != "" && g != lastGroup && seen["group:"+g] {
			t.Errorf("%s: the members of group %q are not adjacent", p.Name, g)
		}
		seen["group:"+g], lastGroup = true, g
		if p.Check(p.Default) != "" && !(p.Omit && p.Default.IsZero()) {
			t.Errorf("%s: default %+v fails its own check: %s", p.Name, p.Default, p.Check(p.Default))
		}
	}
	r := DefaultRequest()
	if r.OutputFormat() != "MP4" || r.NumberResults() != 1 || r.UploadEndpoint() != "" || ContentType("") != "video/mp4" {
		t.Errorf("defaults: %+v", r)
	}
}

// The canonical encoding of the defaults, byte for byte (the planner's
// TestFingerprintStable pins the hashes journals hold).
func TestCanonicalLayout(t *testing.T) {
	r := DefaultRequest()
	base := string(r.AppendCanonical(nil))
	if want := "klingai:7@1|MP4||||95|1|0|1.00|1.00|truefalse"; base != want {
		t.Errorf("canonical %q, want %q", base, want)
	}
}
