package kling

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unique"
)

// Params is the model's request parameters, one entry each. It drives the
// manifest keys and their decoding (pipeline), the checks and defaults
// (planner), the task object sent (runware), the JSON Schema and the
// fingerprint. Adding a parameter is adding an entry here; code that gives
// a parameter its own meaning (numberResults prices results) reads it
// through a Request method. Append new parameters at the end: the
// fingerprint's layout depends on the order of the first fingerprintV1
// (TestFingerprintStable in planner guards it).
var Params = [...]Param{
	{Name: "outputFormat", Wire: "outputFormat", Kind: String, Default: Str("MP4"),
		Enum: []string{"MP4", "WEBM", "MOV"}, Doc: "Output container."},
	{Name: "outputQuality", Wire: "outputQuality", Kind: Int, Default: Num(95), Min: 20, Max: 99,
		Doc: "Compression quality of the output."},
	{Name: "numberResults", Wire: "numberResults", Kind: Int, Default: Num(1), Min: 1, Max: 4,
		Doc: "Number of results (variations) per job; each result is billed."},
	{Name: "originalAudioVolume", Wire: "providerSettings.klingai.originalAudioVolume", Kind: Float,
		Default: Num(1), Min: 0, Max: 2, Step: 0.01,
		Doc: "Volume of the video's original audio (providerSettings.klingai.originalAudioVolume); 0 removes it."},
	{Name: "soundVolume", Wire: "providerSettings.klingai.soundVolume", Kind: Float,
		Default: Num(1), Min: 0, Max: 2, Step: 0.01,
		Doc: "Volume of the new audio (providerSettings.klingai.soundVolume)."},
	// The page's default is false; Dubline asks for the cost by default
	// because the reported cost is how estimates are reconciled.
	{Name: "includeCost", Wire: "includeCost", Kind: Bool, Default: Flag(true),
		Doc: "Ask Runware to report each task's cost (Dubline's default: true; used to reconcile estimates)."},
	{Name: "ttl", Wire: "ttl", Kind: Int, Omit: true, Min: 60, Unit: "seconds",
		Doc: "Seconds Runware keeps the output URL."},
	{Name: "webhookURL", Wire: "webhookURL", Kind: String, Omit: true, URL: true,
		Doc: "URL Runware POSTs each completed result to."},
	{Name: "uploadEndpoint", Wire: "uploadEndpoint", Kind: String, Omit: true, URL: true,
		Doc: "URL Runware PUTs the result to. Leave out: Dubline presigns one per output."},
	{Name: "safety.checkContent", Wire: "safety.checkContent", Kind: Bool, Omit: true,
		Doc: "Enable content safety checking."},
	{Name: "safety.mode", Wire: "safety.mode", Kind: String, Omit: true,
		Enum: []string{"none", "fast", "full"}, Doc: "Safety checking mode."},
}

// GroupDocs describes the mappings that group parameters (Param.Group).
var GroupDocs = map[string]string{"safety": "Content safety checking."}

// NParams is the number of request parameters.
const NParams = len(Params)

// fingerprintV1 is how many of Params (the first ones) the fingerprint
// encodes in its original layout; see Request.AppendCanonical.
const fingerprintV1 = 11

// Kind is a parameter's JSON type.
type Kind uint8

const (
	String Kind = iota
	Int
	Float
	Bool
)

// String is the kind's JSON Schema type name.
func (k Kind) String() string {
	return [...]string{"string", "integer", "number", "boolean"}[k]
}

// Value is one parameter value: a String's text (interned: 100,000 jobs
// naming the same URL or format hold one copy, and a Value stays 16
// bytes), or N for the other kinds (a Bool is 0 or 1).
type Value struct {
	s unique.Handle[string]
	N float64
}

// Str, Num and Flag make values.
func Str(s string) Value {
	if s == "" {
		return Value{}
	}
	return Value{s: unique.Make(s)}
}
func Num(n float64) Value { return Value{N: n} }
func Flag(b bool) Value {
	if b {
		return Value{N: 1}
	}
	return Value{}
}

// Str is a String's text.
func (v Value) Str() string {
	if v.s == (unique.Handle[string]{}) {
		return ""
	}
	return v.s.Value()
}

func (v Value) Int() int     { return int(v.N) }
func (v Value) Bool() bool   { return v.N != 0 }
func (v Value) IsZero() bool { return v == Value{} }

// Param describes one request parameter.
type Param struct {
	Name    string   // manifest key; "group.key" is key inside the group's mapping (safety.mode)
	Wire    string   // dot path in the task object
	Kind    Kind     //
	Default Value    // used when neither the job nor the manifest's defaults set it
	Omit    bool     // not sent while zero (Runware applies its own default)
	Enum    []string // allowed values of a String
	Min     float64  // an Int or Float must be >= Min (when Min or Max is set)
	Max     float64  // and <= Max (when set)
	Step    float64  // a Float must be a multiple of Step; also its decimals in the fingerprint
	URL     bool     // a String must be an absolute http(s) URL
	Unit    string   // for messages ("seconds")
	Doc     string   // for the JSON Schema
}

// Group is the mapping a dotted Name belongs to ("safety"), or "".
func (p *Param) Group() (group, key string) {
	if i := strings.IndexByte(p.Name, '.'); i >= 0 {
		return p.Name[:i], p.Name[i+1:]
	}
	return "", p.Name
}

// Check returns what is wrong with v for this parameter, or "". The text
// never echoes a URL (it may be presigned).
func (p *Param) Check(v Value) string {
	switch p.Kind {
	case String:
		if len(p.Enum) > 0 && !oneOf(v.Str(), p.Enum) {
			hint := ""
			if up := strings.ToUpper(v.Str()); up != v.Str() && oneOf(up, p.Enum) {
				hint = " (did you mean " + up + "?)"
			}
			return fmt.Sprintf("%q is not allowed; allowed: %s%s", v.Str(), strings.Join(p.Enum, "|"), hint)
		}
		if p.URL {
			return CheckHTTPURL(v.Str())
		}
	case Int:
		switch {
		case p.Max != 0 && (v.N < p.Min || v.N > p.Max):
			return fmt.Sprintf("%d is out of range %g..%g", v.Int(), p.Min, p.Max)
		case p.Min != 0 && v.N < p.Min:
			_, key := p.Group()
			return strings.TrimSpace(fmt.Sprintf("%d is too small; %s must be >= %g %s", v.Int(), key, p.Min, p.Unit))
		}
	case Float:
		if v.N < p.Min || p.Max != 0 && v.N > p.Max || p.Step > 0 && !multipleOf(v.N, p.Step) {
			return fmt.Sprintf("%g is not allowed; allowed: %g..%g in steps of %g", v.N, p.Min, p.Max, p.Step)
		}
	}
	return ""
}

// Format writes v as the manifest would.
func (p *Param) Format(v Value) string {
	switch p.Kind {
	case String:
		return v.Str()
	case Bool:
		return strconv.FormatBool(v.Bool())
	case Float:
		return strconv.FormatFloat(v.N, 'f', p.decimals(), 64)
	}
	return strconv.FormatInt(int64(v.N), 10)
}

// decimals is how many decimals a Float is written with: those of Step.
func (p *Param) decimals() int {
	if p.Step <= 0 {
		return -1
	}
	return max(0, int(math.Ceil(-math.Log10(p.Step)-1e-9)))
}

func multipleOf(v, step float64) bool {
	h := v / step
	d := h - math.Round(h)
	return d < 1e-6 && d > -1e-6
}

// CheckHTTPURL returns "" if s is an absolute http(s) URL, else why not.
// The text never echoes s.
func CheckHTTPURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "is not a valid URI"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "must be an absolute http:// or https:// URI"
	}
	if u.Host == "" {
		return "has no host; must be an absolute http:// or https:// URI"
	}
	return ""
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

// Lookup returns the index of the parameter named name, or -1.
func Lookup(name string) int {
	for i := range Params {
		if Params[i].Name == name {
			return i
		}
	}
	return -1
}

// mustLookup is for the parameters Dubline gives a meaning of its own.
func mustLookup(name string) int {
	i := Lookup(name)
	if i < 0 {
		panic("kling: no parameter " + name)
	}
	return i
}

var (
	iOutputFormat   = mustLookup("outputFormat")
	iNumberResults  = mustLookup("numberResults")
	iUploadEndpoint = mustLookup("uploadEndpoint")
)

// Request is a resolved request: the model and a value for every
// parameter (Params order).
type Request struct {
	Model string
	V     [NParams]Value
}

// DefaultRequest has every parameter at its default.
func DefaultRequest() Request {
	r := Request{Model: Model}
	for i := range Params {
		r.V[i] = Params[i].Default
	}
	return r
}

func (r *Request) OutputFormat() string   { return r.V[iOutputFormat].Str() }
func (r *Request) NumberResults() int     { return max(r.V[iNumberResults].Int(), 1) }
func (r *Request) UploadEndpoint() string { return r.V[iUploadEndpoint].Str() }

// Set sets the parameter named name; it panics for a name not in Params.
func (r *Request) Set(name string, v Value) { r.V[mustLookup(name)] = v }

// SetUploadEndpoint sets the URL Runware PUTs the result to.
func (r *Request) SetUploadEndpoint(u string) { r.V[iUploadEndpoint] = Str(u) }

// AppendCanonical appends the fingerprint encoding of r: "model|", then
// the first fingerprintV1 parameters grouped by kind in Params order
// (strings, ints and floats each followed by '|', then the bools, each
// "true" or "false"), then every later parameter that is not at its
// default as "name=value|". The layout is what journals written before
// the parameter table hold, so their fingerprints stay valid, and a new
// parameter changes only the fingerprints of jobs that set it.
func (r *Request) AppendCanonical(b []byte) []byte {
	b = append(b, r.Model...)
	b = append(b, '|')
	for _, k := range [...]Kind{String, Int, Float} {
		for i := range fingerprintV1 {
			if p := &Params[i]; p.Kind == k {
				b = append(b, p.Format(r.V[i])...)
				b = append(b, '|')
			}
		}
	}
	for i := range fingerprintV1 {
		if Params[i].Kind == Bool {
			b = strconv.AppendBool(b, r.V[i].Bool())
		}
	}
	for i := fingerprintV1; i < NParams; i++ {
		if p := &Params[i]; r.V[i] != p.Default {
			b = append(b, p.Name...)
			b = append(b, '=')
			b = append(b, p.Format(r.V[i])...)
			b = append(b, '|')
		}
	}
	return b
}
