package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/dubline/dubline/executor"
	"github.com/dubline/dubline/pipeline"
	"github.com/dubline/dubline/planner"
)

// planFlags are shared by plan and run.
type planFlags struct {
	offline     bool
	budget      string
	priceOn     string
	concurrency int // run only; plan prices the same whatever it is
}

func (f *planFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.offline, "offline", false, "skip network checks of s3:// and https:// inputs (they need audioSeconds to be priced)")
	fs.StringVar(&f.budget, "budget", "", "budget in USD, overrides limits.budgetUSD")
	fs.StringVar(&f.priceOn, "price-on", "", "price on `audio|max`: audio seconds (the model page's rule) or max(audio, video) seconds")
}

// buildPlan loads and plans the manifest, making s3 the run's S3 client
// when an s3:// input needs it. It prints problems to stderr and returns
// the exit code to use when the plan is nil.
func buildPlan(ctx context.Context, path string, f planFlags, needPrice bool, s3 *s3Client, e env) (*planner.Plan, int) {
	opt := planner.Options{Offline: f.offline, NeedPrice: needPrice,
		Budget: f.budget, PriceBasis: f.priceOn, Concurrency: f.concurrency}
	if s3 != nil {
		opt.S3 = s3.source
	}
	p, err := planner.Load(ctx, path, e.lookup, opt)
	if err != nil {
		return nil, reportProblems(err, e)
	}
	return p, ExitOK
}

// load reads the flags' options and plans the manifest (plan and run
// alike), printing the plan's warnings; a nil plan comes with its exit
// code.
func load(ctx context.Context, cmd, path string, f runFlags, e env) (executor.Options, *planner.Plan, *s3Client, int) {
	opt, err := f.executorOptions()
	if err != nil {
		fmt.Fprintf(e.stderr, "dubline %s: %v\n", cmd, err)
		return opt, nil, nil, ExitInvalid
	}
	s3 := &s3Client{}
	p, code := buildPlan(ctx, path, f.plan, true, s3, e)
	if p != nil {
		printWarnings(p, e)
	}
	return opt, p, s3, code
}

// reportProblems prints manifest problems one per line and picks the code.
func reportProblems(err error, e env) int {
	var ds pipeline.Diags
	if errors.As(err, &ds) {
		printCapped(e, ds)
		fmt.Fprintf(e.stderr, "dubline: %d problem(s); nothing was submitted\n", len(ds))
		return ExitInvalid
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(e.stderr, "dubline: interrupted")
		return ExitInterrupted
	}
	fmt.Fprintf(e.stderr, "dubline: %v\n", err)
	return ExitInvalid
}

func printWarnings(p *planner.Plan, e env) {
	printCapped(e, p.Warnings, "warning: ")
}

// sameMsgCap is how many diagnostics with the same message are printed
// before the rest are summed up: one bad bucket name in a 20,000-job
// manifest is one problem, not 20,000 lines.
const sameMsgCap = 10

func printCapped(e env, ds pipeline.Diags, prefix ...string) {
	pre := strings.Join(prefix, "")
	seen := map[string]int{}
	for _, d := range ds {
		seen[d.Msg]++
		if seen[d.Msg] <= sameMsgCap {
			fmt.Fprintf(e.stderr, "%s%s\n", pre, d)
		}
	}
	for _, d := range ds {
		if n := seen[d.Msg]; n > sameMsgCap {
			fmt.Fprintf(e.stderr, "%s... and %d more like: %s\n", pre, n-sameMsgCap, d.Msg)
			seen[d.Msg] = 0
		}
	}
}

func cmdPlan(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	var f runFlags
	f.plan.register(fs)
	f.sel.register(fs)
	fs.BoolVar(&f.json, "json", false, "print the plan as JSON")
	path, code := oneManifest(fs, args, e)
	if code >= 0 {
		return code
	}
	return planCommand(ctx, path, f, e)
}

// planCommand is `dubline plan` (and `dubline run --dry-run`): what the
// next run will do, read from the journal with the run's selection, priced
// where it submits.
func planCommand(ctx context.Context, path string, f runFlags, e env) int {
	opt, p, s3, code := load(ctx, "plan", path, f, e)
	if p == nil {
		return code
	}
	var err error
	opt.StateDir = stateDir(p.ManifestDir, f)
	opt.ForgetInflight = f.sel.sandbox
	if !f.plan.offline {
		// The outputs of succeeded jobs are checked as the run checks them;
		// when the destination cannot be reached they are taken as done.
		if opt.Dest, err = destination(ctx, p, s3); err != nil {
			fmt.Fprintf(e.stderr, "warning: outputs not checked: %v\n", err)
			opt.Dest = nil
		}
	}
	if f.sel.quote {
		// Quoting sends real inputs to Runware: wire as run does.
		deps, err := wire(ctx, p, f, s3, e)
		if err != nil {
			fmt.Fprintf(e.stderr, "dubline plan --quote: %v\n", err)
			return ExitInvalid
		}
		defer deps.close()
		if opt.Quotes, err = quoteRun(ctx, p, opt, deps, e); err != nil {
			fmt.Fprintf(e.stderr, "dubline plan --quote: %v\n", err)
			return ExitInvalid
		}
	}
	fc, err := executor.ForecastRun(ctx, p, opt)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(e.stderr, "dubline plan: interrupted")
			return ExitInterrupted
		}
		fmt.Fprintf(e.stderr, "dubline plan: %v\n", err)
		return ExitInvalid
	}
	if f.json {
		err = fc.WriteJSON(e.stdout)
	} else {
		err = fc.WriteTable(e.stdout)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "dubline: %v\n", err)
		return ExitInternal
	}
	if fc.OverBudget() {
		t := fc.Totals()
		fmt.Fprintf(e.stderr, "dubline: %d of %d jobs to run (%s) fit the budget %s (%s left in the window); the run stops at the first that does not\n",
			t.Fitting, t.ToRun, t.ToRunCost, p.Budget, fc.Left)
		return ExitOverBudget
	}
	return ExitOK
}

func cmdValidate(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	path, code := oneManifest(fs, args, e)
	if code >= 0 {
		return code
	}
	p, code := buildPlan(ctx, path, planFlags{offline: true}, false, nil, e)
	if p == nil {
		return code
	}
	printWarnings(p, e)
	fmt.Fprintf(e.stdout, "%s: ok (%d jobs)\n", path, len(p.Jobs))
	return ExitOK
}

func cmdSchema(args []string, e env) int {
	if len(args) > 0 {
		fmt.Fprintln(e.stderr, "dubline schema: takes no arguments")
		return ExitInvalid
	}
	e.stdout.Write(pipeline.Schema)
	return ExitOK
}
