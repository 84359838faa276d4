package planner

import (
	"testing"

	"github.com/dubline/dubline/kling"
)

// Journals written by earlier versions hold fingerprints of this layout
// (the hashes were computed by the code before the parameter table): a
// change of encoding would make every succeeded job look changed.
func TestFingerprintStable(t *testing.T) {
	job := func(set map[string]kling.Value) *Job {
		r := kling.DefaultRequest()
		for name, v := range set {
			r.V[kling.Lookup(name)] = v
		}
		return &Job{
			Video:      Input{Kind: InputS3, Raw: "s3://media/a.mp4", Size: 1234, Version: "etag1"},
			Audio:      Input{Kind: InputHTTP, Raw: "https://cdn.example/a.wav?X-Amz-Signature=abc", Size: 99},
			Request:    &r,
			OutputKeys: []string{"a.mp4"},
		}
	}
	for _, c := range []struct {
		name string
		job  *Job
		want string
	}{
		{"defaults", job(nil), "cf1cfc88eecdd73a6569325e2bedd14dc46cf9f82d44555c91f2f23243307030"},
		{"everything", job(map[string]kling.Value{
			"outputFormat": kling.Str("WEBM"), "outputQuality": kling.Num(80), "numberResults": kling.Num(3),
			"originalAudioVolume": kling.Num(0), "soundVolume": kling.Num(1.25), "includeCost": kling.Flag(false),
			"ttl": kling.Num(3600), "webhookURL": kling.Str("https://hook.example/x"),
			"uploadEndpoint": kling.Str("https://up.example/y"), "safety.checkContent": kling.Flag(true),
			"safety.mode": kling.Str("fast"),
		}), "5dd71e0e1f1dd317f2cf6d21c27301b23050ac5b72c0e2f1164afec739f4e91c"},
	} {
		if got := fingerprint(c.job); got != c.want {
			t.Errorf("%s: fingerprint %s, want %s", c.name, got, c.want)
		}
	}
}
