package pipeline

import (
	"strings"
	"testing"

	"github.com/dubline/dubline/kling"
)

// TestDefaultsMerge checks per-field merging: a job's own value wins, an
// unset field takes the default with the default's Pos and Path (still
// Set), and a field set nowhere stays unset but is named after the job.
func TestDefaultsMerge(t *testing.T) {
	src := `defaults:
  outputQuality: 95
  safety: {checkContent: true, mode: fast}
jobs:
  - id: a
    outputQuality: 80
    safety: {mode: full}
  - id: b
`
	m, err := Parse("m.yaml", []byte(src), ".", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := m.Jobs[0].Params, m.Jobs[1].Params
	check := func(name string, got Field[kling.Value], v int, set bool, path, pos string) {
		t.Helper()
		if got.V.Int() != v || got.Set != set || got.Path != path || got.Pos.String() != pos {
			t.Errorf("%s = %+v; want V=%d Set=%v Path=%s Pos=%s", name, got, v, set, path, pos)
		}
	}
	check("a.outputQuality", a.Get("outputQuality"), 80, true, "jobs[0].outputQuality", "m.yaml:6:20")
	check("b.outputQuality", b.Get("outputQuality"), 95, true, "defaults.outputQuality", "m.yaml:2:18")
	check("b.numberResults", b.Get("numberResults"), 0, false, "jobs[1].numberResults", "m.yaml:8:5")
	if a.Get("safety.mode").V.Str() != "full" || a.Get("safety.mode").Path != "jobs[0].safety.mode" {
		t.Errorf("a.safety.mode = %+v", a.Get("safety.mode"))
	}
	if !a.Get("safety.checkContent").V.Bool() || a.Get("safety.checkContent").Path != "defaults.safety.checkContent" {
		t.Errorf("a.safety.checkContent = %+v (want the default, merged per field)", a.Get("safety.checkContent"))
	}
	if b.Get("safety.mode").V.Str() != "fast" || b.Get("safety.mode").Pos.String() != "m.yaml:3:38" {
		t.Errorf("b.safety.mode = %+v", b.Get("safety.mode"))
	}
	j := m.Jobs[1]
	if j.Video.Set || j.Video.Path != "jobs[1].video" || j.Video.Pos != j.Pos {
		t.Errorf("unset video = %+v; want named after the job, at the job", j.Video)
	}
	if j.Index != 1 || j.Path != "jobs[1]" || j.Dir != "." {
		t.Errorf("job = index %d path %q dir %q", j.Index, j.Path, j.Dir)
	}
	if m.Defaults.Get("outputQuality").Path != "defaults.outputQuality" || m.Defaults.Get("safety.mode").Path != "defaults.safety.mode" {
		t.Errorf("defaults paths: %q %q", m.Defaults.Get("outputQuality").Path, m.Defaults.Get("safety.mode").Path)
	}
}

// TestAllProblemsAtOnce checks that one pass reports problems from every
// section, the jobs and the jobsFrom files, in reading order.
func TestAllProblemsAtOnce(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "p.csv", "id,video,audio,ttl\nr1,v,a,long\n")
	src := `version: 3
output: {url: 5, pathStyle: maybe}
limits: {concurrency: "8"}
defaults: {outputQuality: high}
jobs:
  - {id: a, video: v, audio: a, tags: {x: 1}}
  - {id: b, vidoe: v}
jobsFrom: [p.csv, gone.csv]
`
	_, err := Parse("m.yaml", []byte(src), dir, nil)
	ds, ok := err.(Diags)
	if !ok {
		t.Fatalf("error %T %v, want Diags", err, err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Pos.String()+" "+d.Path)
	}
	want := []string{
		"m.yaml:1:10 version",
		"m.yaml:2:29 output.pathStyle",
		"m.yaml:3:23 limits.concurrency",
		"m.yaml:4:27 defaults.outputQuality",
		"m.yaml:6:39 jobs[0].tags",
		"m.yaml:7:13 jobs[1]",
		"m.yaml:8:19 jobsFrom[1]",
		dir + "/p.csv:2:4 jobsFrom[0][0].ttl",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s\nfull:\n%v", strings.Join(got, "\n"), strings.Join(want, "\n"), err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	m, err := Load("testdata/does-not-exist.yaml", nil)
	if m != nil || err == nil || err.Error() != "testdata/does-not-exist.yaml: cannot read manifest: no such file or directory" {
		t.Errorf("got %v, %v", m, err)
	}
}
