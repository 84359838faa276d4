package kling

import "testing"

// The model page's own table must come out exactly.
func TestSeedPriceTable(t *testing.T) {
	cases := []struct {
		seconds float64
		n       int
		want    string
	}{
		{1, 1, "$0.0462"}, {2, 1, "$0.0462"}, {5, 1, "$0.0462"},
		{6, 1, "$0.0924"}, {10, 1, "$0.0924"},
		{60, 1, "$0.5524"}, // "1 minute of audio"
		{11, 1, "$0.1016"}, {30, 1, "$0.2764"},
		{4.2, 1, "$0.0462"}, {5.2, 1, "$0.0924"}, {10.01, 1, "$0.1016"}, {59.9, 1, "$0.5524"},
		{4.2, 4, "$0.1848"}, {60, 3, "$1.6572"},
		{5.0000000001, 1, "$0.0462"}, // timescale noise is not a started second
	}
	for _, c := range cases {
		if got := JobPrice(c.seconds, c.n).String(); got != c.want {
			t.Errorf("JobPrice(%v, %d) = %s, want %s", c.seconds, c.n, got, c.want)
		}
	}
}

func TestBillableSeconds(t *testing.T) {
	for in, want := range map[float64]int{0: 0, 0.1: 1, 1: 1, 4.2: 5, 5: 5, 5.2: 6, 59.01: 60} {
		if got := BillableSeconds(in); got != want {
			t.Errorf("BillableSeconds(%v) = %d, want %d", in, got, want)
		}
	}
}

func TestTierSaving(t *testing.T) {
	cases := []struct {
		seconds  float64
		edge     int
		saving   Price
		expectOK bool
	}{
		{5.2, 5, 462, true},
		{10.4, 10, 92, true},
		{5.0, 0, 0, false},
		{7, 0, 0, false},
		{6.5, 0, 0, false}, // more than 1 s over
		{30.2, 0, 0, false},
	}
	for _, c := range cases {
		edge, saving, ok := TierSaving(c.seconds, 1)
		if ok != c.expectOK || edge != c.edge || saving != c.saving {
			t.Errorf("TierSaving(%v) = %d, %d, %t; want %d, %d, %t", c.seconds, edge, saving, ok, c.edge, c.saving, c.expectOK)
		}
	}
}

func TestParseUSD(t *testing.T) {
	good := map[string]Price{"40": 400000, "40.00": 400000, "0.0462": 462, "$1.5": 15000, ".5": 5000, "0": 0}
	for in, want := range good {
		got, err := ParseUSD(in)
		if err != nil || got != want {
			t.Errorf("ParseUSD(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.23456", "abc", "1e3", "+5", "1.-5", "99999999999999999999"} {
		if _, err := ParseUSD(in); err == nil {
			t.Errorf("ParseUSD(%q): want an error", in)
		}
	}
}

func TestPriceString(t *testing.T) {
	for p, want := range map[Price]string{0: "$0.0000", 462: "$0.0462", 5524: "$0.5524", 400000: "$40.0000", -92: "-$0.0092"} {
		if got := p.String(); got != want {
			t.Errorf("%d.String() = %s, want %s", p, got, want)
		}
	}
	if FromUSD(0.0924) != 924 || FromUSD(0.5524) != 5524 {
		t.Error("FromUSD does not round-trip the page's prices")
	}
}

func TestCheckLimits(t *testing.T) {
	cases := []struct {
		name string
		kind string
		m    Media
		want map[string]Level
	}{
		{"ok video", "video", Media{Ext: ".mp4", Bytes: 1 << 20, Seconds: 3, Width: 1280, Height: 720}, map[string]Level{}},
		{"webm video", "video", Media{Ext: ".webm", Seconds: 3}, map[string]Level{"extension": Error}},
		{"small video", "video", Media{Ext: ".mp4", Seconds: 3, Width: 320, Height: 240}, map[string]Level{"width": Error, "height": Error}},
		{"600px video", "video", Media{Ext: ".mp4", Seconds: 3, Width: 600, Height: 600}, map[string]Level{"width": Warning, "height": Warning}},
		{"12 s video", "video", Media{Ext: ".mov", Seconds: 12}, map[string]Level{"duration": Warning}},
		{"61 s video", "video", Media{Ext: ".mov", Seconds: 61}, map[string]Level{"duration": Error}},
		{"huge video", "video", Media{Ext: ".mp4", Bytes: 101 << 20}, map[string]Level{"size": Error}},
		{"short audio", "audio", Media{Ext: ".wav", Seconds: 1}, map[string]Level{"duration": Error}},
		{"ogg audio", "audio", Media{Ext: ".ogg", Seconds: 4}, map[string]Level{"extension": Error}},
		{"big audio", "audio", Media{Ext: ".mp3", Bytes: 6 << 20, Seconds: 30}, map[string]Level{"size": Error}},
		{"unknown audio", "audio", Media{}, map[string]Level{}},
	}
	for _, c := range cases {
		table := DefaultLimits.Video
		if c.kind == "audio" {
			table = DefaultLimits.Audio
		}
		got := map[string]Level{}
		for _, v := range Check(table, c.kind, c.m) {
			got[v.Field] = v.Level
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			continue
		}
		for f, l := range c.want {
			if got[f] != l {
				t.Errorf("%s: %s at %v, want %v", c.name, f, got[f], l)
			}
		}
	}
}
