package planner

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/pipeline"
)

var update = flag.Bool("update", false, "rewrite golden files")

// plan parses yaml (as if it were a file in testdata/) and builds it.
func plan(t *testing.T, yaml string, opt Options) (*Plan, error) {
	t.Helper()
	dir, _ := filepath.Abs("testdata")
	m, err := pipeline.Parse("testdata/m.yaml", []byte(yaml), dir, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return Build(context.Background(), m, opt)
}

func mustPlan(t *testing.T, yaml string, opt Options) *Plan {
	t.Helper()
	p, err := plan(t, yaml, opt)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return p
}

const md = "../../testdata/media/"

func TestPriceAndTiers(t *testing.T) {
	p := mustPlan(t, `
output: {url: out}
limits: {budgetUSD: 0.30}
jobs:
  - {id: a, video: `+md+`face.mp4, audio: `+md+`speech_4_2s.wav, tags: [en]}
  - {id: b, video: `+md+`face.mov, audio: `+md+`tone_5_2s.m4a, tags: [en, promo]}
  - {id: c, video: `+md+`face.mp4, audio: `+md+`tone_12_5s.mp3, numberResults: 2}
  - {id: d, video: `+md+`face.mp4, audio: s3://media/x.wav, audioSeconds: 60}
`, Options{NeedPrice: true, Offline: true})
	want := []struct {
		audio    float64
		billable int
		tier     string
		price    kling.Price
		keys     string
	}{
		{4.2, 5, "<=5s", 462, "a.mp4"},
		{5.2, 6, "<=10s", 924, "b.mp4"},
		{12.5, 13, ">10s", 2 * (924 + 3*92), "c-1.mp4 c-2.mp4"},
		{60, 60, ">10s", 5524, "d.mp4"},
	}
	for i, w := range want {
		j := p.Jobs[i]
		if d := j.AudioSeconds - w.audio; d > 0.1 || d < -0.1 {
			t.Errorf("%s: audio %.3f s, want %.1f", j.ID, j.AudioSeconds, w.audio)
		}
		if j.BillableSeconds != w.billable || j.Tier != w.tier || j.Estimate != w.price {
			t.Errorf("%s: billable %d tier %s price %s; want %d %s %s", j.ID, j.BillableSeconds, j.Tier, j.Estimate, w.billable, w.tier, w.price)
		}
		if got := strings.Join(j.OutputKeys, " "); got != w.keys {
			t.Errorf("%s: keys %q, want %q", j.ID, got, w.keys)
		}
		if len(j.Fingerprint) != 64 {
			t.Errorf("%s: fingerprint %q", j.ID, j.Fingerprint)
		}
	}
	if p.Total != 462+924+2*1200+5524 {
		t.Errorf("total %s", p.Total)
	}
	if p.ByTag["en"] != 462+924 || p.ByTag["promo"] != 924 || p.ByTag["(untagged)"] != 2*1200+5524 {
		t.Errorf("by tag %v", p.ByTag)
	}
	if p.Budget != 3000 || !p.OverBudget() {
		t.Errorf("budget %s over=%t", p.Budget, p.OverBudget())
	}
	// The 5.2 s job is just over the 5 s tier: the warning names the saving.
	var tier []string
	for _, w := range p.Jobs[1].Warnings {
		tier = append(tier, w.Msg)
	}
	if !strings.Contains(strings.Join(tier, "\n"), "just over the 5 s price tier: costs $0.0924 instead of $0.0462; trimming 0.20 s saves $0.0462") {
		t.Errorf("no tier warning on b: %q", tier)
	}
}

func TestPriceBasisMax(t *testing.T) {
	yaml := `
output: {url: out}
limits: {priceBasis: max}
jobs:
  - {id: long-video, video: ` + md + `face_12s.mp4, audio: ` + md + `speech_4_2s.wav}
`
	p := mustPlan(t, yaml, Options{NeedPrice: true})
	if j := p.Jobs[0]; j.BillableSeconds != 12 || j.Estimate != 924+2*92 {
		t.Errorf("priced on %d s (%s), want max(12 s video, 4.2 s audio)", j.BillableSeconds, j.Estimate)
	}
	p = mustPlan(t, yaml, Options{NeedPrice: true, PriceBasis: "audio"})
	if j := p.Jobs[0]; j.BillableSeconds != 5 {
		t.Errorf("--price-on audio: priced on %d s", j.BillableSeconds)
	}
	// The 12 s video is over the classic 10 s: a warning, not an error.
	if !strings.Contains(fmt.Sprint(p.Warnings), "video is 12.00 s, outside 2-10 s") {
		t.Errorf("warnings: %v", p.Warnings)
	}
}

// Every problem is reported at once, in file order, with file:line:col.
func TestBadManifestReportsEverything(t *testing.T) {
	data, err := os.ReadFile("testdata/bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("testdata")
	m, err := pipeline.Parse("testdata/bad.yaml", data, dir, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	_, err = Build(context.Background(), m, Options{NeedPrice: true})
	ds, ok := err.(pipeline.Diags)
	if !ok {
		t.Fatalf("want Diags, got %T %v", err, err)
	}
	root, _ := filepath.Abs("..")
	got := strings.ReplaceAll(ds.Error(), root, "<repo>") + "\n"
	if *update {
		os.WriteFile("testdata/bad.golden", []byte(got), 0o644)
	}
	want, _ := os.ReadFile("testdata/bad.golden")
	if got != string(want) {
		t.Errorf("problems differ from testdata/bad.golden (go test -update to accept):\n%s", got)
	}
	for _, must := range []string{
		"jobs[0].numberResults: 5 is out of range 1..4",
		"defaults.outputQuality: 120 is out of range 20..99",
		`jobs[1].outputFormat: "mp4" is not allowed; allowed: MP4|WEBM|MOV (did you mean MP4?)`,
		"ids must be unique",
		"does not exist",
		"width 320 px is outside 512-2160 px",
		"audio is 1.00 s, outside 2-60 s",
		`unknown placeholder {lang}`,
	} {
		if !strings.Contains(got, must) {
			t.Errorf("missing %q", must)
		}
	}
	if n := strings.Count(got, "\n"); n < 20 {
		t.Errorf("only %d problems reported", n)
	}
}

func TestCollisionsAndKeys(t *testing.T) {
	_, err := plan(t, `
output: {url: out, key: "{id}.{ext}"}
jobs:
  - {id: a, video: `+md+`face.mp4, audio: `+md+`speech_4_2s.wav}
  - {id: A.mp4, video: `+md+`face.mp4, audio: `+md+`speech_4_2s.wav, outputFormat: MOV}
  - {id: b, video: `+md+`face.mp4, audio: `+md+`speech_4_2s.wav, uploadEndpoint: "https://x/y"}
  - {id: c, video: `+md+`face.mp4, audio: `+md+`speech_4_2s.wav, uploadEndpoint: "https://x/y"}
`, Options{})
	if err == nil || !strings.Contains(err.Error(), "the same uploadEndpoint is used by jobs[2]") {
		t.Errorf("want an uploadEndpoint collision, got %v", err)
	}
	_, err = plan(t, `
output: {url: out, key: "{name}.{ext}"}
jobs:
  - {id: a, video: `+md+`face.mp4, audio: `+md+`speech_4_2s.wav}
`, Options{})
	if err == nil || !strings.Contains(err.Error(), "must contain {id}") {
		t.Errorf("want a template error, got %v", err)
	}
	_, err = plan(t, `
output: {url: out, key: "x/{index}.{ext}"}
jobs:
  - {id: a, video: `+md+`face.mp4, audio: `+md+`speech_4_2s.wav}
  - {id: b, video: `+md+`face.mp4, audio: `+md+`speech_4_2s.wav}
`, Options{})
	if err != nil {
		t.Errorf("{index} keys are distinct: %v", err)
	}
}

func TestOfflineRemoteNeedsSeconds(t *testing.T) {
	_, err := plan(t, `
output: {url: s3://dubs/out/}
jobs:
  - {id: a, video: s3://media/a.mp4, audio: s3://media/a.wav}
  - {id: b, video: https://cdn.example.com/b.mp4, audio: https://cdn.example.com/b.wav, audioSeconds: 4}
  - {id: c, video: 0b2d7c1e-1111-4222-8333-444455556666, audio: s3://media/c.wav, audioSeconds: 8}
`, Options{NeedPrice: true, Offline: true})
	if err == nil || !strings.Contains(err.Error(), "m.yaml:4:45: jobs[0].audio: cannot learn the audio duration of (offline) the remote input s3://media/a.wav; give audioSeconds") {
		t.Fatalf("got %v", err)
	}
	if strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("only job a is a problem: %v", err)
	}
}

// countingServer serves testdata/media with Range support and counts
// requests and bytes per path.
type countingServer struct {
	mu    sync.Mutex
	reqs  map[string]int
	bytes map[string]int64
}

type countingWriter struct {
	http.ResponseWriter
	n *int64
}

func (w countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	*w.n += int64(n)
	return n, err
}

func (c *countingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var n int64
	http.FileServer(http.Dir("../testdata/media")).ServeHTTP(countingWriter{w, &n}, r)
	c.mu.Lock()
	c.reqs[r.URL.Path]++
	c.bytes[r.URL.Path] += n
	c.mu.Unlock()
}

func TestHTTPInputsProbedInFewRequests(t *testing.T) {
	cs := &countingServer{reqs: map[string]int{}, bytes: map[string]int64{}}
	srv := httptest.NewServer(cs)
	p := mustPlan(t, `
output: {url: out}
jobs:
  - {id: a, video: `+srv.URL+`/face_moov_end.mp4, audio: `+srv.URL+`/tone_12_5s.mp3}
  - {id: b, video: `+srv.URL+`/face.mov, audio: `+srv.URL+`/tone_4_2s.m4a}
  - {id: c, video: `+srv.URL+`/face_moov_end.mp4, audio: `+srv.URL+`/speech_4_2s.wav}
`, Options{NeedPrice: true, HTTPClient: srv.Client()})
	srv.Close() // waits for handlers, so every request is counted
	cs.mu.Lock()
	if a := p.Jobs[0]; a.Video.Width != 1280 || a.Video.Height != 720 || a.BillableSeconds != 13 {
		t.Errorf("a: %+v", a)
	}
	for path, n := range cs.reqs {
		t.Logf("%-22s %d requests, %6d bytes", path, n, cs.bytes[path])
		if n > 3 || cs.bytes[path] > 256<<10 {
			t.Errorf("%s: %d requests, %d bytes; want <= 3 and <= 256 KiB (probed once even when two jobs share it)", path, n, cs.bytes[path])
		}
	}
	if cs.reqs["/face_moov_end.mp4"] == 0 {
		t.Error("video not probed")
	}
	cs.mu.Unlock()
	srv = httptest.NewServer(cs)
	defer srv.Close()
	_, err := plan(t, `
output: {url: out}
jobs:
  - {id: a, video: "`+srv.URL+`/nope.mp4?X-Amz-Signature=secret", audio: `+srv.URL+`/tone_4_2s.m4a}
`, Options{NeedPrice: true, HTTPClient: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), "secret") {
		t.Errorf("missing remote input: %v", err)
	}
}

func TestDeadline(t *testing.T) {
	now := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"06:00":                time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC),
		"23:30":                time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC),
		"2h":                   now.Add(2 * time.Hour),
		"2026-11-26T05:00:00Z": time.Date(2026, 11, 26, 5, 0, 0, 0, time.UTC),
	} {
		got, err := ParseDeadline(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseDeadline(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseDeadline("tomorrow", now); err == nil {
		t.Error("want an error")
	}
}

func TestParseThreshold(t *testing.T) {
	for _, c := range []struct {
		in      string
		ok      bool
		of100   int // allowed failures among 100 selected jobs
		of7     int
		display string
	}{
		{"5", true, 5, 5, "5"},
		{"0", true, 0, 0, "0"},
		{"10%", true, 10, 0, "10%"},
		{"2.5%", true, 2, 0, "2.5%"},
		{"100%", true, 100, 7, "100%"},
		{"101%", false, 0, 0, ""},
		{"1.5", false, 0, 0, ""},
		{"-1", false, 0, 0, ""},
		{"many", false, 0, 0, ""},
	} {
		th, err := ParseThreshold(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseThreshold(%q) error %v, want ok %t", c.in, err, c.ok)
			continue
		}
		if !c.ok {
			continue
		}
		if th.Of(100) != c.of100 || th.Of(7) != c.of7 || th.String() != c.display {
			t.Errorf("%q: Of(100) %d Of(7) %d String %q", c.in, th.Of(100), th.Of(7), th.String())
		}
	}
	if (Threshold{}).Of(10) != -1 {
		t.Error("the zero Threshold must be no limit")
	}
}
