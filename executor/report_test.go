package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dubline/dubline/runware"
)

// The JSON report carries dollars, states, drift and errors; the summary
// names every failure with its reason; status reads the journal back.
func TestReportOutputs(t *testing.T) {
	e := newEnv(t, 3)
	e.plan.Budget = 10000
	e.api.cost = func(task runware.Task) (float64, bool) { return 0.0924, true }
	e.api.onSubmit = func(task runware.Task, call int) error {
		if strings.Contains(task.Video, "job-002") {
			return &runware.Error{Class: runware.Permanent, Code: "invalidAudio", Message: "audio too short"}
		}
		return nil
	}
	rep := e.run(context.Background())
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf, 3); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Run      string `json:"run"`
		ExitCode *int   `json:"exitCode"`
		Totals   struct {
			Succeeded, Failed  int
			SpentUSD, DriftUSD float64
			BudgetUSD          *float64
		} `json:"totals"`
		Jobs []struct {
			ID        string   `json:"id"`
			State     string   `json:"state"`
			ActualUSD *float64 `json:"actualUSD"`
			DriftUSD  *float64 `json:"driftUSD"`
			Error     *struct{ Class, Code, Message string }
		} `json:"jobs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if got.Run != "test-run" || got.ExitCode == nil || *got.ExitCode != 3 || got.Totals.Succeeded != 2 || got.Totals.Failed != 1 ||
		got.Totals.SpentUSD != 0.1848 || got.Totals.DriftUSD != 0.0924 || got.Totals.BudgetUSD == nil || *got.Totals.BudgetUSD != 1 {
		t.Errorf("report %+v\n%s", got, buf.String())
	}
	if j := got.Jobs[0]; j.ActualUSD == nil || *j.ActualUSD != 0.0924 || *j.DriftUSD != 0.0462 {
		t.Errorf("job %+v", j)
	}
	if j := got.Jobs[2]; j.State != "failed" || j.Error == nil || j.Error.Code != "invalidAudio" || j.ActualUSD != nil {
		t.Errorf("job %+v", j)
	}

	buf.Reset()
	rep.WriteSummary(&buf)
	for _, want := range []string{`run "test-run": 3 job(s): 2 succeeded`, "1 failed", "spent $0.1848 (drift +$0.0924)",
		"budget $1.0000", "job-002", "failed       job-002              permanent invalidAudio: audio too short\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, buf.String())
		}
	}

	st, err := ReadStatus(e.opt.StateDir, e.plan.Name, e.plan.BudgetWindow)
	if err != nil {
		t.Fatal(err)
	}
	if st.Totals.Succeeded != 2 || st.Totals.Failed != 1 || st.Totals.Spent != 1848 || len(st.Jobs) != 3 {
		t.Errorf("status %+v", st.Totals)
	}
	if j := st.Jobs[0]; j.Actual != 924 || j.TaskUUID == "" || len(j.Outputs) != 1 || j.Attempts != 1 {
		t.Errorf("status job %+v", j)
	}
	// No journal yet: an empty status, not an error.
	if st, err := ReadStatus(t.TempDir(), "none", time.Hour); err != nil || len(st.Jobs) != 0 {
		t.Errorf("empty status %v %+v", err, st)
	}
}
