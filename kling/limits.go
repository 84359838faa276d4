package kling

import (
	"fmt"
	"strings"
)

// Level says how bad it is to be outside a limit.
type Level int

const (
	// Error: the model is documented to refuse it; the job is not planned.
	Error Level = iota
	// Warning: accepted by Kling's newer "advanced" lip-sync but outside its
	// classic range; Runware does not say which backend serves klingai:7@1
	// (Runware's model reference), so the plan says so and goes on.
	Warning
)

func (l Level) String() string {
	if l == Warning {
		return "warning"
	}
	return "error"
}

// Range is a closed interval; a zero Max means no upper bound.
type Range struct{ Min, Max float64 }

func (r Range) Contains(v float64) bool {
	return v >= r.Min-1e-9 && (r.Max == 0 || v <= r.Max+1e-9)
}

// InputLimits are the limits for one input kind (video or audio) at one level.
type InputLimits struct {
	Extensions []string // lower case, with dot
	MaxBytes   int64    // 0: no limit at this level
	Seconds    Range    // zero: no limit at this level
	Side       Range    // width and height each; zero: no limit
}

// Limits is the whole table: two input kinds, two levels.
type Limits struct {
	Video map[Level]InputLimits
	Audio map[Level]InputLimits
}

// DefaultLimits is the planner's and the emulator's table.
//
// Sizes are decimal (5 MB = 5,000,000 bytes): Kling writes "5MB" and
// the decimal reading is the stricter one, so nothing it refuses passes.
//
// Error level: the union of Kling's classic and advanced lip-sync limits
// (video .mp4/.mov <= 100 MB, 2-60 s, sides 512-2160 px; audio
// .mp3/.wav/.m4a/.aac <= 5 MB, 2-60 s). Warning level: Kling's classic
// range (video <= 10 s, sides 720-1920 px), from Runware's model reference.
var DefaultLimits = Limits{
	Video: map[Level]InputLimits{
		Error: {
			Extensions: []string{".mp4", ".mov"},
			MaxBytes:   100_000_000,
			Seconds:    Range{2, 60},
			Side:       Range{512, 2160},
		},
		Warning: {
			Seconds: Range{2, 10},
			Side:    Range{720, 1920},
		},
	},
	Audio: map[Level]InputLimits{
		Error: {
			Extensions: []string{".mp3", ".wav", ".m4a", ".aac"},
			MaxBytes:   5_000_000,
			Seconds:    Range{2, 60},
		},
	},
}

// Violation is one input outside one limit.
type Violation struct {
	Level Level
	Field string // "extension", "size", "duration", "width", "height"
	Msg   string
}

// Media is what is known about one input; zero fields are unknown and
// not checked.
type Media struct {
	Ext     string // lower case with dot, "" if unknown (e.g. a media UUID)
	Bytes   int64
	Seconds float64
	Width   int
	Height  int
}

// Check returns the input's violations against in (video or audio table).
func Check(table map[Level]InputLimits, kind string, m Media) []Violation {
	var out []Violation
	for _, lvl := range []Level{Error, Warning} {
		l, ok := table[lvl]
		if !ok {
			continue
		}
		if len(l.Extensions) > 0 && m.Ext != "" && !contains(l.Extensions, m.Ext) {
			out = append(out, Violation{lvl, "extension", fmt.Sprintf("%s %q is not allowed; allowed: %s", kind, m.Ext, strings.Join(l.Extensions, " "))})
		}
		if l.MaxBytes > 0 && m.Bytes > l.MaxBytes {
			out = append(out, Violation{lvl, "size", fmt.Sprintf("%s is %s, over the %s limit", kind, bytesStr(m.Bytes), bytesStr(l.MaxBytes))})
		}
		if l.Seconds != (Range{}) && m.Seconds > 0 && !l.Seconds.Contains(m.Seconds) {
			out = append(out, Violation{lvl, "duration", fmt.Sprintf("%s is %.2f s, outside %s", kind, m.Seconds, rangeStr(l.Seconds, "s"))})
		}
		if l.Side != (Range{}) {
			if m.Width > 0 && !l.Side.Contains(float64(m.Width)) {
				out = append(out, Violation{lvl, "width", fmt.Sprintf("%s width %d px is outside %s", kind, m.Width, rangeStr(l.Side, "px"))})
			}
			if m.Height > 0 && !l.Side.Contains(float64(m.Height)) {
				out = append(out, Violation{lvl, "height", fmt.Sprintf("%s height %d px is outside %s", kind, m.Height, rangeStr(l.Side, "px"))})
			}
		}
	}
	// A value outside the error range is also outside the warning range;
	// report it once, at the stronger level.
	return dedupe(out)
}

func dedupe(vs []Violation) []Violation {
	out := vs[:0]
	for _, v := range vs {
		dup := false
		for _, o := range out {
			dup = dup || o.Field == v.Field
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func rangeStr(r Range, unit string) string {
	if r.Max == 0 {
		return fmt.Sprintf(">= %g %s", r.Min, unit)
	}
	return fmt.Sprintf("%g-%g %s", r.Min, r.Max, unit)
}

// bytesStr formats decimal units, as Kling states its limits ("5MB").
func bytesStr(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.2f MB", float64(n)/1e6)
	case n >= 1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	default:
		return fmt.Sprintf("%d B", n)
	}
}
