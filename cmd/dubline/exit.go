package main

// Exit codes (contract, see README "Exit codes").
const (
	ExitOK          = 0   // every selected job succeeded (or was already done); validate/plan: ok
	ExitInternal    = 1   // internal error
	ExitInvalid     = 2   // invalid manifest or usage; nothing submitted
	ExitFailed      = 3   // finished, but some jobs failed
	ExitOverBudget  = 4   // plan over budget / run stopped by the budget
	ExitInterrupted = 130 // SIGINT/SIGTERM or deadline; state saved, run again to resume
)
