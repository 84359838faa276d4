package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dubline/dubline/internal/manifestgen"
)

// TestMain lets the benchmark re-run this test binary as a child that
// does one side of the comparison, so each side's peak RSS is its own.
func TestMain(m *testing.M) {
	if side := os.Getenv("DUBLINE_BENCH_CHILD"); side != "" {
		os.Exit(benchChild(side, os.Getenv("DUBLINE_BENCH_FILE")))
	}
	os.Exit(m.Run())
}

func benchChild(side, path string) int {
	switch side {
	case "yaml": // what yaml.v3 alone needs: decode the file into a yaml.Node
		b, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		var n yaml.Node
		if err := yaml.Unmarshal(b, &n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case "plan": // the real command, table printed to a discarded stdout
		e := env{stdout: io.Discard, stderr: io.Discard, lookup: func(string) (string, bool) { return "", false }}
		if code := run(context.Background(), []string{"plan", "--offline", path}, e); code != ExitOK && code != ExitOverBudget {
			return code
		}
		return 0
	}
	return 2
}

// BenchmarkPlan100k compares `dubline plan --offline` on a 100,000-job
// manifest (~15 MB, audioSeconds given) with yaml.v3 decoding the same
// file into a yaml.Node, in separate processes: wall time and peak RSS.
// Target: both ratios <= 1.5.
//
//	go test -run '^$' -bench Plan100k -benchtime 3x ./cmd/dubline
func BenchmarkPlan100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.yaml")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := manifestgen.Generate(w, 100_000, manifestgen.Options{}); err != nil {
		b.Fatal(err)
	}
	w.Flush()
	f.Close()
	st, _ := os.Stat(path)
	b.Logf("manifest: %.1f MB", float64(st.Size())/1e6)
	var yWall, pWall time.Duration
	var yRSS, pRSS int64
	for b.Loop() {
		w, r := child(b, "yaml", path)
		yWall, yRSS = yWall+w, max(yRSS, r)
		w, r = child(b, "plan", path)
		pWall, pRSS = pWall+w, max(pRSS, r)
	}
	n := float64(b.N)
	b.ReportMetric(yWall.Seconds()/n, "yaml-s")
	b.ReportMetric(pWall.Seconds()/n, "plan-s")
	b.ReportMetric(float64(pWall)/float64(yWall), "wall-ratio")
	b.ReportMetric(float64(yRSS)/(1<<20), "yaml-MiB")
	b.ReportMetric(float64(pRSS)/(1<<20), "plan-MiB")
	b.ReportMetric(float64(pRSS)/float64(yRSS), "rss-ratio")
}

// child runs one side and returns its wall time and peak RSS in bytes.
func child(b *testing.B, side, path string) (time.Duration, int64) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DUBLINE_BENCH_CHILD="+side, "DUBLINE_BENCH_FILE="+path)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s child: %v", side, err)
	}
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return wall, ru.Maxrss << 10 // Linux reports KiB
}
