package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parseBothWays parses data whole and chunked (chunks of chunkSize jobs)
// and returns both results as text.
func parseBothWays(t testing.TB, file string, data []byte, chunkSize int) (whole, chunked string) {
	t.Helper()
	defer func(minBytes, jobs int) { chunkMinBytes, chunkJobs = minBytes, jobs }(chunkMinBytes, chunkJobs)
	render := func() string {
		m, err := Parse(file, data, filepath.Dir(file), testEnv)
		if err != nil {
			return "ERR\n" + err.Error()
		}
		return dump(m)
	}
	chunkMinBytes = 1 << 62
	whole = render()
	chunkMinBytes, chunkJobs = 0, chunkSize
	chunked = render()
	return whole, chunked
}

// fastPathTaken reports whether data decodes on the chunked path.
func fastPathTaken(data []byte, chunkSize int) bool {
	defer func(jobs int) { chunkJobs = jobs }(chunkJobs)
	chunkJobs = chunkSize
	b, ok := findJobsBlock(data)
	if !ok {
		return false
	}
	st := &state{env: testEnv}
	_, err := st.parseChunked("x.yaml", data, ".", b)
	return err == nil
}

// TestChunkedMatchesWhole checks that the chunked fast path gives exactly
// what a whole-file parse gives, for every testdata manifest and for
// shapes the line scan must handle (or refuse) correctly.
func TestChunkedMatchesWhole(t *testing.T) {
	inputs := map[string]string{}
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = string(b)
	}
	for name, s := range map[string]string{
		"compact":       "output: {url: o/}\njobs:\n- id: a\n  video: v\n  audio: a\n- id: b\n  video: v\n  audio: a\nname: tail\n",
		"comments":      "jobs: # list\n  # first\n  - id: a\n# col0 comment\n  - id: b\n    video: v # x\n\n  - id: c\nname: n\n",
		"anchorAcross":  "jobs:\n  - &j {id: a, video: v, audio: a}\n  - *j\n  - <<: *j\n    id: c\n",
		"defaultsAlias": "defaults: &d {outputQuality: 90}\njobs:\n  - {id: a, <<: *d}\n  - {id: b}\n",
		"quoted":        "jobs:\n  - id: \"a\n  - b\"\n    video: v\n  - id: c\n",
		"blockScalar":   "jobs:\n  - id: |\n      - not an item\n    video: v\n  - id: b\n",
		"badIndent":     "jobs:\n  - id: a\n  video: v\n  - id: b\n",
		"dupJobs":       "jobs:\n  - id: a\njobs:\n  - id: b\n",
		"secondDoc":     "jobs:\n  - id: a\n---\njobs:\n  - id: b\n",
		"leadingDoc":    "---\njobs:\n  - id: a\n  - id: b\nname: x\n",
		"tailError":     "jobs:\n  - id: a\n  - id: b\nname: [x\n",
		"crlf":          "jobs:\r\n  - id: a\r\n    video: v\r\n  - id: b\r\nname: x\r\n",
		"typeErrors":    "jobs:\n  - id: a\n    outputQuality: \"9\"\n  - id: b\n    outputQuality: 9.5\n  - vidoe: x\nlimits: {concurrency: x}\n",
		"nullItem":      "jobs:\n  -\n  - id: b\n  - 5\n",
	} {
		inputs[name+".yaml"] = s
	}
	fast := map[string]bool{"compact.yaml": true, "comments.yaml": true, "blockScalar.yaml": true,
		"leadingDoc.yaml": true, "crlf.yaml": true, "typeErrors.yaml": true, "nullItem.yaml": true,
		"testdata/full.yaml": true, "testdata/minimal.yaml": true, "testdata/bad_types.yaml": true,
		"anchorAcross.yaml": false, "defaultsAlias.yaml": false, "quoted.yaml": false, "badIndent.yaml": false,
		"dupJobs.yaml": false, "secondDoc.yaml": false, "tailError.yaml": false, "testdata/anchors.yaml": false}
	for name, s := range inputs {
		if want, ok := fast[name]; ok && fastPathTaken([]byte(s), 1) != want {
			t.Errorf("%s: fast path taken = %v, want %v", name, !want, want)
		}
		for _, size := range []int{1, 2, 1024} {
			whole, chunked := parseBothWays(t, name, []byte(s), size)
			if whole != chunked {
				t.Errorf("%s (chunks of %d): chunked parse differs\n--- whole:\n%s\n--- chunked:\n%s", name, size, whole, chunked)
			}
		}
	}
}

// TestFindJobsBlock checks the line scan's cut of a simple manifest.
func TestFindJobsBlock(t *testing.T) {
	defer func(n int) { chunkJobs = n }(chunkJobs)
	chunkJobs = 2
	data := "name: x\njobs:\n  - id: a\n  - id: b\n    video: v\n  - id: c\nlimits: {}\n"
	b, ok := findJobsBlock([]byte(data))
	if !ok {
		t.Fatal("scan refused a simple manifest")
	}
	if got := data[b.start:b.end]; !strings.HasPrefix(got, "  - id: a") || !strings.HasSuffix(got, "  - id: c\n") {
		t.Errorf("items = %q", got)
	}
	if b.count != 3 || len(b.chunks) != 2 || b.chunks[0].count != 2 || b.chunks[1].line != 6 || b.endLine != 7 {
		t.Errorf("block = %+v", b)
	}
	for _, bad := range []string{"jobs: [a]\n", "name: x\n", "jobs:\n\t- a\n", "%YAML 1.2\n---\njobs:\n - a\n"} {
		if _, ok := findJobsBlock([]byte(bad)); ok {
			t.Errorf("scan accepted %q", bad)
		}
	}
}
