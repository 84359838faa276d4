package emulator

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/dubline/dubline/kling"
)

// videoReq is a validated videoInference task.
type videoReq struct {
	TaskUUID       string
	Video, Audio   string
	OutputFormat   string
	OutputQuality  int
	NumberResults  int
	TTL            int // seconds; 0 when not sent
	IncludeCost    bool
	WebhookURL     string
	UploadEndpoint string
	OrigVolume     float64
	SoundVolume    float64
}

// Parameters the model page documents, per object.
var (
	topParams      = []string{"taskType", "taskUUID", "model", "deliveryMethod", "outputType", "outputFormat", "outputQuality", "numberResults", "ttl", "includeCost", "safety", "webhookURL", "uploadEndpoint", "inputs", "providerSettings"}
	inputParams    = []string{"video", "audio"}
	safetyParams   = []string{"checkContent", "mode"}
	klingaiParams  = []string{"originalAudioVolume", "soundVolume"}
	providerParams = []string{"klingai"}
)

// fields is a JSON object kept raw, so types are checked as sent.
type fields map[string]json.RawMessage

// kind names the JSON type of a raw value ("" for absent or null).
func kind(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return ""
	}
	switch s[0] {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "number"
}

func (f fields) has(k string) bool { return kind(f[k]) != "" }

func (f fields) str(k, param string) (string, *apiError) {
	if kind(f[k]) != "string" {
		return "", invalidParam(param, "string", fmt.Sprintf("expected a string, got %s", describe(f[k])))
	}
	var s string
	if err := json.Unmarshal(f[k], &s); err != nil {
		return "", invalidParam(param, "string", "not a valid JSON string")
	}
	return s, nil
}

func (f fields) boolean(k, param string) (bool, *apiError) {
	if kind(f[k]) != "boolean" {
		return false, invalidParam(param, "boolean", fmt.Sprintf("expected a boolean, got %s", describe(f[k])))
	}
	return strings.TrimSpace(string(f[k])) == "true", nil
}

func (f fields) number(k, param, typ string) (float64, *apiError) {
	if kind(f[k]) != "number" {
		return 0, invalidParam(param, typ, fmt.Sprintf("expected a %s, got %s", typ, describe(f[k])))
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(f[k])), 64)
	if err != nil {
		return 0, invalidParam(param, typ, "not a number")
	}
	return v, nil
}

// integer reads an integer parameter in [lo, hi] (hi 0: no upper bound).
func (f fields) integer(k, param string, lo, hi int) (int, *apiError) {
	v, e := f.number(k, param, "integer")
	if e != nil {
		return 0, e
	}
	if v != float64(int64(v)) {
		return 0, invalidParam(param, "integer", fmt.Sprintf("%v is not an integer", v))
	}
	if v < float64(lo) || (hi != 0 && v > float64(hi)) {
		e := invalidParam(param, "integer", fmt.Sprintf("%v is out of range", v))
		e.Min = f64(float64(lo))
		if hi != 0 {
			e.Max = f64(float64(hi))
		}
		return 0, e
	}
	return int(v), nil
}

func (f fields) object(k, param string) (fields, *apiError) {
	if kind(f[k]) != "object" {
		return nil, invalidParam(param, "object", fmt.Sprintf("expected an object, got %s", describe(f[k])))
	}
	var o fields
	if err := json.Unmarshal(f[k], &o); err != nil {
		return nil, invalidParam(param, "object", "not a valid JSON object")
	}
	return o, nil
}

func (f fields) enum(k, param string, allowed []string) (string, *apiError) {
	s, e := f.str(k, param)
	if e != nil {
		e.AllowedValues = allowed
		return "", e
	}
	if !slices.Contains(allowed, s) {
		e := invalidParam(param, "string", fmt.Sprintf("%q is not allowed", s))
		e.AllowedValues = allowed
		return "", e
	}
	return s, nil
}

// unknown reports the first key of f not in allowed, in sorted order.
func (f fields) unknown(prefix string, allowed []string) *apiError {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			p := prefix + k
			e := newErr(400, "unsupportedParameter", fmt.Sprintf("Parameter %s is not supported by model %s.", p, kling.Model))
			e.Parameter, e.Documentation = p, docBase
			return e
		}
	}
	return nil
}

func describe(raw json.RawMessage) string {
	if k := kind(raw); k != "" {
		return k + " " + truncate(string(raw), 40)
	}
	return "nothing"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// validUUIDv4 reports whether s is a canonical RFC 4122 version 4 UUID.
func validUUIDv4(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && len(s) == 36 && u.Version() == 4 && u.Variant() == uuid.RFC4122
}

// taskUUIDOf reads and checks a task's taskUUID.
func taskUUIDOf(f fields) (string, *apiError) {
	if !f.has("taskUUID") {
		return "", missingParam("taskUUID", "string")
	}
	s, e := f.str("taskUUID", "taskUUID")
	if e != nil {
		return "", e
	}
	if !validUUIDv4(s) {
		return s, invalidParam("taskUUID", "string", fmt.Sprintf("%q is not a UUID v4", truncate(s, 40)))
	}
	return s, nil
}

// validateVideo checks a videoInference task (taskUUID already checked)
// and returns the first problem, in a fixed order.
func validateVideo(f fields, taskUUID string) (videoReq, *apiError) {
	r := videoReq{TaskUUID: taskUUID, OutputFormat: spec("outputFormat").Default.Str(), OutputQuality: spec("outputQuality").Default.Int(),
		NumberResults: spec("numberResults").Default.Int(), OrigVolume: spec("originalAudioVolume").Default.N, SoundVolume: spec("soundVolume").Default.N}
	if e := f.unknown("", topParams); e != nil {
		return r, e
	}
	if !f.has("model") {
		return r, missingParam("model", "string")
	}
	model, e := f.str("model", "model")
	if e != nil {
		return r, e
	}
	if model != kling.Model {
		e := paramErr("unknownModel", "model", "string", fmt.Sprintf("Model %q is not available for videoInference here.", truncate(model, 60)))
		e.AllowedValues = []string{kling.Model}
		return r, e
	}
	for _, check := range []func(fields, *videoReq) *apiError{checkDelivery, checkOutput, checkCounts, checkSafety, checkEndpoints, checkInputs, checkProvider} {
		if e := check(f, &r); e != nil {
			return r, e
		}
	}
	return r, nil
}

func checkDelivery(f fields, r *videoReq) *apiError {
	if f.has("deliveryMethod") {
		if _, e := f.enum("deliveryMethod", "deliveryMethod", []string{"async"}); e != nil {
			return e
		}
	}
	if f.has("outputType") {
		if _, e := f.enum("outputType", "outputType", []string{"URL"}); e != nil {
			return e
		}
	}
	return nil
}

func checkOutput(f fields, r *videoReq) *apiError {
	var e *apiError
	if f.has("outputFormat") {
		if r.OutputFormat, e = f.enum("outputFormat", "outputFormat", spec("outputFormat").Enum); e != nil {
			return e
		}
	}
	if f.has("outputQuality") {
		if r.OutputQuality, e = f.integer("outputQuality", "outputQuality", int(spec("outputQuality").Min), int(spec("outputQuality").Max)); e != nil {
			return e
		}
	}
	return nil
}

func checkCounts(f fields, r *videoReq) *apiError {
	var e *apiError
	if f.has("numberResults") {
		if r.NumberResults, e = f.integer("numberResults", "numberResults", int(spec("numberResults").Min), int(spec("numberResults").Max)); e != nil {
			return e
		}
	}
	if f.has("ttl") {
		if r.TTL, e = f.integer("ttl", "ttl", int(spec("ttl").Min), int(spec("ttl").Max)); e != nil {
			return e
		}
	}
	if f.has("includeCost") {
		if r.IncludeCost, e = f.boolean("includeCost", "includeCost"); e != nil {
			return e
		}
	}
	return nil
}

func checkSafety(f fields, r *videoReq) *apiError {
	if !f.has("safety") {
		return nil
	}
	s, e := f.object("safety", "safety")
	if e != nil {
		return e
	}
	if e := s.unknown("safety.", safetyParams); e != nil {
		return e
	}
	if s.has("checkContent") {
		if _, e := s.boolean("checkContent", "safety.checkContent"); e != nil {
			return e
		}
	}
	if s.has("mode") {
		if _, e := s.enum("mode", "safety.mode", spec("safety.mode").Enum); e != nil {
			return e
		}
	}
	return nil
}

func checkEndpoints(f fields, r *videoReq) *apiError {
	var e *apiError
	if f.has("webhookURL") {
		if r.WebhookURL, e = uriParam(f, "webhookURL"); e != nil {
			return e
		}
	}
	if f.has("uploadEndpoint") {
		if r.UploadEndpoint, e = uriParam(f, "uploadEndpoint"); e != nil {
			return e
		}
	}
	return nil
}

// uriParam reads an absolute http(s) URL. The message never quotes the
// value: upload endpoints are presigned and carry credentials.
func uriParam(f fields, param string) (string, *apiError) {
	s, e := f.str(param, param)
	if e != nil {
		return "", e
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", invalidParam(param, "string", "expected an absolute http(s) URI")
	}
	return s, nil
}

func checkInputs(f fields, r *videoReq) *apiError {
	if !f.has("inputs") {
		return missingParam("inputs", "object")
	}
	in, e := f.object("inputs", "inputs")
	if e != nil {
		return e
	}
	if e := in.unknown("inputs.", inputParams); e != nil {
		return e
	}
	for _, p := range []struct {
		key string
		dst *string
	}{{"video", &r.Video}, {"audio", &r.Audio}} {
		param := "inputs." + p.key
		if !in.has(p.key) {
			return missingParam(param, "string")
		}
		if *p.dst, e = in.str(p.key, param); e != nil {
			return e
		}
		if strings.TrimSpace(*p.dst) == "" {
			return invalidParam(param, "string", "empty; expected a UUID, URL, data URI or base64")
		}
	}
	return nil
}

func checkProvider(f fields, r *videoReq) *apiError {
	if !f.has("providerSettings") {
		return nil
	}
	ps, e := f.object("providerSettings", "providerSettings")
	if e != nil {
		return e
	}
	if e := ps.unknown("providerSettings.", providerParams); e != nil {
		return e
	}
	if !ps.has("klingai") {
		return nil
	}
	k, e := ps.object("klingai", "providerSettings.klingai")
	if e != nil {
		return e
	}
	if e := k.unknown("providerSettings.klingai.", klingaiParams); e != nil {
		return e
	}
	for _, p := range []struct {
		key string
		dst *float64
	}{{"originalAudioVolume", &r.OrigVolume}, {"soundVolume", &r.SoundVolume}} {
		if !k.has(p.key) {
			continue
		}
		param := "providerSettings.klingai." + p.key
		v, e := k.number(p.key, param, "float")
		if e != nil {
			return e
		}
		if sp := spec(p.key); sp.Check(kling.Num(v)) != "" {
			e := invalidParam(param, "float", fmt.Sprintf("%v is outside %g-%g or not a multiple of %g", v, sp.Min, sp.Max, sp.Step))
			e.Min, e.Max, e.Multiplier = f64(sp.Min), f64(sp.Max), f64(sp.Step)
			return e
		}
		*p.dst = v
	}
	return nil
}

// spec is the model's description of a parameter: the emulator accepts
// what the model page allows, like Runware.
func spec(name string) *kling.Param { return &kling.Params[kling.Lookup(name)] }
