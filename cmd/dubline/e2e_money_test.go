package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/runware/emulator"
)

// The money guarantees, end to end: the real binary in a child process,
// the emulator over HTTP, versitygw. Every job costs $0.0462 (4.2 s).

// plan runs `dubline plan` with args and decodes its JSON.
func (e *e2e) plan(args ...string) (int, planJSON, string) {
	e.t.Helper()
	c := exec.Command(e.bin, append([]string{"plan", e.manifest, "--json"}, args...)...)
	c.Env = e.env
	var out, errb strings.Builder
	c.Stdout, c.Stderr = &out, &errb
	code := exitCode(c.Run())
	var p planJSON
	if err := json.Unmarshal([]byte(out.String()), &p); err != nil {
		e.t.Fatalf("plan --json: %v\n%s\n%s", err, out.String(), errb.String())
	}
	e.checkNoSecrets(errb.String())
	return code, p, errb.String()
}

type planJSON struct {
	Summary string
	Jobs    []struct {
		ID, Action    string
		Submits, Fits bool
	}
	ToRun   struct{ Jobs, Units int }
	Fitting struct{ Jobs, Units int }
}

func (p planJSON) toRun() []string {
	var ids []string
	for _, j := range p.Jobs {
		if j.Submits && j.Fits {
			ids = append(ids, j.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// billedInRun is the ids of the jobs the last run's report says it billed.
func (e *e2e) billedInRun() (ids []string, spent kling.Price) {
	e.t.Helper()
	var rep struct {
		Totals struct{ SpentUSD float64 }
		Jobs   []struct {
			ID        string
			ActualUSD *float64
		}
	}
	b, _ := os.ReadFile(filepath.Join(e.dir, "report.json"))
	if err := json.Unmarshal(b, &rep); err != nil {
		e.t.Fatalf("report: %v", err)
	}
	for _, j := range rep.Jobs {
		if j.ActualUSD != nil {
			ids = append(ids, j.ID)
		}
	}
	slices.Sort(ids)
	return ids, kling.FromUSD(rep.Totals.SpentUSD)
}

// A budget binds across kill -9 and reruns: killed at random moments and
// resumed, the total billed stays within it; a rerun with the same budget
// submits nothing; --budget 2B finishes within 2B.
func TestE2EBudgetHoldsAcrossKills(t *testing.T) {
	const jobs, fit = 12, 5
	budget := kling.Price(fit * 462)
	e := newE2E(t, jobs, "  budgetUSD: "+budget.String()[1:], emulator.Options{Latency: 800 * time.Millisecond})
	rng := rand.New(rand.NewPCG(8, 12))
	for k := range 3 {
		c, _, _ := e.cmd("--concurrency", "3")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		before := e.em.Stats().TasksAccepted
		waitFor(t, c, "a new submission", func() bool { return e.em.Stats().TasksAccepted > before || k > 0 && e.em.Stats().TasksAccepted >= fit })
		time.Sleep(time.Duration(rng.IntN(600)) * time.Millisecond)
		c.Process.Kill()
		c.Wait()
		if st := e.em.Stats(); st.TasksAccepted > fit {
			t.Fatalf("after kill %d: %d tasks accepted for a budget of %d jobs", k+1, st.TasksAccepted, fit)
		}
	}
	code, stderr := e.run("--concurrency", "3")
	if code != ExitOverBudget {
		t.Fatalf("final run: exit %d, want 4\n%s", code, stderr)
	}
	time.Sleep(time.Second) // every accepted task finishes and is billed
	if st := e.em.Stats(); st.CostBilled > budget || st.TasksAccepted != fit {
		t.Fatalf("billed %s for %d tasks; budget %s (%d jobs)", st.CostBilled, st.TasksAccepted, budget, fit)
	}
	if !strings.Contains(stderr, "budget window") {
		t.Errorf("summary does not show the budget window:\n%s", stderr)
	}

	// The same budget again: nothing more is submitted.
	code, stderr = e.run()
	if st := e.em.Stats(); code != ExitOverBudget || st.TasksAccepted != fit {
		t.Fatalf("rerun with the same budget: exit %d, %d tasks\n%s", code, st.TasksAccepted, stderr)
	}
	// plan agrees: nothing fits.
	if code, p, _ := e.plan(); code != ExitOverBudget || p.Fitting.Jobs != 0 || p.ToRun.Jobs != jobs-fit {
		t.Errorf("plan: exit %d, %+v", code, p)
	}
	// --budget sets the window's total: 2B allows 5 more, not 10.
	code, stderr = e.run("--budget", (2 * budget).String())
	time.Sleep(time.Second)
	if st := e.em.Stats(); code != ExitOverBudget || st.TasksAccepted != 2*fit || st.CostBilled > 2*budget {
		t.Fatalf("--budget 2B: exit %d, %d tasks, billed %s\n%s", code, st.TasksAccepted, st.CostBilled, stderr)
	}
	e.billedOnceEach()
}

// billedOnceEach asserts no taskUUID was accepted or billed twice and no
// job has more than one billed task.
func (e *e2e) billedOnceEach() {
	e.t.Helper()
	st := e.em.Stats()
	for uuid, n := range st.AcceptedByUUID {
		if n != 1 {
			e.t.Errorf("task %s accepted %d times", uuid, n)
		}
	}
	for uuid, c := range st.BilledByUUID {
		if c != 462 {
			e.t.Errorf("task %s billed %s", uuid, c)
		}
	}
}

// Runware forgets every task once it finishes (results expire; a resumed
// run polls late): the outputs uploadEndpoint delivered are found, every
// job succeeds, nothing is paid twice across two runs and the report's
// spend equals what the emulator billed.
func TestE2EForgottenResultsNotPaidTwice(t *testing.T) {
	const n = 6
	e := newE2E(t, n, "", emulator.Options{FaultRates: emulator.FaultRates{Expire: 1}})
	code, stderr := e.run()
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	e.outputs(n)
	st := e.billedOnce(n)
	ids, spent := e.billedInRun()
	if len(ids) != n || spent != st.CostBilled {
		t.Errorf("report: %d jobs billed, spent %s; emulator billed %s", len(ids), spent, st.CostBilled)
	}
	// Every task was forgotten once it finished, and the first poll came
	// after: each job went through the gone path.
	if got := strings.Count(e.journal(), `"ev":"succeeded"`); got != n || strings.Count(stderr, "its output is in the destination") != n {
		t.Errorf("%d succeeded records; stderr:\n%s", got, stderr)
	}
	code, stderr = e.run()
	if code != ExitOK || e.em.Stats().TasksAccepted != n {
		t.Errorf("second run: exit %d, %d tasks (want %d)\n%s", code, e.em.Stats().TasksAccepted, n, stderr)
	}
}

// After a complete run plan prices $0; after replacing one input, deleting
// one output and changing one parameter for one tag, plan's list and total
// are exactly what run then submits, with and without --only changed.
func TestE2EPlanIsTheNextRun(t *testing.T) {
	const n = 6
	e := newE2E(t, n, "", emulator.Options{})
	if code, stderr := e.run(); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	code, p, _ := e.plan()
	if code != ExitOK || p.ToRun.Jobs != 0 || p.ToRun.Units != 0 || !strings.HasPrefix(p.Summary, "0 to run ($0.0000); 6 up to date") {
		t.Fatalf("plan after a complete run: exit %d %+v", code, p)
	}

	// job-00's local audio replaced; job-01's output deleted; tag t1's
	// jobs (01, 03, 05) get another originalAudioVolume.
	time.Sleep(10 * time.Millisecond)
	local := filepath.Join(e.dir, "local.wav")
	b, _ := os.ReadFile(local)
	os.WriteFile(local, b, 0o644)
	future := time.Now().Add(time.Minute)
	os.Chtimes(local, future, future)
	e.s3.Delete(t, "dubs", "out/job-01.mp4")
	m, _ := os.ReadFile(e.manifest)
	s := strings.ReplaceAll(string(m), "tags: [t1]}", "tags: [t1], originalAudioVolume: 0.5}")
	os.WriteFile(e.manifest, []byte(s), 0o644)

	for _, args := range [][]string{nil, {"--only", "changed"}} {
		_, p, _ := e.plan(args...)
		want := map[string][]string{"": {"job-01"}, "changed": {"job-00", "job-03", "job-05"}}[strings.Join(args[min(1, len(args)):], "")]
		if got := p.toRun(); !slices.Equal(got, want) {
			t.Errorf("plan %v: to run %v, want %v (%s)", args, got, want, p.Summary)
		}
		before := e.em.Stats()
		code, stderr := e.run(args...)
		if code != ExitOK {
			t.Fatalf("run %v: exit %d\n%s", args, code, stderr)
		}
		after := e.em.Stats()
		ids, _ := e.billedInRun()
		if !slices.Equal(ids, p.toRun()) || after.TasksAccepted-before.TasksAccepted != p.ToRun.Jobs ||
			int(after.CostBilled-before.CostBilled) != p.ToRun.Units {
			t.Errorf("run %v submitted %v (%d tasks, %s); plan said %v (%d units)", args, ids,
				after.TasksAccepted-before.TasksAccepted, after.CostBilled-before.CostBilled, p.toRun(), p.ToRun.Units)
		}
	}
	// --redo forces a succeeded job.
	_, p, _ = e.plan("--redo", "job-04")
	if got := p.toRun(); !slices.Equal(got, []string{"job-04"}) {
		t.Errorf("plan --redo job-04: %v (%s)", got, p.Summary)
	}
}

// A balance below what the run will submit: exit 4, nothing submitted.
// A server that refuses ping does not stop the run (preflight does not
// use it).
func TestE2EBalanceAndPing(t *testing.T) {
	e := newE2E(t, 4, "", emulator.Options{Balance: 2 * 462, RefusePing: true, BalanceObject: true})
	code, stderr := e.run()
	if code != ExitOverBudget || e.em.Stats().TasksAccepted != 0 || !strings.Contains(stderr, "cannot pay for the $0.1848") {
		t.Fatalf("exit %d, %d tasks\n%s", code, e.em.Stats().TasksAccepted, stderr)
	}
	e.em.SetBalance(10 * 462)
	if code, stderr = e.run(); code != ExitOK {
		t.Fatalf("with the balance topped up: exit %d\n%s", code, stderr)
	}
	e.billedOnce(4)
}

// limits.maxFailures: moderation refusals are permanent (one task per
// job), and past the threshold no new job is submitted: exit 3.
func TestE2EMaxFailures(t *testing.T) {
	e := newE2E(t, 8, "  maxFailures: 2", emulator.Options{
		FaultRates: emulator.FaultRates{Generation: 1, GenerationCode: "providerContentModeration"}})
	code, stderr := e.run("--concurrency", "1")
	if code != ExitFailed || !strings.Contains(stderr, "limits.maxFailures 2") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if st := e.em.Stats(); st.TasksAccepted != 3 || st.CostBilled != 0 {
		t.Errorf("%d tasks accepted (want 3: one per job, no regeneration, stop after the third failure), billed %s", st.TasksAccepted, st.CostBilled)
	}
}

// plan --quote: one dry run per distinct request, shown against the rule
// and never billed; run --quote reserves the larger of the two: with all
// four jobs starting at once (each billed 300 ms later), only two
// reservations of the $0.0924 quote fit a $0.1848 budget.
func TestE2EQuotes(t *testing.T) {
	e := newE2E(t, 4, "", emulator.Options{DryRunFactor: 2})
	code, p, stderr := e.plan("--quote")
	if code != ExitOK {
		t.Fatalf("plan --quote: exit %d\n%s", code, stderr)
	}
	if st := e.em.Stats(); st.DryRuns != 1 || st.TasksAccepted != 0 || st.CostBilled != 0 {
		t.Errorf("emulator %+v: want one dry run (one distinct request), nothing run or billed", st)
	}
	if p.ToRun.Units != 4*924 || !strings.Contains(stderr, "differs from the price rule for 4 of 4 jobs") {
		t.Errorf("to run %+v (want 4 x the quote $0.0924)\n%s", p.ToRun, stderr)
	}
	code, stderr = e.run("--quote", "--budget", "0.1848", "--concurrency", "4")
	if st := e.em.Stats(); code != ExitOverBudget || st.TasksAccepted != 2 {
		t.Errorf("run --quote with room for 2 quoted jobs: exit %d, %d tasks\n%s", code, st.TasksAccepted, stderr)
	}
}
