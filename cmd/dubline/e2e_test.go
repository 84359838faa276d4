package main

// End-to-end tests of `dubline run`: the real binary as a child process,
// the Runware emulator over HTTP in this test process, and versitygw (a
// real S3 API that checks SigV4) for inputs, staging and outputs. Killing
// the child with SIGKILL at chosen moments proves the journal and resume.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dubline/dubline/internal/s3test"
	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/runware/emulator"
)

const e2eKey = "rw-test-key-0123456789"

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// dublineBinary builds the command once per test process.
func dublineBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dubline-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "dubline")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// gate wraps the emulator. With holdSubmits set, a videoInference request
// is fully processed (tasks accepted, billed on success) but its reply is
// withheld, which is the window between "the submit left" and "the
// journal recorded the ack".
type gate struct {
	em          *emulator.Emulator
	mu          sync.Mutex
	holdSubmits bool
	held        chan struct{} // closed when a submit is being held
	release     chan struct{}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	g.mu.Lock()
	hold := g.holdSubmits && bytes.Contains(body, []byte(`"videoInference"`))
	g.mu.Unlock()
	if !hold {
		g.em.ServeHTTP(w, r)
		return
	}
	g.em.ServeHTTP(httptest.NewRecorder(), r) // accepted; the client never hears
	g.mu.Lock()
	select {
	case <-g.held:
	default:
		close(g.held)
	}
	g.mu.Unlock()
	select {
	case <-g.release:
	case <-r.Context().Done():
	}
}

type e2e struct {
	t        *testing.T
	bin      string
	s3       *s3test.Server
	em       *emulator.Emulator
	gate     *gate
	api      *httptest.Server
	dir      string
	manifest string
	env      []string
}

// newE2E starts versitygw with buckets media and dubs, uploads the input
// media, starts the emulator and writes a manifest with n jobs: job 0 uses
// a local audio file (staged to S3), the others s3:// inputs.
func newE2E(t *testing.T, n int, extra string, eo emulator.Options) *e2e {
	t.Helper()
	e := &e2e{t: t, bin: dublineBinary(t), dir: t.TempDir()}
	e.s3 = s3test.Start(t, "media", "dubs")
	for name, ct := range map[string]string{"face.mp4": "video/mp4", "speech_4_2s.wav": "audio/wav", "tone_5_2s.m4a": "audio/mp4"} {
		b, err := os.ReadFile("../../testdata/media/" + name)
		if err != nil {
			t.Fatal(err)
		}
		e.s3.Put(t, "media", "in/"+name, b, ct)
	}
	local, _ := os.ReadFile("../../testdata/media/speech_4_2s.wav")
	os.WriteFile(filepath.Join(e.dir, "local.wav"), local, 0o644)

	if eo.Latency == 0 {
		eo.Latency = 300 * time.Millisecond
	}
	eo.APIKey = e2eKey
	e.gate = &gate{held: make(chan struct{}), release: make(chan struct{})}
	e.api = httptest.NewUnstartedServer(e.gate)
	e.api.Start()
	eo.PublicURL = e.api.URL
	e.em = emulator.New(eo)
	e.gate.em = e.em
	t.Cleanup(func() {
		e.gate.mu.Lock()
		select {
		case <-e.gate.release:
		default:
			close(e.gate.release)
		}
		e.gate.mu.Unlock()
		e.api.Close()
		e.em.Close()
	})

	var jobs strings.Builder
	for i := range n {
		audio := "s3://media/in/speech_4_2s.wav"
		if i == 0 {
			audio = "local.wav"
		}
		fmt.Fprintf(&jobs, "  - {id: job-%02d, video: s3://media/in/face.mp4, audio: %s, tags: [t%d]}\n", i, audio, i%2)
	}
	m := fmt.Sprintf(`version: 1
name: e2e
output:
  url: s3://dubs/out/
  endpoint: %s
  region: us-east-1
  pathStyle: true
  staging: s3://dubs/staging/
limits:
  concurrency: 4
%s
jobs:
%s`, e.s3.Endpoint, extra, jobs.String())
	e.manifest = filepath.Join(e.dir, "manifest.yaml")
	os.WriteFile(e.manifest, []byte(m), 0o644)
	e.env = append(os.Environ(), e.s3.Env()...)
	e.env = append(e.env, "RUNWARE_API_URL="+e.api.URL+"/v1", "RUNWARE_API_KEY="+e2eKey)
	return e
}

func (e *e2e) cmd(args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	base := []string{"run", e.manifest, "--poll-delay", "200ms", "--poll-interval", "200ms", "--report", filepath.Join(e.dir, "report.json")}
	c := exec.Command(e.bin, append(base, args...)...)
	c.Env = e.env
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	return c, &out, &errb
}

// run runs `dubline run` to the end and returns its exit code and stderr.
func (e *e2e) run(args ...string) (int, string) {
	e.t.Helper()
	c, _, errb := e.cmd(args...)
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	e.checkNoSecrets(errb.String())
	return code, errb.String()
}

func (e *e2e) checkNoSecrets(stderr string) {
	e.t.Helper()
	files := []string{filepath.Join(e.dir, ".dubline", "e2e.journal.jsonl"), filepath.Join(e.dir, "report.json")}
	texts := []string{stderr}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		texts = append(texts, string(b))
	}
	for i, s := range texts {
		for _, secret := range []string{e2eKey, "X-Amz-Signature", "X-Amz-Credential", s3test.SecretKey} {
			if strings.Contains(s, secret) {
				e.t.Errorf("secret %q leaked into %s", secret, append([]string{"stderr"}, files...)[i])
			}
		}
	}
}

// outputs asserts that every job's output object is in the bucket with a
// video body and content type.
func (e *e2e) outputs(n int) {
	e.t.Helper()
	want, _ := os.ReadFile("../../testdata/media/face.mp4")
	for i := range n {
		body, ct := e.s3.Get(e.t, "dubs", fmt.Sprintf("out/job-%02d.mp4", i))
		if len(body) == 0 || ct != "video/mp4" {
			e.t.Errorf("job-%02d: %d bytes, content type %q", i, len(body), ct)
		}
		if !bytes.Equal(body, want) { // the emulator without ffmpeg returns the source video
			e.t.Errorf("job-%02d: output differs from the generated video (%d bytes)", i, len(body))
		}
	}
}

// billedOnce asserts the emulator accepted and billed each task once, and
// that the number of billed tasks is jobs.
func (e *e2e) billedOnce(jobs int) emulator.Stats {
	e.t.Helper()
	st := e.em.Stats()
	for uuid, n := range st.AcceptedByUUID {
		if n != 1 {
			e.t.Errorf("task %s accepted %d times", uuid, n)
		}
	}
	if len(st.BilledByUUID) != jobs {
		e.t.Errorf("%d tasks billed, want %d (one per job)", len(st.BilledByUUID), jobs)
	}
	if want := kling.Price(jobs) * 462; st.CostBilled != want {
		e.t.Errorf("billed %s, want %s", st.CostBilled, want)
	}
	return st
}

func (e *e2e) journal() string {
	b, _ := os.ReadFile(filepath.Join(e.dir, ".dubline", "e2e.journal.jsonl"))
	return string(b)
}

func TestE2ERunS3(t *testing.T) {
	e := newE2E(t, 5, "", emulator.Options{})
	code, stderr := e.run()
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	e.outputs(5)
	e.billedOnce(5)
	// The local input was staged once, content-addressed.
	if !strings.Contains(stderr, "5 succeeded") {
		t.Errorf("summary: %s", stderr)
	}
	var rep struct {
		Jobs []struct {
			ID, State, TaskUUID string
			Outputs             []struct{ Key string }
		}
	}
	b, _ := os.ReadFile(filepath.Join(e.dir, "report.json"))
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Jobs) != 5 {
		t.Fatalf("report: %v\n%s", err, b)
	}
	// Rerun: nothing is submitted again, nothing paid.
	before := e.em.Stats().TasksAccepted
	code, stderr = e.run()
	if code != ExitOK || !strings.Contains(stderr, "5 already done") || e.em.Stats().TasksAccepted != before {
		t.Errorf("rerun: exit %d, accepted %d -> %d\n%s", code, before, e.em.Stats().TasksAccepted, stderr)
	}
}

// Crash after the submit left, before the journal recorded the ack: the
// resumed run re-sends the same taskUUIDs, gets 409, polls: billed once.
func TestE2ECrashAfterSubmitBeforeAck(t *testing.T) {
	e := newE2E(t, 3, "", emulator.Options{})
	e.gate.mu.Lock()
	e.gate.holdSubmits = true
	e.gate.mu.Unlock()
	c, _, _ := e.cmd()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.gate.held:
	case <-time.After(60 * time.Second):
		c.Process.Kill()
		t.Fatal("no submit reached the emulator")
	}
	time.Sleep(100 * time.Millisecond) // let the rest of the batch land too
	c.Process.Kill()
	c.Wait()
	if j := e.journal(); !strings.Contains(j, `"ev":"submitting"`) || strings.Contains(j, `"ev":"accepted"`) {
		t.Fatalf("journal should hold submitting without accepted:\n%s", j)
	}
	accepted := e.em.Stats().TasksAccepted
	if accepted == 0 {
		t.Fatal("the emulator accepted nothing before the crash")
	}
	e.gate.mu.Lock()
	e.gate.holdSubmits = false
	close(e.gate.release)
	e.gate.mu.Unlock()

	code, stderr := e.run()
	if code != ExitOK {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	st := e.billedOnce(3)
	if st.DuplicatesRefused < accepted {
		t.Errorf("%d re-sends refused as duplicates, want >= %d (same taskUUIDs re-sent)", st.DuplicatesRefused, accepted)
	}
	e.outputs(3)
}

// Crash while polling: the resumed run polls the journalled tasks and
// never submits them again.
func TestE2ECrashWhilePolling(t *testing.T) {
	e := newE2E(t, 3, "", emulator.Options{Latency: 3 * time.Second})
	c, _, _ := e.cmd()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for e.em.Stats().GetResponseCalls == 0 || e.em.Stats().TasksAccepted < 3 {
		if time.Now().After(deadline) {
			c.Process.Kill()
			t.Fatal("never started polling")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.Process.Kill()
	c.Wait()
	if !strings.Contains(e.journal(), `"ev":"accepted"`) {
		t.Fatalf("journal has no accepted record:\n%s", e.journal())
	}
	code, stderr := e.run()
	if code != ExitOK {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	st := e.billedOnce(3)
	if st.TasksAccepted != 3 || st.DuplicatesRefused != 0 {
		t.Errorf("accepted %d, duplicates %d: a resumed run must poll, not resubmit", st.TasksAccepted, st.DuplicatesRefused)
	}
	e.outputs(3)
}

// The budget binds exactly: two jobs fit, the third is not submitted
// (exit 4, pending), and runs on a later invocation with more budget.
func TestE2EBudgetExactlyReached(t *testing.T) {
	e := newE2E(t, 3, "  budgetUSD: 0.0924", emulator.Options{})
	code, stderr := e.run("--concurrency", "1")
	if code != ExitOverBudget {
		t.Fatalf("exit %d, want 4\n%s", code, stderr)
	}
	if st := e.em.Stats(); st.TasksAccepted != 2 || st.CostBilled != 924 {
		t.Errorf("accepted %d, billed %s; want 2 jobs, $0.0924", st.TasksAccepted, st.CostBilled)
	}
	if !strings.Contains(stderr, "1 pending") {
		t.Errorf("summary should show 1 pending:\n%s", stderr)
	}
	code, stderr = e.run("--budget", "0.1386")
	if code != ExitOK {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	e.billedOnce(3)
	e.outputs(3)
}

// 402 mid-run (the balance was enough at preflight, then another user of
// the account spent it) stops the run; the exit code and the report say
// why.
func TestE2EInsufficientCredits(t *testing.T) {
	e := newE2E(t, 4, "", emulator.Options{Latency: time.Second})
	c, _, errb := e.cmd("--concurrency", "1")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, "the first task accepted", func() bool { return e.em.Stats().TasksAccepted >= 1 })
	e.em.SetBalance(462) // one more job, then 402
	code, stderr := exitCode(c.Wait()), errb.String()
	e.checkNoSecrets(stderr)
	if code != ExitFailed || !strings.Contains(stderr, "insufficientCredits") {
		t.Fatalf("exit %d, want 3 with insufficientCredits\n%s", code, stderr)
	}
	st := e.em.Stats()
	if st.CostBilled > 2*462 || st.TasksAccepted > 3 {
		t.Errorf("billed %s over %d tasks after the balance ran out", st.CostBilled, st.TasksAccepted)
	}
	b, _ := os.ReadFile(filepath.Join(e.dir, "report.json"))
	if !bytes.Contains(b, []byte("insufficientCredits")) {
		t.Errorf("report does not say why:\n%s", b)
	}
}

// uploadEndpoint PUT failed at the emulator: the result is recovered
// from videoURL and PUT by Dubline itself.
func TestE2EUploadEndpointFailed(t *testing.T) {
	e := newE2E(t, 2, "", emulator.Options{})
	e.em.Inject(emulator.Fault{Kind: emulator.FaultUpload, Count: 2})
	code, stderr := e.run()
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if st := e.em.Stats(); st.UploadsFailed != 2 {
		t.Errorf("uploads failed %d, want 2 (the fault did not fire)", st.UploadsFailed)
	}
	e.outputs(2)
	e.billedOnce(2)
}

// A torn last journal line (crash mid-write) is ignored and reported;
// resume works.
func TestE2ETornJournal(t *testing.T) {
	e := newE2E(t, 2, "", emulator.Options{})
	if code, stderr := e.run(); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	jp := filepath.Join(e.dir, ".dubline", "e2e.journal.jsonl")
	f, err := os.OpenFile(jp, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"t":"2026-11-25T00:00:00Z","ev":"succ`)
	f.Close()
	code, stderr := e.run()
	if code != ExitOK || !strings.Contains(stderr, "2 already done") || !strings.Contains(strings.ToLower(stderr), "torn") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	e.billedOnce(2)
}

// Bad setup is stopped before anything is submitted: exit 2.
func TestE2EPreflight(t *testing.T) {
	e := newE2E(t, 1, "", emulator.Options{})
	m, _ := os.ReadFile(e.manifest)
	os.WriteFile(e.manifest, bytes.Replace(m, []byte("s3://dubs/out/"), []byte("s3://no-such-bucket/out/"), 1), 0o644)
	code, stderr := e.run()
	if code != ExitInvalid || !strings.Contains(stderr, "no-such-bucket") {
		t.Errorf("missing bucket: exit %d\n%s", code, stderr)
	}
	os.WriteFile(e.manifest, m, 0o644)
	e.env = append(e.env, "RUNWARE_API_KEY=wrong-key")
	code, stderr = e.run()
	if code != ExitInvalid || !strings.Contains(stderr, "invalidApiKey") || strings.Contains(stderr, "wrong-key") {
		t.Errorf("bad key: exit %d\n%s", code, stderr)
	}
	if n := e.em.Stats().TasksAccepted; n != 0 {
		t.Errorf("%d tasks submitted despite a failed preflight", n)
	}
}

// waitFor polls cond until it holds or the child must be given up on.
func waitFor(t *testing.T, c *exec.Cmd, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			c.Process.Kill()
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// SIGINT stops new submissions, lets in-flight jobs record their state
// and exits 130; the next run resumes and pays nothing twice.
func TestE2EInterruptAndResume(t *testing.T) {
	e := newE2E(t, 4, "", emulator.Options{Latency: 2 * time.Second})
	c, _, errb := e.cmd("--concurrency", "2")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, "two accepted tasks", func() bool { return e.em.Stats().TasksAccepted >= 2 })
	c.Process.Signal(os.Interrupt)
	if code := exitCode(c.Wait()); code != ExitInterrupted {
		t.Fatalf("exit %d, want 130\n%s", code, errb)
	}
	if !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("stderr does not say it was interrupted:\n%s", errb)
	}
	if n := e.em.Stats().TasksAccepted; n > 2 {
		t.Errorf("%d tasks accepted: no submission may start after the signal at concurrency 2", n)
	}
	code, stderr := e.run()
	if code != ExitOK {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	e.billedOnce(4)
	e.outputs(4)
}

// A second signal exits at once, still 130.
func TestE2ESecondSignalExitsAtOnce(t *testing.T) {
	e := newE2E(t, 2, "", emulator.Options{Latency: 30 * time.Second})
	c, _, errb := e.cmd()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, "accepted tasks", func() bool { return e.em.Stats().TasksAccepted >= 2 })
	c.Process.Signal(os.Interrupt)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	c.Process.Signal(os.Interrupt)
	code := exitCode(c.Wait())
	if code != ExitInterrupted || time.Since(start) > 5*time.Second {
		t.Errorf("exit %d after %s; want 130 at once\n%s", code, time.Since(start), errb)
	}
	if j := e.journal(); strings.Count(j, `"ev":"accepted"`) != 2 {
		t.Errorf("journal should record both accepted tasks:\n%s", j)
	}
}

// A sandbox rehearsal killed mid-run resumes: its in-process emulator is
// gone, so the tasks it left in flight are submitted again (nothing is
// billed in the sandbox) and the run finishes with exit 0.
func TestE2ESandboxResumeAfterKill(t *testing.T) {
	bin := dublineBinary(t)
	dir := copyQuickstart(t)
	m := filepath.Join(dir, "manifest.yaml")
	c := exec.Command(bin, "run", "--sandbox", m)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(dir, ".dubline", "sandbox", "quickstart.journal.jsonl")
	waitFor(t, c, "an accepted task in the journal", func() bool {
		b, _ := os.ReadFile(journal)
		return bytes.Contains(b, []byte(`"ev":"accepted"`))
	})
	c.Process.Kill()
	c.Wait()
	out, err := exec.Command(bin, "run", "--sandbox", m).CombinedOutput()
	if code := exitCode(err); code != ExitOK {
		t.Fatalf("resume: exit %d\n%s", code, out)
	}
	for _, id := range []string{"hello-en", "hola-es", "tone-5s"} {
		if st, err := os.Stat(filepath.Join(dir, "out", id+".mp4")); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", id, err)
		}
	}
}
