package planner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dubline/dubline/kling"
)

// safeID reports whether s may be a job id, tag or run name: 1-128 of
// [A-Za-z0-9._-]. Ids become parts of object keys, file names and journal
// records. (A byte loop: a regexp per job was measurable at 100k jobs.)
func safeID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Key template placeholders.
var placeholders = []string{"{id}", "{ext}", "{n}", "{name}", "{index}"}

// checkKeyTemplate returns "" if every {placeholder} in tmpl is known.
func checkKeyTemplate(tmpl string) string {
	rest := tmpl
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return fmt.Sprintf("%q has an unclosed '{'", tmpl)
		}
		ph := rest[i : i+j+1]
		if !oneOf(ph, placeholders) {
			return fmt.Sprintf("%q uses unknown placeholder %s; allowed: %s", tmpl, ph, strings.Join(placeholders, " "))
		}
		rest = rest[i+j+1:]
	}
	if !strings.Contains(tmpl, "{id}") && !strings.Contains(tmpl, "{index}") {
		return fmt.Sprintf("%q must contain {id} (or {index}) so that jobs get different keys", tmpl)
	}
	return ""
}

// outputKeys expands the key template for a job: one key per result. With
// more than one result and no {n} in the template, "-{n}" goes before the
// extension ("{id}.{ext}" -> "ep01-1.mp4", "ep01-2.mp4").
func outputKeys(tmpl, prefix, run, id string, index int, r kling.Request) []string {
	if r.NumberResults() > 1 && !strings.Contains(tmpl, "{n}") {
		if strings.HasSuffix(tmpl, ".{ext}") {
			tmpl = strings.TrimSuffix(tmpl, ".{ext}") + "-{n}.{ext}"
		} else {
			tmpl += "-{n}"
		}
	}
	keys := make([]string, r.NumberResults())
	ext := kling.Ext(r.OutputFormat())
	for n := range keys {
		keys[n] = expandKey(tmpl, prefix, id, ext, run, n+1, index)
	}
	return keys
}

// expandKey substitutes the placeholders in one pass (a strings.Replacer
// per job costs more than the rest of planning a 100,000-job manifest).
func expandKey(tmpl, prefix, id, ext, run string, n, index int) string {
	b := make([]byte, 0, len(prefix)+len(tmpl)+len(id)+8)
	b = append(b, prefix...)
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] == '{' {
			if j := strings.IndexByte(tmpl[i:], '}'); j > 0 {
				switch tmpl[i : i+j+1] {
				case "{id}":
					b = append(b, id...)
				case "{ext}":
					b = append(b, ext...)
				case "{n}":
					b = strconv.AppendInt(b, int64(n), 10)
				case "{name}":
					b = append(b, run...)
				case "{index}":
					b = strconv.AppendInt(b, int64(index), 10)
				default:
					b = append(b, tmpl[i:i+j+1]...)
				}
				i += j
				continue
			}
		}
		b = append(b, tmpl[i])
	}
	return string(b)
}

// checkKey returns "" if key is safe as an object key and a relative file
// path: no empty, "." or ".." segments, no leading '/', no control bytes.
func checkKey(key string) string {
	if key == "" {
		return "expands to an empty key"
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Sprintf("key %q must not start with '/'", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Sprintf("key %q has an empty, '.' or '..' path segment", key)
		}
	}
	for _, c := range key {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return fmt.Sprintf("key %q contains a control character or backslash", key)
		}
	}
	return ""
}
