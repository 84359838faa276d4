package planner

import (
	"bytes"
	"context"
	"testing"

	"github.com/dubline/dubline/internal/manifestgen"
	"github.com/dubline/dubline/pipeline"
)

// BenchmarkBuild100k measures planner.Build alone (offline) on a decoded
// 100,000-job manifest; cmd/dubline's BenchmarkPlan100k measures the whole
// command against yaml.v3 in separate processes.
func BenchmarkBuild100k(b *testing.B) {
	var buf bytes.Buffer
	if err := manifestgen.Generate(&buf, 100_000, manifestgen.Options{}); err != nil {
		b.Fatal(err)
	}
	m, err := pipeline.Parse("big.yaml", buf.Bytes(), b.TempDir(), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(context.Background(), m, Options{Offline: true, NeedPrice: true}); err != nil {
			b.Fatal(err)
		}
	}
}
