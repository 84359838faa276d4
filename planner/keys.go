package planner

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dubline/dubline/kling"
)

// safeID is what a job id may contain: it becomes part of object keys,
// file names and journal records.
var safeID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// safeName is what a run name may contain (it names the journal file).
var safeName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

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
func outputKeys(tmpl, prefix, run, id string, index int, r Request) []string {
	if r.NumberResults > 1 && !strings.Contains(tmpl, "{n}") {
		if strings.HasSuffix(tmpl, ".{ext}") {
			tmpl = strings.TrimSuffix(tmpl, ".{ext}") + "-{n}.{ext}"
		} else {
			tmpl += "-{n}"
		}
	}
	keys := make([]string, r.NumberResults)
	for n := range keys {
		k := strings.NewReplacer(
			"{id}", id,
			"{ext}", kling.Ext(r.OutputFormat),
			"{n}", strconv.Itoa(n+1),
			"{name}", run,
			"{index}", strconv.Itoa(index),
		).Replace(tmpl)
		keys[n] = prefix + k
	}
	return keys
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
