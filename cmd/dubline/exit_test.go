package main

import (
	"testing"

	"github.com/dubline/dubline/executor"
)

// The exit-code table: why the run stopped wins, in the executor's
// precedence; otherwise 3 unless every selected job succeeded.
func TestRunExitCode(t *testing.T) {
	all := executor.Totals{Jobs: 3, Succeeded: 3}
	some := executor.Totals{Jobs: 3, Succeeded: 2, Failed: 1}
	for _, c := range []struct {
		stoppedBy string
		totals    executor.Totals
		want      int
	}{
		{"", all, ExitOK},
		{"", executor.Totals{}, ExitOK}, // nothing selected, nothing to do
		{"", some, ExitFailed},
		{executor.StopFatal, all, ExitFailed},
		{executor.StopFailures, some, ExitFailed},
		{executor.StopBudget, some, ExitOverBudget},
		{executor.StopInterrupt, some, ExitInterrupted},
		{executor.StopDeadline, some, ExitInterrupted},
		{executor.StopInternal, all, ExitInternal},
	} {
		rep := &executor.Report{StoppedBy: c.stoppedBy, Totals: c.totals}
		if got := runExitCode(rep); got != c.want {
			t.Errorf("stopped %q totals %+v: exit %d, want %d", c.stoppedBy, c.totals, got, c.want)
		}
	}
}
