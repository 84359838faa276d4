package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportShapes checks job order, Index, Path, Pos and Dir for jobs
// from the manifest and from CSV/JSONL files in another directory, with a
// byte-order mark, CRLF line ends, blank lines and a single tags string.
func TestImportShapes(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "lists")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, sub, "a.csv", "\uFEFFid,video,audio,tags,audioSeconds\r\nc0,v0,a0,es|s1 ; x,4.5\r\n\r\nc1,v1,a1,,\r\n")
	writeFile(t, sub, "b.ndjson", "\n{\"id\": \"j0\", \"video\": \"v\", \"audio\": \"a\", \"tags\": \"solo\"}\n\n")
	src := "jobs:\n  - {id: m0, video: v, audio: a}\njobsFrom: [lists/a.csv, lists/b.ndjson]\n"
	m, err := Parse(filepath.Join(dir, "m.yaml"), []byte(src), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range m.Jobs {
		rel, _ := filepath.Rel(dir, j.Dir)
		got = append(got, strings.Join([]string{j.ID.V, j.Path, strings.TrimPrefix(j.Pos.String(), dir+"/"), rel, strings.Join(j.Tags.V, "+")}, " "))
		if j.Index != len(got)-1 {
			t.Errorf("%s: Index %d, want %d", j.ID.V, j.Index, len(got)-1)
		}
	}
	want := []string{
		"m0 jobs[0] m.yaml:2:5 . ",
		"c0 jobsFrom[0][0] lists/a.csv:2 lists es+s1+x",
		"c1 jobsFrom[0][1] lists/a.csv:4 lists ",
		"j0 jobsFrom[1][0] lists/b.ndjson:2 lists solo",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	c0 := m.Jobs[1]
	if c0.AudioSeconds.V != 4.5 || c0.AudioSeconds.Pos.String() != filepath.Join(sub, "a.csv")+":2:5" || c0.AudioSeconds.Path != "jobsFrom[0][0].audioSeconds" {
		t.Errorf("audioSeconds = %+v", c0.AudioSeconds)
	}
	if m.Jobs[2].AudioSeconds.Set || m.Jobs[2].Tags.Set {
		t.Errorf("empty cells must stay unset: %+v %+v", m.Jobs[2].AudioSeconds, m.Jobs[2].Tags)
	}
}

func TestImportBadFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "empty.csv", "")
	writeFile(t, dir, "dup.csv", "id,id,video\n")
	writeFile(t, dir, "bad.jsonl", "{\"id\": 1, \"tags\": [\"a\", null]}\n{\"safety\": {\"mode\": 5, \"x\": 1}}\n")
	src := "jobsFrom: [empty.csv, dup.csv, bad.jsonl]\n"
	_, err := Parse("m.yaml", []byte(src), dir, nil)
	want := strings.Join([]string{
		dir + "/empty.csv: jobsFrom[0]: file is empty; it needs a header row naming the columns (id, video, audio, ...)",
		dir + `/dup.csv:1:2: jobsFrom[1]: duplicate column "id" (first is column 1)`,
		dir + "/bad.jsonl:1: jobsFrom[2][0].tags: each tag must be a string, got null",
		dir + `/bad.jsonl:2: jobsFrom[2][1].safety: unknown key "x"; allowed keys: checkContent, mode`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}
