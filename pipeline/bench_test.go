package pipeline

import (
	"bytes"
	"sync"
	"testing"

	"github.com/dubline/dubline/internal/manifestgen"
	"gopkg.in/yaml.v3"
)

var (
	bench100kOnce sync.Once
	bench100k     []byte
)

// manifest100k is a generated 100,000-job manifest (~15 MB), made once.
func manifest100k(b *testing.B) []byte {
	bench100kOnce.Do(func() {
		var buf bytes.Buffer
		if err := manifestgen.Generate(&buf, 100_000, manifestgen.Options{}); err != nil {
			b.Fatal(err)
		}
		bench100k = buf.Bytes()
	})
	return bench100k
}

// BenchmarkYAMLNode100k is the baseline: yaml.v3 parsing the manifest into
// a yaml.Node tree and nothing else.
func BenchmarkYAMLNode100k(b *testing.B) {
	data := manifest100k(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse100k is the full decode of the same bytes: Parse should
// stay within ~1.3x of BenchmarkYAMLNode100k in time and memory.
func BenchmarkParse100k(b *testing.B) {
	data := manifest100k(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse("bench.yaml", data, ".", nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Jobs) != 100_000 {
			b.Fatalf("got %d jobs", len(m.Jobs))
		}
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "jobs/s")
}
