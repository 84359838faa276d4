package executor_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dubline/dubline/executor"
	"github.com/dubline/dubline/internal/retry"
	"github.com/dubline/dubline/internal/s3test"
	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/planner"
	"github.com/dubline/dubline/runware"
	"github.com/dubline/dubline/runware/emulator"
	"github.com/dubline/dubline/staging"
	"github.com/dubline/dubline/storage"
)

// The real parts: the Runware client over HTTP against the emulator, the
// S3 destination and input staging against versitygw.

const integKey = "sk-integration-SECRET-key"

var integPrice = kling.JobPrice(4.2, 1) // speech_4_2s.wav: 5 billable seconds

type integ struct {
	t      *testing.T
	s3     *s3test.Server
	emu    *emulator.Emulator
	client *runware.Client
	opt    executor.Options
	sink   *countingDest
	plan   *planner.Plan
}

func newInteg(t *testing.T, n int, eo emulator.Options) *integ {
	t.Helper()
	v := &integ{t: t, s3: s3test.Start(t, "out", "stage")}
	eo.APIKey = integKey
	if eo.Latency == 0 {
		eo.Latency = 50 * time.Millisecond
	}
	v.emu = emulator.New(eo)
	api := httptest.NewServer(v.emu)
	c, err := runware.New(runware.Options{
		URL: api.URL + "/v1", APIKey: integKey,
		BatchWindow: 5 * time.Millisecond, PollInitialDelay: 20 * time.Millisecond,
		PollInterval: 25 * time.Millisecond, PollMaxInterval: 50 * time.Millisecond,
		RequestTimeout: 5 * time.Second,
		Retry:          retry.Policy{Attempts: 4, Initial: 5 * time.Millisecond, Max: 100 * time.Millisecond},
		Rand:           rand.New(rand.NewPCG(1, 2)),
	})
	if err != nil {
		t.Fatal(err)
	}
	v.client = c
	t.Cleanup(func() { c.Close(); v.emu.Close(); api.Close() })

	s3c := storage.NewS3FromClient(v.s3.Client())
	dest := storage.NewS3Destination(s3c, "out", "dubs/", storage.WithFetchRetry(retry.Policy{
		// A window, not a count: jittered delays of a few attempts can all
		// fall inside the 100 ms the injected 422 lasts on a loaded machine.
		Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Window: 3 * time.Second}))
	media, _ := filepath.Abs(filepath.Join("..", "testdata", "media"))
	v.plan = &planner.Plan{Name: "integ", Concurrency: 3, BudgetWindow: 20 * time.Hour, Output: planner.Output{PresignTTL: time.Hour}}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("ep%02d-es", i)
		v.plan.Jobs = append(v.plan.Jobs, planner.Job{
			Index: i, ID: id,
			Video:        planner.Input{Raw: "face.mp4", Kind: planner.InputLocal, Path: filepath.Join(media, "face.mp4")},
			Audio:        planner.Input{Raw: "speech_4_2s.wav", Kind: planner.InputLocal, Path: filepath.Join(media, "speech_4_2s.wav")},
			Request:      new(kling.DefaultRequest()),
			AudioSeconds: 4.2, BillableSeconds: 5, Estimate: integPrice,
			OutputKeys: []string{id + ".mp4"}, Fingerprint: "fp-" + id,
		})
	}
	v.sink = &countingDest{Destination: dest}
	v.opt = executor.Options{
		API: c, Dest: v.sink,
		Inputs:   &staging.Inputs{S3: s3c, Staging: "s3://stage/in/", TTL: time.Hour},
		StateDir: t.TempDir(),
		Secrets:  []string{integKey},
	}
	return v
}

func (v *integ) run(ctx context.Context) *executor.Report {
	v.t.Helper()
	rep, err := executor.Run(ctx, v.plan, v.opt)
	if err != nil {
		v.t.Fatalf("Run: %v", err)
	}
	return rep
}

// checkOutputs asserts every job's object is in the bucket, typed video/mp4.
func (v *integ) checkOutputs() {
	v.t.Helper()
	for _, j := range v.plan.Jobs {
		body, ct := v.s3.Get(v.t, "out", "dubs/"+j.OutputKeys[0])
		if len(body) == 0 || ct != "video/mp4" {
			v.t.Errorf("%s: %d bytes, %q", j.ID, len(body), ct)
		}
	}
}

// checkBilledOnce asserts no taskUUID was accepted twice, and returns the
// number of tasks accepted and the total billed.
func (v *integ) checkBilledOnce() (int, kling.Price) {
	v.t.Helper()
	s := v.emu.Stats()
	for id, n := range s.AcceptedByUUID {
		if n != 1 {
			v.t.Errorf("task %s accepted %d times", id, n)
		}
	}
	return s.TasksAccepted, s.CostBilled
}

func (v *integ) checkNoSecrets(reps ...*executor.Report) {
	v.t.Helper()
	var buf bytes.Buffer
	for _, r := range reps {
		r.WriteJSON(&buf, -1)
		r.WriteSummary(&buf)
	}
	j, _ := os.ReadFile(executor.JournalPath(v.opt.StateDir, v.plan.Name))
	buf.Write(j)
	for _, s := range []string{"X-Amz-Signature", "X-Amz-Credential", integKey, s3test.SecretKey} {
		if strings.Contains(buf.String(), s) {
			v.t.Errorf("journal or report contains %q", s)
		}
	}
}

// Every job lands in S3, verified, each task billed once, through a
// connection reset after acceptance (re-sent with the same taskUUID), an
// upload that did not happen (copied from videoURL) and a failed
// generation (regenerated with a new taskUUID).
func TestIntegrationRun(t *testing.T) {
	v := newInteg(t, 6, emulator.Options{Seed: 1})
	v.emu.Inject(emulator.Fault{Kind: emulator.FaultReset, TaskType: "videoInference"})
	// The first task accepted fails to generate; the second's upload does
	// not happen and its videoURL answers 422 for a while (the first task
	// takes one use of each fault too).
	v.emu.Inject(emulator.Fault{Kind: emulator.FaultGeneration, Code: "timeoutProvider"})
	v.emu.Inject(emulator.Fault{Kind: emulator.FaultUpload, Count: 2})
	v.emu.Inject(emulator.Fault{Kind: emulator.FaultVideoURL422, Count: 2, Delay: 100 * time.Millisecond})
	rep := v.run(context.Background())
	if !rep.Done() {
		var b bytes.Buffer
		rep.WriteSummary(&b)
		t.Fatalf("stopped %q\n%s", rep.StoppedBy, b.String())
	}
	v.checkOutputs()
	st := v.emu.Stats()
	// Which concurrent task takes each injected fault varies from run to
	// run: the two upload faults may land on the task that fails to
	// generate or on two that succeed, so 1 or 2 copies are both right.
	copies := v.sink.copies.Load()
	if st.DuplicatesRefused < 1 || v.client.Stats().Conflicts < 1 || st.UploadsFailed < 1 || st.Failed != 1 || copies < 1 || copies > 2 {
		t.Errorf("faults not exercised: duplicates %d conflicts %d uploads failed %d generations failed %d copies %d",
			st.DuplicatesRefused, v.client.Stats().Conflicts, st.UploadsFailed, st.Failed, v.sink.copies.Load())
	}
	accepted, billed := v.checkBilledOnce()
	if accepted != 7 { // six jobs plus one regeneration
		t.Errorf("accepted %d tasks, want 7", accepted)
	}
	if billed != rep.Totals.Spent || rep.Totals.Spent != 6*integPrice || rep.Totals.Drift != 0 {
		t.Errorf("emulator billed %s, report spent %s drift %s", billed, rep.Totals.Spent, rep.Totals.Drift)
	}
	attempts := 0
	for _, j := range rep.Jobs {
		attempts += j.Attempts
	}
	if attempts != 7 {
		t.Errorf("attempts %d, want 7", attempts)
	}
	// A second run pays nothing and finds everything in place.
	rep2 := v.run(context.Background())
	if !rep2.Done() || rep2.Totals.Skipped != 6 || v.emu.Stats().TasksAccepted != 7 {
		t.Errorf("rerun stopped %q totals %+v", rep2.StoppedBy, rep2.Totals)
	}
	v.checkNoSecrets(rep, rep2)
}

// Interrupted mid-flight, then resumed: every output delivered, no task
// accepted twice, no job generated twice.
func TestIntegrationInterruptResume(t *testing.T) {
	v := newInteg(t, 8, emulator.Options{Latency: 400 * time.Millisecond, Seed: 2})
	v.plan.Concurrency, v.opt.Grace = 4, 20*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for v.emu.Stats().TasksAccepted < 4 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	rep := v.run(ctx)
	if rep.StoppedBy != executor.StopInterrupt {
		t.Fatalf("stopped %q", rep.StoppedBy)
	}
	if rep.Totals.InFlight == 0 {
		t.Fatalf("expected jobs left in flight: %+v", rep.Totals)
	}
	rep2 := v.run(context.Background())
	if !rep2.Done() {
		t.Fatalf("resume stopped %q %+v", rep2.StoppedBy, rep2.Jobs)
	}
	v.checkOutputs()
	if accepted, _ := v.checkBilledOnce(); accepted != 8 {
		t.Errorf("accepted %d tasks for 8 jobs", accepted)
	}
	v.checkNoSecrets(rep, rep2)
}

// The budget stops submission exactly; 402 from the API stops the run.
func TestIntegrationBudgetAndCredits(t *testing.T) {
	v := newInteg(t, 5, emulator.Options{Seed: 3})
	v.plan.Budget = 3 * integPrice
	rep := v.run(context.Background())
	if rep.StoppedBy != executor.StopBudget || rep.Totals.Succeeded != 3 || v.emu.Stats().TasksAccepted != 3 {
		t.Fatalf("stopped %q totals %+v accepted %d", rep.StoppedBy, rep.Totals, v.emu.Stats().TasksAccepted)
	}
	// The account runs dry after one more job: 402 is fatal.
	v.plan.Budget, v.plan.Concurrency = 0, 1
	v.emu.SetBalance(integPrice)
	rep = v.run(context.Background())
	if rep.StoppedBy != executor.StopFatal || !strings.Contains(rep.FatalError, "insufficientCredits") {
		t.Fatalf("stopped %q %q", rep.StoppedBy, rep.FatalError)
	}
	if rep.Totals.Succeeded != 4 || rep.Totals.Failed != 1 || v.emu.Stats().TasksAccepted != 4 {
		t.Errorf("totals %+v accepted %d", rep.Totals, v.emu.Stats().TasksAccepted)
	}
	v.checkBilledOnce()
}

// countingDest counts the copies a storage.Destination makes.
type countingDest struct {
	storage.Destination
	copies atomic.Int64
}

func (s *countingDest) CopyFromURL(ctx context.Context, src, key, ct string) (storage.Object, error) {
	s.copies.Add(1)
	return s.Destination.CopyFromURL(ctx, src, key, ct)
}
