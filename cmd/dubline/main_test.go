package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dubline/dubline/pipeline"
)

// runCLI runs the command in-process with the given environment.
func runCLI(t *testing.T, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{stdout: &out, stderr: &errb, lookup: func(k string) (string, bool) { v, ok := environ[k]; return v, ok },
		preflight: time.Second}
	code := run(context.Background(), args, e)
	return code, out.String(), errb.String()
}

// Every example is planned (offline where it uses S3) and validated.
func TestExamplesPlan(t *testing.T) {
	ms, _ := filepath.Glob("../../examples/*/manifest.yaml")
	if len(ms) < 3 {
		t.Fatalf("found %d examples", len(ms))
	}
	for _, m := range ms {
		t.Run(filepath.Base(filepath.Dir(m)), func(t *testing.T) {
			if code, _, stderr := runCLI(t, nil, "validate", m); code != ExitOK {
				t.Fatalf("validate: exit %d\n%s", code, stderr)
			}
			code, stdout, stderr := runCLI(t, nil, "plan", "--offline", "--json", m)
			if code != ExitOK {
				t.Fatalf("plan: exit %d\n%s", code, stderr)
			}
			var p struct {
				Jobs      []struct{ PriceUnits int64 }
				PlanTotal struct{ Units int64 }
			}
			if err := json.Unmarshal([]byte(stdout), &p); err != nil {
				t.Fatal(err)
			}
			var sum int64
			for _, j := range p.Jobs {
				if j.PriceUnits <= 0 {
					t.Errorf("unpriced job in %s", m)
				}
				sum += j.PriceUnits
			}
			if len(p.Jobs) == 0 || sum != p.PlanTotal.Units {
				t.Errorf("%d jobs, sum %d, total %d", len(p.Jobs), sum, p.PlanTotal.Units)
			}
		})
	}
}

func TestPlanTableAndBudget(t *testing.T) {
	m := "../../examples/quickstart/manifest.yaml"
	code, stdout, stderr := runCLI(t, nil, "plan", m)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"hello-en  submit  4.20     5         <=5s   1        $0.0462", "3 to run ($0.1848)", "en   2       $0.1386  0.2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "warning: ") || !strings.Contains(stderr, "trimming 0.20 s saves $0.0462") {
		t.Errorf("tier warning missing from stderr: %s", stderr)
	}
	code, _, stderr = runCLI(t, nil, "plan", m, "--budget", "0.10")
	if code != ExitOverBudget || !strings.Contains(stderr, "2 of 3 jobs to run ($0.1848) fit the budget $0.1000") {
		t.Errorf("over budget: exit %d, %s", code, stderr)
	}
	if code, _, _ = runCLI(t, nil, "plan", m, "--budget", "ten"); code != ExitInvalid {
		t.Errorf("bad --budget: exit %d", code)
	}
}

func TestInvalidManifestExit2(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("output: {url: out}\njobs:\n  - id: a\n    video: nope.mp4\n    audio: nope.wav\n    outputQualty: 90\n"), 0o644)
	for _, cmd := range []string{"validate", "plan", "run"} {
		code, stdout, stderr := runCLI(t, nil, cmd, bad)
		if code != ExitInvalid {
			t.Errorf("%s: exit %d, want 2", cmd, code)
		}
		if stdout != "" {
			t.Errorf("%s: problems belong on stderr, stdout had %q", cmd, stdout)
		}
		for _, want := range []string{"bad.yaml:6:5:", `did you mean "outputQuality"`, "nothing was submitted"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", cmd, want, stderr)
			}
		}
	}
	// Decoding problems do not hide the planner's: all in one run.
	mixed := filepath.Join(dir, "mixed.yaml")
	os.WriteFile(mixed, []byte("output: {url: out}\njobs:\n  - id: a\n    video: nope.mp4\n    audio: nope.wav\n    outputQualty: 90\n    numberResults: 7\n"), 0o644)
	code, _, stderr := runCLI(t, nil, "plan", mixed)
	for _, want := range []string{"mixed.yaml:4:12: jobs[0].video: file", "mixed.yaml:5:12: jobs[0].audio: file", "mixed.yaml:6:5: jobs[0]: unknown key", "mixed.yaml:7:20: jobs[0].numberResults: 7 is out of range 1..4", "4 problem(s)"} {
		if code != ExitInvalid || !strings.Contains(stderr, want) {
			t.Errorf("exit %d; stderr lacks %q:\n%s", code, want, stderr)
		}
	}
	if code, _, _ := runCLI(t, nil, "plan"); code != ExitInvalid {
		t.Errorf("no manifest: exit %d", code)
	}
	if code, _, _ := runCLI(t, nil, "frobnicate"); code != ExitInvalid {
		t.Errorf("unknown command: exit %d", code)
	}
}

func TestRunNeedsAPIKey(t *testing.T) {
	dir := copyQuickstart(t)
	code, _, stderr := runCLI(t, nil, "run", filepath.Join(dir, "manifest.yaml"))
	if code != ExitInvalid || !strings.Contains(stderr, "RUNWARE_API_KEY is not set") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	code, _, stderr = runCLI(t, map[string]string{"RUNWARE_API_KEY": "k-123", "RUNWARE_API_URL": "http://127.0.0.1:1/v1"}, "run", filepath.Join(dir, "manifest.yaml"))
	if code != ExitInvalid || !strings.Contains(stderr, "Runware API at http://127.0.0.1:1/v1") || strings.Contains(stderr, "k-123") {
		t.Errorf("unreachable API: exit %d: %s", code, stderr)
	}
	notADir := filepath.Join(dir, "manifest.yaml", "state")
	code, _, stderr = runCLI(t, nil, "run", "--sandbox", "--state", notADir, filepath.Join(dir, "manifest.yaml"))
	if code != ExitInvalid || !strings.Contains(stderr, "state directory") {
		t.Errorf("unusable state dir: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(dir, "out"))
		if len(entries) > 0 {
			t.Errorf("outputs written although nothing should have run")
		}
	}
}

// The README's first command: the quick start runs end to end offline.
func TestQuickstartSandbox(t *testing.T) {
	dir := copyQuickstart(t)
	m := filepath.Join(dir, "manifest.yaml")
	report := filepath.Join(dir, "report.json")
	code, _, stderr := runCLI(t, nil, "run", "--sandbox", m, "--report", report)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, id := range []string{"hello-en", "hola-es", "tone-5s"} {
		st, err := os.Stat(filepath.Join(dir, "out", id+".mp4"))
		if err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", id, err)
		}
	}
	var rep map[string]any
	b, err := os.ReadFile(report)
	if err != nil || json.Unmarshal(b, &rep) != nil {
		t.Fatalf("report: %v", err)
	}
	// A second run finds everything done and pays nothing.
	code, stdout, stderr := runCLI(t, nil, "run", "--sandbox", m, "--json")
	if code != ExitOK || !strings.Contains(stderr, "3 already done") || !strings.HasSuffix(stderr, "exit code 0\n") {
		t.Errorf("rerun: exit %d\n%s", code, stderr)
	}
	if !json.Valid([]byte(stdout)) {
		t.Errorf("--json output is not JSON: %q", stdout)
	}
	code, stdout, _ = runCLI(t, nil, "status", "--sandbox", m)
	if code != ExitOK || !strings.Contains(stdout, "3 succeeded") {
		t.Errorf("status: exit %d: %s", code, stdout)
	}
	// A rehearsal's journal is its own: a real run must not skip jobs
	// because the sandbox "succeeded" at them.
	if _, err := os.Stat(filepath.Join(dir, ".dubline", "sandbox", "quickstart.journal.jsonl")); err != nil {
		t.Errorf("sandbox journal not under .dubline/sandbox: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".dubline", "quickstart.journal.jsonl")); err == nil {
		t.Error("the sandbox wrote the real run's journal")
	}
	// A typo in --ids is a usage error, not a run of nothing.
	code, _, stderr = runCLI(t, nil, "run", "--sandbox", m, "--ids", "hello-en,nope")
	if code != ExitInvalid || !strings.Contains(stderr, "no job with id nope") {
		t.Errorf("--ids typo: exit %d: %s", code, stderr)
	}
}

func TestSchemaCopyInExamples(t *testing.T) {
	code, stdout, _ := runCLI(t, nil, "schema")
	if code != ExitOK || !json.Valid([]byte(stdout)) {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile("../../examples/manifest.schema.json")
	if err != nil || !bytes.Equal(b, pipeline.Schema) {
		t.Errorf("examples/manifest.schema.json differs from `dubline schema`: go run ./cmd/dubline schema > examples/manifest.schema.json")
	}
}

// copyQuickstart copies examples/quickstart into a temp dir so tests do
// not write outputs or journals into the repository.
func copyQuickstart(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := "../../examples/quickstart"
	filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if strings.HasPrefix(rel, "out") || strings.HasPrefix(rel, ".dubline") {
			return filepath.SkipDir
		}
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	return dir
}

// Every setting is checked once, where it is defined: a bad manifest
// version is one problem, and a flag that overrides a manifest value is
// checked like that value, positioned at the command line.
func TestSettingsCheckedOnce(t *testing.T) {
	dir := copyQuickstart(t)
	m := filepath.Join(dir, "manifest.yaml")
	b, _ := os.ReadFile(m)
	v2 := filepath.Join(dir, "v2.yaml")
	if !bytes.Contains(b, []byte("version: 1\n")) {
		t.Fatal("the quick start manifest has no version: 1")
	}
	os.WriteFile(v2, bytes.Replace(b, []byte("version: 1\n"), []byte("version: 2\n"), 1), 0o644)
	code, _, stderr := runCLI(t, nil, "validate", v2)
	if code != ExitInvalid || strings.Count(stderr, ": version: ") != 1 || !strings.Contains(stderr, "1 problem(s)") {
		t.Errorf("version 2: exit %d:\n%s", code, stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--sandbox", "--concurrency", "-1", m}, "command line: --concurrency: -1 is out of range 1..1000"},
		{[]string{"run", "--sandbox", "--concurrency", "1001", m}, "command line: --concurrency: 1001 is out of range 1..1000"},
		{[]string{"plan", "--budget", "0", m}, "command line: --budget: a budget of $0 allows nothing"},
		{[]string{"plan", "--price-on", "video", m}, `command line: --price-on: "video" is not allowed; allowed: audio|max`},
		{[]string{"run", "--sandbox", "--only", "everything", m}, `--only "everything" is not allowed; allowed: failed, pending, changed`},
		{[]string{"run", "--sandbox", "--shard", "2/2", m}, `--shard "2/2": want I/N with 0 <= I < N`},
	} {
		code, _, stderr := runCLI(t, nil, c.args...)
		if code != ExitInvalid || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", c.args, code, c.want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("a run with a bad flag wrote outputs")
	}
}
