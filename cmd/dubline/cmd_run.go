package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dubline/dubline/executor"
	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/planner"
	"github.com/dubline/dubline/runware"
)

// selectFlags choose the jobs, for plan and run alike.
type selectFlags struct {
	sandbox   bool
	only      string
	ids, tags string
	shard     string
	redo      string
	state     string
	newWindow bool
	quote     bool
	overwrite bool
}

func (f *selectFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.sandbox, "sandbox", false, "run against the in-process Runware emulator (no API key, no cost)")
	fs.StringVar(&f.only, "only", "", "run only `failed|pending|changed` jobs")
	fs.StringVar(&f.ids, "ids", "", "comma-separated job ids to run")
	fs.StringVar(&f.tags, "tags", "", "comma-separated tags; run jobs with any of them")
	fs.StringVar(&f.shard, "shard", "", "run shard `I/N` of the jobs (0 <= I < N), for several machines")
	fs.StringVar(&f.redo, "redo", "", "submit these succeeded jobs again (`ID,...|all`), though their outputs are there")
	fs.StringVar(&f.state, "state", "", "journal directory (default: .dubline beside the manifest; .dubline/sandbox with --sandbox)")
	fs.BoolVar(&f.quote, "quote", false, "ask Runware the price of each distinct request (a dry run, X-Runware-Dry-Run: 1) and reserve the larger of quote and price rule")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace output objects that Dubline did not write in this run's journal")
	fs.BoolVar(&f.newWindow, "new-budget-window", false, "open a new budget window now (recorded in the journal): what earlier runs spent no longer counts")
}

type runFlags struct {
	plan      planFlags
	sel       selectFlags
	report    string
	json      bool
	dryRun    bool
	pollDelay time.Duration
	pollEvery time.Duration
}

func (f *runFlags) register(fs *flag.FlagSet) {
	f.plan.register(fs)
	f.sel.register(fs)
	fs.IntVar(&f.plan.concurrency, "concurrency", 0, "jobs in flight, overrides limits.concurrency")
	fs.StringVar(&f.report, "report", "", "write the JSON report to `FILE`")
	fs.BoolVar(&f.json, "json", false, "print the JSON report on stdout")
	fs.BoolVar(&f.dryRun, "dry-run", false, "plan only (same as dubline plan)")
	fs.DurationVar(&f.pollDelay, "poll-delay", 0, "until render times are learned, first poll of a job this long after submitting (default 1s; 0.5s with --sandbox)")
	fs.DurationVar(&f.pollEvery, "poll-interval", 0, "until render times are learned, poll interval after the first poll, growing x1.5 to 5s (default 1s)")
}

func cmdRun(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var f runFlags
	f.register(fs)
	path, code := oneManifest(fs, args, e)
	if code >= 0 {
		return code
	}
	if f.dryRun {
		return planCommand(ctx, path, f, e)
	}
	opt, p, s3, code := load(ctx, "run", path, f, e)
	if p == nil {
		return code
	}
	// The selection is checked before anything is wired, so that a typo
	// in --ids costs no preflight; Run checks it again the same way.
	if _, err := opt.Selection.Jobs(p); err != nil {
		fmt.Fprintf(e.stderr, "dubline run: %v\n", err)
		return ExitInvalid
	}
	deps, err := wire(ctx, p, f, s3, e)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(e.stderr, "dubline run: interrupted before anything was submitted")
			return ExitInterrupted
		}
		fmt.Fprintf(e.stderr, "dubline run: %v\nnothing was submitted\n", err)
		return ExitInvalid
	}
	defer deps.close()
	opt.API, opt.Dest, opt.Inputs, opt.StateDir = deps.api, deps.sink, deps.inputs, deps.stateDir
	opt.Logger, opt.Secrets = e.log, deps.secrets
	// The in-process emulator forgets its tasks when this process exits;
	// it bills nothing, so tasks a killed rehearsal left in flight are
	// simply submitted again.
	opt.ForgetInflight = f.sel.sandbox
	if f.sel.quote {
		if opt.Quotes, err = quoteRun(ctx, p, opt, deps, e); err != nil {
			fmt.Fprintf(e.stderr, "dubline run: %v\nnothing was submitted\n", err)
			return ExitInvalid
		}
	}
	if code := checkBalance(ctx, p, opt, deps.account, e); code >= 0 {
		return code
	}
	rep, err := executor.Run(ctx, p, opt)
	if err != nil {
		fmt.Fprintf(e.stderr, "dubline run: %v\n", err)
		return ExitInternal
	}
	code = runExitCode(rep)
	rep.WriteSummary(e.stderr)
	fmt.Fprintf(e.stderr, "exit code %d\n", code)
	if f.report != "" {
		if err := writeReport(f.report, rep, code); err != nil {
			fmt.Fprintf(e.stderr, "dubline run: %v\n", err)
			if code == ExitOK {
				return ExitInternal
			}
			return code // the run's own outcome matters more than the file
		}
	}
	if f.json {
		if err := rep.WriteJSON(e.stdout, code); err != nil {
			return ExitInternal
		}
	}
	return code
}

func (f *runFlags) executorOptions() (executor.Options, error) {
	s := f.sel
	opt := executor.Options{Overwrite: s.overwrite, NewWindow: s.newWindow}
	var err error
	if opt.Only, err = executor.ParseOnly(s.only); err != nil {
		return opt, fmt.Errorf("--only %w", err)
	}
	if opt.Shard, err = executor.ParseShard(s.shard); err != nil {
		return opt, fmt.Errorf("--shard %w", err)
	}
	opt.IDs, opt.Tags, opt.Redo = split(s.ids), split(s.tags), split(s.redo)
	if strings.HasPrefix(s.state, "s3://") {
		return opt, fmt.Errorf("--state %s: a journal in S3 is not supported yet; give a local directory", s.state)
	}
	return opt, nil
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// writeReport writes the JSON report atomically (temp file + rename).
func writeReport(path string, rep *executor.Report, code int) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := rep.WriteJSON(f, code); err != nil {
		f.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// checkBalance stops the run (exit 4, nothing submitted) when the account
// balance Runware reported cannot pay for what the run will submit within
// its budget: the forecast's fitting jobs, with the outputs of succeeded
// jobs taken as there (a Stat of every done job would double the run's
// own; a missing one's redo is then not counted, and Runware's 402 still
// stops the run). It returns -1 to go on.
func checkBalance(ctx context.Context, p *planner.Plan, opt executor.Options, acct runware.Account, e env) int {
	if !acct.HasBalance {
		return -1
	}
	opt.Dest = nil
	fc, err := executor.ForecastRun(ctx, p, opt)
	if err != nil {
		fmt.Fprintf(e.stderr, "dubline run: %v\n", err)
		return ExitInternal
	}
	t := fc.Totals()
	if balance := kling.FromUSD(acct.BalanceUSD); balance < t.FitCost {
		fmt.Fprintf(e.stderr, "dubline run: the Runware balance %s cannot pay for the %s this run will submit (%d jobs); "+
			"top up the account or narrow the run (--ids, --tags, --budget)\nnothing was submitted\n", balance, t.FitCost, t.Fitting)
		return ExitOverBudget
	}
	return -1
}

// quoteRun quotes the jobs the run will submit (with the outputs of
// succeeded jobs checked, so a redo is quoted too) and warns where
// Runware's price differs from the rule.
func quoteRun(ctx context.Context, p *planner.Plan, opt executor.Options, deps *deps, e env) (executor.Quotes, error) {
	opt.Dest = deps.sink
	fc, err := executor.ForecastRun(ctx, p, opt)
	if err != nil {
		return nil, err
	}
	var jobs []*planner.Job
	for _, j := range fc.Jobs {
		if j.Submits() {
			jobs = append(jobs, j.Job)
		}
	}
	q, err := executor.QuoteJobs(ctx, jobs, deps.quoter, deps.inputs)
	if err != nil {
		return nil, err
	}
	differ := 0
	for _, j := range jobs {
		if q[j.ID] != j.Estimate {
			differ++
		}
	}
	if differ > 0 {
		fmt.Fprintf(e.stderr, "warning: Runware's quote differs from the price rule for %d of %d jobs to run; each reserves the larger (see dubline plan --quote)\n", differ, len(jobs))
	}
	return q, nil
}
