package executor

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Guarantee 3: concurrent appends are group-committed, every record is
// durable (re-read from disk) and no line is interleaved.
func TestJournalGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.journal.jsonl")
	j, _, err := openJournal(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	const writers, per = 50, 20
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := j.append(record{T: time.Now(), Ev: evPlanned, Job: fmt.Sprintf("w%d-%d", w, i), FP: strings.Repeat("f", 64)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	d, err := readJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.states) != writers*per || len(d.warnings) != 0 {
		t.Errorf("%d records, warnings %v", len(d.states), d.warnings)
	}
	if err := j.append(record{Ev: evPlanned, Job: "late"}); err == nil {
		t.Error("append after close succeeded")
	}
}

// Guarantee 3: a torn last line is ignored, reported, truncated away, and
// the run resumes from the good records.
func TestTornTailResume(t *testing.T) {
	e := newEnv(t, 3)
	rep := e.run(context.Background())
	if !rep.Done() {
		t.Fatalf("stopped %q", rep.StoppedBy)
	}
	path := JournalPath(e.opt.StateDir, e.plan.Name)
	good, _ := os.ReadFile(path)
	for _, tail := range []string{`{"t":"2026-01-01T00:00:00Z","ev":"submitting","job":"job-0`, "\x00\x00\x00\x00", "garbage\n"} {
		if err := os.WriteFile(path, append(append([]byte{}, good...), tail...), 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := ReadStatus(e.opt.StateDir, e.plan.Name, e.plan.BudgetWindow)
		if err != nil || len(st.Warnings) != 1 || st.Totals.Succeeded != 3 {
			t.Fatalf("status err %v warnings %v totals %+v", err, st.Warnings, st.Totals)
		}
		before := e.api.submitCount()
		rep := e.run(context.Background())
		if !rep.Done() || rep.Totals.Skipped != 3 || e.api.submitCount() != before {
			t.Errorf("tail %q: stopped %q totals %+v", tail, rep.StoppedBy, rep.Totals)
		}
		if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "torn") {
			t.Errorf("warnings %v", rep.Warnings)
		}
		now, _ := os.ReadFile(path)
		if !bytes.HasPrefix(now, good) || bytes.Contains(now, []byte(tail)) {
			t.Errorf("torn tail %q not truncated", tail)
		}
		good = now
	}
}

// A corrupt line followed by good ones is not a crash artefact: refuse.
func TestCorruptMiddleRefused(t *testing.T) {
	e := newEnv(t, 2)
	e.run(context.Background())
	path := JournalPath(e.opt.StateDir, e.plan.Name)
	b, _ := os.ReadFile(path)
	lines := bytes.SplitAfter(b, []byte("\n"))
	lines[1] = []byte("not json\n")
	os.WriteFile(path, bytes.Join(lines, nil), 0o644)
	if _, err := Run(context.Background(), e.plan, e.opt); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("want a corrupt-line error naming line 2, got %v", err)
	}
	if _, err := ReadStatus(e.opt.StateDir, e.plan.Name, e.plan.BudgetWindow); err == nil {
		t.Error("status accepted a corrupt journal")
	}
}

// Two runs of the same name cannot share the journal.
func TestJournalLocked(t *testing.T) {
	e := newEnv(t, 1)
	j, _, err := openJournal(JournalPath(e.opt.StateDir, e.plan.Name), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if _, err := Run(context.Background(), e.plan, e.opt); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("want in-use error, got %v", err)
	}
	if e.api.submitCount() != 0 {
		t.Error("submitted while the journal was locked")
	}
}

// Guarantee 3: the taskUUID is durable before the request leaves, and
// every state change is journalled in order.
func TestJournalOrderAndDurableBeforeSend(t *testing.T) {
	e := newEnv(t, 2)
	path := JournalPath(e.opt.StateDir, e.plan.Name)
	var bad []string
	var mu sync.Mutex
	e.api.onSubmitCheck = func(uuid string) {
		d, err := readJournal(path)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			bad = append(bad, err.Error())
			return
		}
		for _, s := range d.states {
			if s.Task == uuid && s.State == StateSubmitting {
				return
			}
		}
		bad = append(bad, "task "+uuid+" not journalled as submitting before Submit")
	}
	rep := e.run(context.Background())
	if !rep.Done() || len(bad) > 0 {
		t.Fatalf("stopped %q: %v", rep.StoppedBy, bad)
	}
	b, _ := os.ReadFile(path)
	var evs []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.Contains(l, `"job":"job-000"`) {
			i := strings.Index(l, `"ev":"`) + 6
			evs = append(evs, l[i:i+strings.Index(l[i:], `"`)])
		}
	}
	if got := strings.Join(evs, ","); got != "planned,submitting,accepted,succeeded" {
		t.Errorf("events %s", got)
	}
}
