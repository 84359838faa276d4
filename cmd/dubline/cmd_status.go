package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/dubline/dubline/executor"
	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/pipeline"
	"github.com/dubline/dubline/planner"
)

// cmdStatus prints what the journal says. It reads the manifest only for
// the run name and the default state directory; it touches no network.
func cmdStatus(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	state := fs.String("state", "", "journal directory (default: .dubline beside the manifest)")
	sandbox := fs.Bool("sandbox", false, "show the sandbox rehearsal's journal (.dubline/sandbox)")
	asJSON := fs.Bool("json", false, "print JSON")
	path, code := oneManifest(fs, args, e)
	if code >= 0 {
		return code
	}
	m, err := pipeline.Load(path, e.lookup)
	if err != nil {
		return reportProblems(err, e)
	}
	dir := stateDir(m.Dir, runFlags{sel: selectFlags{state: *state, sandbox: *sandbox}})
	rep, err := executor.ReadStatus(dir, planner.RunName(m), m.Limits.BudgetWindow.Or(planner.DefaultBudgetWindow))
	if err != nil {
		fmt.Fprintf(e.stderr, "dubline status: %v\n", err)
		return ExitInternal
	}
	if b, err := kling.ParseUSD(m.Limits.BudgetUSD.Or("")); err == nil {
		rep.Totals.Budget = b // the manifest's; `validate` reports a bad one
	}
	if *asJSON {
		if err := rep.WriteJSON(e.stdout, -1); err != nil {
			return ExitInternal
		}
		return ExitOK
	}
	rep.WriteSummary(e.stdout)
	return ExitOK
}
