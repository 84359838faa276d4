package pipeline

import (
	"slices"
	"testing"
)

func TestExpand(t *testing.T) {
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"A": "alpha", "EMPTY": "", "B_2": "b"}[k]
		return v, ok
	}
	for _, tc := range []struct {
		in, want string
		probs    []string
	}{
		{"plain", "plain", nil},
		{"${A}", "alpha", nil},
		{"x-${A}-${B_2}-y", "x-alpha-b-y", nil},
		{"$${A}", "${A}", nil},
		{"cost$5 and $", "cost$5 and $", nil},
		{"$$$$", "$$", nil},
		{"${MISSING:-def}", "def", nil},
		{"${EMPTY:-def}", "def", nil},
		{"${EMPTY}", "", nil},
		{"${A:-def}", "alpha", nil},
		{"${MISSING:-}", "", nil},
		{"${MISSING}", "${MISSING}", []string{"environment variable MISSING is not set"}},
		{"${A}${X}${Y}", "alpha${X}${Y}", []string{"environment variable X is not set", "environment variable Y is not set"}},
		{"${9A}", "${9A}", []string{`invalid environment variable name "9A" in ${...}`}},
		{"${}", "${}", []string{`invalid environment variable name "" in ${...}`}},
		{"a${A", "a${A", []string{"unterminated ${ (write $$ for a literal $)"}},
	} {
		got, probs := expand(tc.in, env)
		if got != tc.want || !slices.Equal(probs, tc.probs) {
			t.Errorf("expand(%q) = %q, %q; want %q, %q", tc.in, got, probs, tc.want, tc.probs)
		}
	}
}

// TestEnvInJobsFrom checks ${VAR}s in jobsFrom entries and in CSV and
// JSONL cells, and that typed fields take expanded numbers.
func TestEnvInJobsFrom(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pairs-es.csv", "id,video,audio,outputQuality\nc1,${MEDIA}/c1.mp4,c1.wav,${Q}\n")
	writeFile(t, dir, "more.jsonl", `{"id": "j1", "video": "${MEDIA}/j1.mp4", "audio": "j1.wav", "outputQuality": "${Q}"}`+"\n")
	src := "jobsFrom:\n  - pairs-${LANG}.csv\n  - more.jsonl\n"
	env := mapEnv(map[string]string{"LANG": "es", "MEDIA": "s3://m", "Q": "77"})
	m, err := Parse("m.yaml", []byte(src), dir, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Jobs) != 2 {
		t.Fatalf("got %d jobs", len(m.Jobs))
	}
	for _, j := range m.Jobs {
		if j.Video.V[:6] != "s3://m" || j.Params.Get("outputQuality").V.Int() != 77 {
			t.Errorf("%s: video %q quality %d", j.Path, j.Video.V, j.Params.Get("outputQuality").V.Int())
		}
	}
	_, err = Parse("m.yaml", []byte(src), dir, mapEnv(map[string]string{"LANG": "es", "Q": "x"}))
	want := dir + "/pairs-es.csv:2:2: jobsFrom[0][0].video: environment variable MEDIA is not set\n" +
		dir + `/pairs-es.csv:2:4: jobsFrom[0][0].outputQuality: must be an integer, got "x" (a string), expanded from "${Q}"` + "\n" +
		dir + "/more.jsonl:1: jobsFrom[1][0].video: environment variable MEDIA is not set\n" +
		dir + `/more.jsonl:1: jobsFrom[1][0].outputQuality: must be an integer, got "x" (a string), expanded from "${Q}"`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}
