package pipeline

import (
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// leaf is one value to convert to a field: a YAML scalar (or a mapping or
// list where a scalar was expected) or a CSV cell.
type leaf struct {
	kind yaml.Kind
	text string
	tag  string // YAML short tag; "" means untyped text, typed as a plain YAML scalar would be
	raw  string // the text before ${VAR} expansion, when it was expanded
	pos  Pos
}

func (d *decoder) leafOf(n *yaml.Node) leaf {
	r := resolve(n)
	return leaf{kind: r.Kind, text: r.Value, tag: r.Tag, pos: d.pos(n)}
}

func cellLeaf(text string, pos Pos) leaf {
	return leaf{kind: yaml.ScalarNode, text: text, pos: pos}
}

// resolveTag types text the way YAML types a plain scalar.
func resolveTag(text string) string {
	n := yaml.Node{Kind: yaml.ScalarNode, Value: text}
	return n.ShortTag()
}

func (l leaf) resolvedTag() string {
	if l.tag == "" {
		return resolveTag(l.text)
	}
	return l.tag
}

// describe says what a wrong value is, for "must be X, got Y" messages.
func describe(l leaf) string {
	switch l.kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	var s string
	switch tag := l.resolvedTag(); tag {
	case "!!str":
		s = quote(l.text) + " (a string)"
	case "!!int":
		s = l.text + " (an integer)"
	case "!!float":
		s = l.text + " (a decimal number)"
	case "!!bool":
		s = l.text + " (a boolean)"
	case "!!null":
		s = "null"
	default:
		s = tag + " " + quote(l.text)
	}
	if l.raw != "" {
		s += ", expanded from " + quote(l.raw)
	}
	return s
}

func (st *state) typeErr(l leaf, path, want string) {
	st.diags.add(l.pos, path, want+", got "+describe(l))
}

// expandLeaf expands ${VAR}s in a string value.
func (st *state) expandLeaf(l leaf, path string) (string, bool) {
	s, probs := expand(l.text, st.env)
	for _, p := range probs {
		st.diags.add(l.pos, path, p)
	}
	return s, len(probs) == 0
}

// typed prepares l for a non-string field: a quoted string (or CSV cell) holding ${VAR}
// is expanded and then typed like a plain scalar, so `concurrency: "${N}"`
// works. Other quoted strings stay strings (and are rejected).
func (st *state) typed(l leaf, path string) (leaf, bool) {
	if l.kind == yaml.ScalarNode && (l.tag == "!!str" || l.tag == "") && strings.Contains(l.text, "${") {
		s, ok := st.expandLeaf(l, path)
		if !ok {
			return l, false
		}
		l.raw, l.text, l.tag = l.text, s, ""
	}
	return l, true
}

// str converts a string field. ok is false when the value is null (unset)
// or a problem was reported.
func (st *state) str(l leaf, path string) (string, bool) {
	if l.kind != yaml.ScalarNode {
		st.typeErr(l, path, "must be a string")
		return "", false
	}
	if l.tag == "!!null" {
		return "", false
	}
	return st.expandLeaf(l, path)
}

func (st *state) integer(l leaf, path string) (int, bool) {
	l, ok := st.typed(l, path)
	if !ok {
		return 0, false
	}
	if l.kind == yaml.ScalarNode && (l.tag == "!!int" || l.tag == "") {
		if i, err := strconv.Atoi(l.text); err == nil {
			return i, true
		}
	}
	if l.kind != yaml.ScalarNode {
		st.typeErr(l, path, "must be an integer")
		return 0, false
	}
	switch l.resolvedTag() {
	case "!!null":
		return 0, false
	case "!!int":
		var i int // 0x1F, 1_000 and friends: rare, so let yaml.v3 decode them
		n := yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: l.text}
		if err := n.Decode(&i); err == nil {
			return i, true
		}
		st.diags.add(l.pos, path, "integer "+l.text+" is out of range")
	default:
		st.typeErr(l, path, "must be an integer")
	}
	return 0, false
}

func (st *state) number(l leaf, path string) (float64, bool) {
	l, ok := st.typed(l, path)
	if !ok {
		return 0, false
	}
	if l.kind != yaml.ScalarNode {
		st.typeErr(l, path, "must be a number")
		return 0, false
	}
	var f float64
	switch tag := l.tag; {
	case tag == "!!int" || tag == "!!float" || tag == "":
		var err error
		if f, err = strconv.ParseFloat(l.text, 64); err == nil {
			break
		}
		switch l.resolvedTag() {
		case "!!int", "!!float":
			n := yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: l.text}
			if n.Decode(&f) != nil {
				st.typeErr(l, path, "must be a number")
				return 0, false
			}
		case "!!null":
			return 0, false
		default:
			st.typeErr(l, path, "must be a number")
			return 0, false
		}
	case tag == "!!null":
		return 0, false
	default:
		st.typeErr(l, path, "must be a number")
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		st.diags.add(l.pos, path, "must be a finite number, got "+l.text)
		return 0, false
	}
	return f, true
}

func (st *state) boolean(l leaf, path string) (bool, bool) {
	l, ok := st.typed(l, path)
	if !ok {
		return false, false
	}
	if l.kind == yaml.ScalarNode {
		switch l.resolvedTag() {
		case "!!null":
			return false, false
		case "!!bool":
			switch l.text {
			case "true", "True", "TRUE":
				return true, true
			case "false", "False", "FALSE":
				return false, true
			}
		}
	}
	st.typeErr(l, path, "must be true or false")
	return false, false
}

// duration accepts a Go duration ("2h", "90m") or whole seconds.
func (st *state) duration(l leaf, path string) (time.Duration, bool) {
	l, ok := st.typed(l, path)
	if !ok {
		return 0, false
	}
	const want = `must be a duration like "2h" or "90m", or whole seconds`
	if l.kind != yaml.ScalarNode {
		st.typeErr(l, path, want)
		return 0, false
	}
	switch l.resolvedTag() {
	case "!!null":
		return 0, false
	case "!!int":
		secs, err := strconv.ParseInt(l.text, 10, 64)
		if err != nil || secs > math.MaxInt64/int64(time.Second) || secs < math.MinInt64/int64(time.Second) {
			st.diags.add(l.pos, path, "duration "+l.text+" seconds is out of range")
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	case "!!str":
		if dur, err := time.ParseDuration(l.text); err == nil {
			return dur, true
		}
	}
	st.typeErr(l, path, want)
	return 0, false
}

// decimal keeps a number's text exactly as written (budgetUSD): the
// planner parses it without going through float64.
func (st *state) decimal(l leaf, path string) (string, bool) {
	l, ok := st.typed(l, path)
	if !ok {
		return "", false
	}
	if l.kind == yaml.ScalarNode {
		switch l.resolvedTag() {
		case "!!null":
			return "", false
		case "!!int", "!!float", "!!str":
			return l.text, true
		}
	}
	st.typeErr(l, path, "must be a number like 40.00")
	return "", false
}

// tags accepts a list of strings or one string.
func (d *decoder) tags(n *yaml.Node, path string) ([]string, bool) {
	r := resolve(n)
	switch r.Kind {
	case yaml.SequenceNode:
		out := make([]string, 0, len(r.Content))
		ok := true
		for _, e := range r.Content {
			l := d.leafOf(e)
			if l.kind != yaml.ScalarNode || l.tag == "!!null" {
				d.st.typeErr(l, path, "each tag must be a string")
				ok = false
				continue
			}
			s, good := d.st.expandLeaf(l, path)
			ok = ok && good
			out = append(out, s)
		}
		return out, ok
	case yaml.ScalarNode:
		s, ok := d.st.str(d.leafOf(n), path)
		if !ok {
			return nil, false
		}
		return []string{s}, true
	}
	d.st.typeErr(d.leafOf(n), path, "must be a list of strings")
	return nil, false
}

// splitTags splits a CSV tags cell on ';' or '|', dropping empty parts.
func splitTags(s string) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexAny(s, ";|")
		part := s
		if i >= 0 {
			part, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
