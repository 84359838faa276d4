package manifestgen

import (
	"bytes"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestGenerateShapeAndSize(t *testing.T) {
	var buf bytes.Buffer
	if err := Generate(&buf, 1000, Options{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Name string
		Jobs []struct {
			ID           string
			Video        string
			Audio        string
			AudioSeconds float64 `yaml:"audioSeconds"`
			Tags         []string
		}
	}
	if err := yaml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("generated manifest is not YAML: %v", err)
	}
	if len(doc.Jobs) != 1000 {
		t.Fatalf("got %d jobs, want 1000", len(doc.Jobs))
	}
	j := doc.Jobs[42]
	if j.ID != "ep000042-es" || j.Video != "s3://media/ep000042.mp4" || j.Audio != "s3://media/ep000042.es.wav" {
		t.Errorf("job 42 = %+v", j)
	}
	seen := map[float64]bool{}
	for _, j := range doc.Jobs {
		if j.AudioSeconds < 2.0 || j.AudioSeconds > 59.9 {
			t.Fatalf("job %s audioSeconds %v outside 2.0..59.9", j.ID, j.AudioSeconds)
		}
		seen[j.AudioSeconds] = true
		if len(j.Tags) != 2 {
			t.Fatalf("job %s tags %v", j.ID, j.Tags)
		}
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct durations; want varied values", len(seen))
	}
	per := buf.Len() / 1000
	if per < 120 || per > 180 {
		t.Errorf("%d bytes per job; want about 150", per)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	var a, b, c bytes.Buffer
	for _, x := range []struct {
		buf  *bytes.Buffer
		seed uint64
	}{{&a, 1}, {&b, 1}, {&c, 2}} {
		if err := Generate(x.buf, 200, Options{Seed: x.seed, Name: "n"}); err != nil {
			t.Fatal(err)
		}
	}
	if a.String() != b.String() {
		t.Error("same seed gave different output")
	}
	if a.String() == c.String() {
		t.Error("different seeds gave the same output")
	}
	if !strings.HasPrefix(a.String(), "version: 1\nname: n\n") {
		t.Errorf("header: %q", a.String()[:40])
	}
}

func TestGenerateNegative(t *testing.T) {
	if err := Generate(&bytes.Buffer{}, -1, Options{}); err == nil {
		t.Error("want an error for n < 0")
	}
}
