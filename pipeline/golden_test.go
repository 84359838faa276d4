package pipeline

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dubline/dubline/kling"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// testEnv is the environment every golden manifest sees.
func testEnv(k string) (string, bool) {
	v, ok := map[string]string{
		"RUN_NAME":    "nightly-es",
		"BUCKET":      "dubs-prod",
		"SUFFIX":      "",
		"CONCURRENCY": "6",
		"TIMEOUT":     "",
		"LANG_CODE":   "es",
		"MEDIA":       "s3://media",
	}[k]
	return v, ok
}

// TestGolden loads every testdata/*.yaml and compares the decoded manifest
// (good files) or the diagnostics (bad_*.yaml) with testdata/<name>.golden.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			m, err := Load(file, testEnv)
			var got string
			bad := strings.HasPrefix(name, "bad")
			switch {
			case err != nil:
				if _, ok := err.(Diags); !ok {
					t.Fatalf("error is %T, want Diags", err)
				}
				if !bad {
					t.Fatalf("unexpected problems:\n%v", err)
				}
				got = err.Error() + "\n"
			default:
				if bad {
					t.Fatalf("%s decoded without problems", file)
				}
				got = dump(m)
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (-update rewrites it)\n--- got:\n%s\n--- want:\n%s", golden, got, want)
			}
		})
	}
}

// dump prints every set field of m with its path and position, one a line.
func dump(m *Manifest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "file %s dir %s jobs %d\n", m.File, m.Dir, len(m.Jobs))
	dumpFields(&b, reflect.ValueOf(*m))
	for _, j := range m.Jobs {
		fmt.Fprintf(&b, "job %d %s at %s dir %s\n", j.Index, j.Path, j.Pos, j.Dir)
		dumpFields(&b, reflect.ValueOf(j))
	}
	return b.String()
}

func dumpFields(b *strings.Builder, v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if ps, ok := f.Interface().(Params); ok {
			dumpParams(b, &ps)
			continue
		}
		if f.Kind() != reflect.Struct {
			continue
		}
		if f.FieldByName("Set").IsValid() && f.FieldByName("V").IsValid() {
			if f.FieldByName("Set").Bool() {
				fmt.Fprintf(b, "  %s = %#v @ %v\n", f.FieldByName("Path").String(), f.FieldByName("V").Interface(), f.FieldByName("Pos").Interface())
			}
			continue
		}
		if v.Type().Field(i).Name != "Pos" {
			dumpFields(b, f)
		}
	}
}

func dumpParams(b *strings.Builder, ps *Params) {
	for i, f := range ps {
		if !f.Set {
			continue
		}
		var v any = f.V.N
		switch kling.Params[i].Kind {
		case kling.String:
			v = f.V.Str()
		case kling.Int:
			v = f.V.Int()
		case kling.Bool:
			v = f.V.Bool()
		}
		fmt.Fprintf(b, "  %s = %#v @ %v\n", f.Path, v, f.Pos)
	}
}
