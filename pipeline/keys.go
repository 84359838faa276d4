package pipeline

import (
	"strings"

	"github.com/dubline/dubline/kling"
)

// keySet is the set of keys one mapping (or CSV header) may use. The index
// of a key in names is the slot it is gathered into.
type keySet struct {
	what  string // "key" or "column"
	names []string
	index map[string]int
}

func newKeySet(what string, names ...string) *keySet {
	ks := &keySet{what: what, names: names, index: make(map[string]int, len(names))}
	for i, n := range names {
		ks.index[n] = i
	}
	return ks
}

func (ks *keySet) lookup(k string) int {
	if i, ok := ks.index[k]; ok {
		return i
	}
	return -1
}

// Slot numbers shared by the key sets below. Job slots start with the six
// job-only fields, then the param keys in paramKeyList order.
const (
	sID = iota
	sVideo
	sAudio
	sAudioSeconds
	sVideoSeconds
	sTags
	jobOnly
)

// paramKey is one key of a params mapping (defaults or a job): a request
// parameter, or the mapping of a group of them ("safety").
type paramKey struct {
	name  string
	first int     // kling.Params index of the parameter, or of the group's first member
	group *keySet // the group's member keys, in kling.Params order; nil for a parameter
}

// paramKeyList is the params mapping's keys, from kling.Params: a group
// once, where its first member is. A group's members are adjacent there.
var paramKeyList = func() []paramKey {
	var ks []paramKey
	var members []string
	flush := func() {
		if len(members) > 0 {
			ks[len(ks)-1].group = newKeySet("key", members...)
			members = nil
		}
	}
	for i := range kling.Params {
		g, key := kling.Params[i].Group()
		if g != "" && len(members) > 0 && ks[len(ks)-1].name == g {
			members = append(members, key)
			continue
		}
		flush()
		if g == "" {
			ks = append(ks, paramKey{name: key, first: i})
			continue
		}
		ks = append(ks, paramKey{name: g, first: i})
		members = []string{key}
	}
	flush()
	return ks
}()

var paramNames = func() []string {
	var ns []string
	for _, k := range paramKeyList {
		ns = append(ns, k.name)
	}
	return ns
}()

var paramFullNames = func() []string {
	var ns []string
	for i := range kling.Params {
		ns = append(ns, kling.Params[i].Name)
	}
	return ns
}()

var jobOnlyNames = []string{"id", "video", "audio", "audioSeconds", "videoSeconds", "tags"}

const (
	tVersion = iota
	tName
	tProvider
	tOutput
	tLimits
	tDefaults
	tJobs
	tJobsFrom
)

const (
	oURL = iota
	oKey
	oEndpoint
	oRegion
	oPathStyle
	oPresignTTL
	oStaging
)

const (
	lConcurrency = iota
	lBudgetUSD
	lDeadline
	lJobTimeout
	lPriceBasis
	lBudgetWindow
	lMaxFailures
)

var (
	topKeys      = newKeySet("key", "version", "name", "provider", "output", "limits", "defaults", "jobs", "jobsFrom")
	providerKeys = newKeySet("key", "url", "model")
	outputKeys   = newKeySet("key", "url", "key", "endpoint", "region", "pathStyle", "presignTTL", "staging")
	limitsKeys   = newKeySet("key", "concurrency", "budgetUSD", "deadline", "jobTimeout", "priceBasis", "budgetWindow", "maxFailures")
	paramKeys    = newKeySet("key", paramNames...)
	jobKeys      = newKeySet("key", append(append([]string{}, jobOnlyNames...), paramNames...)...)
	// csvColumns: the job keys with groups flattened ("safety.mode"), in
	// field numbering.
	csvColumns = newKeySet("column", append(append([]string{}, jobOnlyNames...), paramFullNames...)...)
)

// sectionOf names the section a misplaced top-level key belongs in.
var sectionOf = func() map[string]string {
	m := map[string]string{}
	for _, s := range []struct {
		name string
		ks   *keySet
	}{{"defaults", paramKeys}, {"limits", limitsKeys}, {"output", outputKeys}, {"provider", providerKeys}} {
		for _, n := range s.ks.names {
			if _, ok := m[n]; !ok {
				m[n] = s.name
			}
		}
	}
	return m
}()

// unknownMsg explains an unknown key: the closest allowed key, a hint for
// common mistakes, and the full list of allowed keys.
func unknownMsg(key string, ks *keySet, top bool) string {
	var b strings.Builder
	b.WriteString("unknown ")
	b.WriteString(ks.what)
	b.WriteString(" ")
	b.WriteString(quote(key))
	switch {
	case strings.HasPrefix(key, "providerSettings"):
		b.WriteString(" (Dubline sets " + providerSettingsHint + ")")
	case top && sectionOf[key] != "":
		b.WriteString(" (it belongs under " + sectionOf[key] + ")")
	default:
		if s := suggest(key, ks.names); s != "" {
			b.WriteString(" (did you mean " + quote(s) + "?)")
		}
	}
	b.WriteString("; allowed ")
	b.WriteString(ks.what)
	b.WriteString("s: ")
	b.WriteString(strings.Join(ks.names, ", "))
	return b.String()
}

// suggest returns the allowed name closest to key: equal ignoring case, or
// within edit distance 2 (and closer than the name's own length, so "ab"
// does not suggest "id").
func suggest(key string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if strings.EqualFold(n, key) {
			return n
		}
		if d := editDistance(strings.ToLower(key), strings.ToLower(n), bestD); d < bestD && d < len(n) {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or max when it is
// at least max (the search stops early; keys are short).
func editDistance(a, b string, max int) int {
	if d := len(a) - len(b); d >= max || -d >= max {
		return max
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= max {
			return max
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], max)
}

// providerSettingsHint names the parameters sent inside providerSettings
// and the object they go in.
var providerSettingsHint = func() string {
	var ns []string
	obj := "providerSettings"
	for i := range kling.Params {
		if w := kling.Params[i].Wire; strings.HasPrefix(w, "providerSettings.") {
			ns = append(ns, kling.Params[i].Name)
			obj = w[:strings.LastIndexByte(w, '.')]
		}
	}
	return obj + " itself: write " + strings.Join(ns, " and ") + " directly on the job or in defaults"
}()
