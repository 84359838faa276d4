package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dubline/dubline/executor"
	"github.com/dubline/dubline/planner"
)

type runFlags struct {
	plan      planFlags
	sandbox   bool
	conc      int
	only      string
	ids, tags string
	shard     string
	state     string
	report    string
	json      bool
	dryRun    bool
	overwrite bool
	pollDelay time.Duration
	pollEvery time.Duration
}

func (f *runFlags) register(fs *flag.FlagSet) {
	f.plan.register(fs)
	fs.BoolVar(&f.sandbox, "sandbox", false, "run against the in-process Runware emulator (no API key, no cost)")
	fs.IntVar(&f.conc, "concurrency", 0, "jobs in flight, overrides limits.concurrency")
	fs.StringVar(&f.only, "only", "", "run only `failed|pending|changed` jobs")
	fs.StringVar(&f.ids, "ids", "", "comma-separated job ids to run")
	fs.StringVar(&f.tags, "tags", "", "comma-separated tags; run jobs with any of them")
	fs.StringVar(&f.shard, "shard", "", "run shard `I/N` of the jobs (0 <= I < N), for several machines")
	fs.StringVar(&f.state, "state", "", "journal directory (default: .dubline beside the manifest; .dubline/sandbox with --sandbox)")
	fs.StringVar(&f.report, "report", "", "write the JSON report to `FILE`")
	fs.BoolVar(&f.json, "json", false, "print the JSON report on stdout")
	fs.BoolVar(&f.dryRun, "dry-run", false, "plan only (same as dubline plan)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace output objects that Dubline did not write in this run's journal")
	fs.DurationVar(&f.pollDelay, "poll-delay", 0, "first poll of a job this long after submitting (default 15s; 0.5s with --sandbox)")
	fs.DurationVar(&f.pollEvery, "poll-interval", 0, "base poll interval, growing x1.5 to 15s (default 2s)")
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
		return planCommand(ctx, path, f.plan, f.json, e)
	}
	opt, err := f.executorOptions()
	if err != nil {
		fmt.Fprintf(e.stderr, "dubline run: %v\n", err)
		return ExitInvalid
	}
	p, code := buildPlan(ctx, path, f.plan, true, e)
	if p == nil {
		return code
	}
	printWarnings(p, e)
	if err := checkIDs(p, opt.IDs); err != nil {
		fmt.Fprintf(e.stderr, "dubline run: %v\n", err)
		return ExitInvalid
	}
	deps, err := wire(ctx, p, f, e)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(e.stderr, "dubline run: interrupted before anything was submitted")
			return ExitInterrupted
		}
		fmt.Fprintf(e.stderr, "dubline run: %v\nnothing was submitted\n", err)
		return ExitInvalid
	}
	defer deps.close()
	opt.API, opt.Sink, opt.Inputs, opt.StateDir = deps.api, deps.sink, deps.inputs, deps.stateDir
	opt.Logger, opt.Secrets = e.log, deps.secrets
	// The in-process emulator forgets its tasks when this process exits;
	// it bills nothing, so tasks a killed rehearsal left in flight are
	// simply submitted again.
	opt.ForgetInflight = f.sandbox
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
	opt := executor.Options{Concurrency: f.conc, Only: f.only, Overwrite: f.overwrite, IDs: split(f.ids), Tags: split(f.tags)}
	switch f.only {
	case "", "failed", "pending", "changed":
	default:
		return opt, fmt.Errorf("--only %q: allowed: failed, pending, changed", f.only)
	}
	if f.conc < 0 {
		return opt, fmt.Errorf("--concurrency %d: must be positive", f.conc)
	}
	if f.shard != "" {
		is, ns, ok := strings.Cut(f.shard, "/")
		i, err1 := strconv.Atoi(is)
		n, err2 := strconv.Atoi(ns)
		if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
			return opt, fmt.Errorf("--shard %q: want I/N with 0 <= I < N, e.g. 0/4", f.shard)
		}
		opt.Shard = [2]int{i, n}
	}
	if strings.HasPrefix(f.state, "s3://") {
		return opt, fmt.Errorf("--state %s: a journal in S3 is not supported yet; give a local directory", f.state)
	}
	return opt, nil
}

// checkIDs reports --ids that name no job in the plan (a typo would
// otherwise silently run nothing).
func checkIDs(p *planner.Plan, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	known := make(map[string]bool, len(p.Jobs))
	for i := range p.Jobs {
		known[p.Jobs[i].ID] = true
	}
	var unknown []string
	for _, id := range ids {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("--ids: no job with id %s in %s", strings.Join(unknown, ", "), p.Manifest)
	}
	return nil
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
