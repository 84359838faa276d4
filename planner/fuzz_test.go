package planner

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dubline/dubline/pipeline"
)

// FuzzPlan checks any manifest, including the partial ones `plan` checks
// after decoding problems, offline: the planner must never panic and must
// return either a plan or problems with positions.
//
//	go test -fuzz FuzzPlan -fuzzminimizetime 2s ./planner
func FuzzPlan(f *testing.F) {
	seeds, _ := filepath.Glob("../pipeline/testdata/*.yaml")
	more, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range append(seeds, more...) {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, _ := pipeline.Parse("f.yaml", data, "testdata", nil)
		if m == nil {
			return
		}
		p, err := Build(context.Background(), m, Options{Offline: true, NeedPrice: true})
		switch {
		case p == nil && err == nil:
			t.Fatal("nil plan and nil error")
		case err != nil:
			ds, ok := err.(pipeline.Diags)
			if !ok || len(ds) == 0 {
				t.Fatalf("error %T %v, want non-empty Diags", err, err)
			}
		}
	})
}
