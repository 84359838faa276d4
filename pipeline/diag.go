package pipeline

import (
	"sort"
	"strconv"
	"strings"
)

// diagList collects problems from every part of a manifest; sorted() puts
// them in reading order: the manifest first, then each jobsFrom file.
type diagList struct {
	ds    []Diag
	files []string // files in the order they were read
}

func (l *diagList) add(pos Pos, path, msg string) {
	l.ds = append(l.ds, Diag{Pos: pos, Path: path, Msg: msg})
}

func (l *diagList) sorted() Diags {
	order := make(map[string]int, len(l.files))
	for i, f := range l.files {
		if _, ok := order[f]; !ok {
			order[f] = i
		}
	}
	ds := l.ds
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.File != b.File {
			oa, oka := order[a.File]
			ob, okb := order[b.File]
			if oka != okb {
				return oka
			}
			if oa != ob {
				return oa < ob
			}
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return Diags(ds)
}

// yamlErrorDiags turns a yaml.v3 syntax error ("yaml: line 5: did not find
// expected key") into diagnostics at that line of file.
func yamlErrorDiags(file string, err error, lineBase int) []Diag {
	var out []Diag
	for _, msg := range strings.Split(err.Error(), "\n") {
		msg = strings.TrimSpace(msg)
		if msg == "" || msg == "yaml: unmarshal errors:" {
			continue
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		pos := Pos{File: file}
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if num, tail, ok := strings.Cut(rest, ": "); ok {
				if n, err := strconv.Atoi(num); err == nil {
					pos.Line = n
					msg = tail
				}
			}
		}
		if lineBase > 0 {
			pos.Line = lineBase
		}
		out = append(out, Diag{Pos: pos, Msg: msg})
	}
	if len(out) == 0 {
		out = append(out, Diag{Pos: Pos{File: file}, Msg: err.Error()})
	}
	return out
}

// quote quotes s for a message, shortened so one value cannot flood the
// output.
func quote(s string) string {
	const max = 60
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
