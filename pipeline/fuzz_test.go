package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must
// return a manifest or Diags (never both, never neither), every Diag must
// have a position in a known file, and the chunked fast path must agree
// with the whole-file parse.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// dir "testdata" lets jobsFrom entries reach the test CSV/JSONL files.
		m, err := Parse("f.yaml", data, "testdata", testEnv)
		switch {
		case m == nil && err == nil:
			t.Fatal("nil manifest and nil error")
		case err != nil:
			ds, ok := err.(Diags)
			if !ok || len(ds) == 0 {
				t.Fatalf("error %T %v, want non-empty Diags", err, err)
			}
			for _, d := range ds {
				if d.Pos.File == "" || d.Msg == "" {
					t.Fatalf("diag without file or message: %+v", d)
				}
			}
		default:
			for i, j := range m.Jobs {
				if j.Index != i || j.Path == "" || !strings.HasPrefix(j.ID.Path, j.Path) && !j.ID.Set {
					t.Fatalf("job %d: index %d path %q id path %q", i, j.Index, j.Path, j.ID.Path)
				}
			}
		}
		if len(data) < 4096 {
			whole, chunked := parseBothWays(t, "f.yaml", data, 1)
			if whole != chunked {
				t.Fatalf("chunked parse differs\n--- whole:\n%s\n--- chunked:\n%s", whole, chunked)
			}
		}
	})
}
