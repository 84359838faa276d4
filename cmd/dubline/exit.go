package main

import "github.com/dubline/dubline/executor"

// Exit codes (contract, see README "Exit codes"). This is their only home:
// the packages below report what happened, cmd decides the number.
const (
	ExitOK          = 0   // every selected job succeeded (or was already done); validate/plan: ok
	ExitInternal    = 1   // internal error
	ExitInvalid     = 2   // invalid manifest or usage; nothing submitted
	ExitFailed      = 3   // finished, but some jobs failed
	ExitOverBudget  = 4   // plan over budget / run stopped by the budget
	ExitInterrupted = 130 // SIGINT/SIGTERM or deadline; state saved, run again to resume
)

// runExitCode maps how a run ended to its exit code: why it stopped early
// first (in the executor's precedence), then whether every job succeeded.
func runExitCode(rep *executor.Report) int {
	switch rep.StoppedBy {
	case executor.StopInternal:
		return ExitInternal
	case executor.StopInterrupt, executor.StopDeadline:
		return ExitInterrupted
	case executor.StopFatal, executor.StopFailures:
		return ExitFailed
	case executor.StopBudget:
		return ExitOverBudget
	}
	if !rep.Totals.AllSucceeded() {
		return ExitFailed
	}
	return ExitOK
}
