package planner

import (
	"net/url"
	"strings"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/pipeline"
)

// checkParams checks one set of Runware parameters against the model page
// and returns the resolved request. Fields inherited from `defaults`
// carry the defaults' position and path, and sortDiags drops the repeats.
func checkParams(d *diags, p pipeline.Params, model string) Request {
	r := Request{
		Model:               model,
		OutputFormat:        p.OutputFormat.Or(kling.DefaultOutputFormat),
		OutputQuality:       p.OutputQuality.Or(kling.DefaultOutputQuality),
		NumberResults:       p.NumberResults.Or(kling.DefaultNumberResults),
		OriginalAudioVolume: p.OriginalAudioVolume.Or(kling.DefaultOriginalAudioVolume),
		SoundVolume:         p.SoundVolume.Or(kling.DefaultSoundVolume),
		IncludeCost:         p.IncludeCost.Or(kling.DefaultIncludeCost),
		TTL:                 p.TTL.Or(0),
		WebhookURL:          p.WebhookURL.Or(""),
		UploadEndpoint:      p.UploadEndpoint.Or(""),
		CheckContent:        p.CheckContent.Or(false),
		SafetyMode:          p.SafetyMode.Or(""),
	}
	if f := p.OutputFormat; f.Set && !oneOf(f.V, kling.OutputFormats) {
		hint := ""
		if oneOf(strings.ToUpper(f.V), kling.OutputFormats) {
			hint = " (did you mean " + strings.ToUpper(f.V) + "?)"
		}
		fieldErr(d, f, "%q is not allowed; allowed: %s%s", f.V, quoteList(kling.OutputFormats), hint)
	}
	if f := p.OutputQuality; f.Set && (f.V < kling.MinOutputQuality || f.V > kling.MaxOutputQuality) {
		fieldErr(d, f, "%d is out of range %d..%d", f.V, kling.MinOutputQuality, kling.MaxOutputQuality)
	}
	if f := p.NumberResults; f.Set && (f.V < kling.MinNumberResults || f.V > kling.MaxNumberResults) {
		fieldErr(d, f, "%d is out of range %d..%d", f.V, kling.MinNumberResults, kling.MaxNumberResults)
	}
	if f := p.TTL; f.Set && f.V < kling.MinTTL {
		fieldErr(d, f, "%d is too short; ttl must be >= %d seconds", f.V, kling.MinTTL)
	}
	for _, f := range []pipeline.Field[float64]{p.OriginalAudioVolume, p.SoundVolume} {
		if f.Set && !kling.ValidVolume(f.V) {
			fieldErr(d, f, "%g is not allowed; allowed: 0..2 in steps of 0.01", f.V)
		}
	}
	if f := p.SafetyMode; f.Set && !oneOf(f.V, kling.SafetyModes) {
		fieldErr(d, f, "%q is not allowed; allowed: %s", f.V, quoteList(kling.SafetyModes))
	}
	for _, f := range []pipeline.Field[string]{p.WebhookURL, p.UploadEndpoint} {
		if f.Set {
			if err := checkHTTPURL(f.V); err != "" {
				fieldErr(d, f, "%s", err)
			}
		}
	}
	return r
}

// checkHTTPURL returns "" if s is an absolute http(s) URL, else why not.
// The URL itself is never echoed: it may be presigned.
func checkHTTPURL(s string) string {
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
