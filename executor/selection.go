package executor

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/dubline/dubline/planner"
)

// action is what a run does with a selected job.
type action int

const (
	actFresh  action = iota // submit a new task
	actVerify               // succeeded earlier: check outputs, redo if missing
	actResume               // in flight: re-send (same taskUUID) or poll
)

// Only narrows a run to the jobs in one journal state.
type Only int

const (
	OnlyAll     Only = iota // every job that is not done
	OnlyFailed              // jobs whose last task failed
	OnlyPending             // jobs never submitted
	OnlyChanged             // jobs whose inputs or parameters changed since the journal saw them
)

var onlyNames = [...]string{"", "failed", "pending", "changed"}

// ParseOnly reads a --only value: "", "failed", "pending" or "changed".
func ParseOnly(s string) (Only, error) {
	for i, n := range onlyNames {
		if s == n {
			return Only(i), nil
		}
	}
	return 0, fmt.Errorf("%q is not allowed; allowed: failed, pending, changed", s)
}

// Shard is this machine's share of the jobs: those whose id hashes to I
// mod N. The zero Shard is every job.
type Shard struct{ I, N int }

// ParseShard reads "I/N" (0 <= I < N); "" is every job.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	sh := Shard{i, n}
	if !ok || err1 != nil || err2 != nil || sh.check() != nil {
		return Shard{}, fmt.Errorf("%q: want I/N with 0 <= I < N, e.g. 0/4", s)
	}
	return sh, nil
}

func (s Shard) check() error {
	if s != (Shard{}) && (s.N < 1 || s.I < 0 || s.I >= s.N) {
		return fmt.Errorf("shard %d/%d: want I/N with 0 <= I < N", s.I, s.N)
	}
	return nil
}

// has reports whether the job with this id is in the shard. FNV-1a of the
// id is stable when the manifest is reordered.
func (s Shard) has(id string) bool {
	if s.N == 0 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32()%uint32(s.N)) == s.I
}

// Selection narrows a run to some of the plan's jobs. IDs, Tags and Shard
// look at the plan (a job matches if it has any of the tags); Only looks
// at the journal.
type Selection struct {
	Only      Only
	IDs, Tags []string
	Shard     Shard
	// Redo forces these succeeded jobs (ids; "all" for every one) to be
	// submitted again, though their outputs are there and up to date.
	Redo []string
}

// redo reports whether the selection forces job id to be redone.
func (s Selection) redo(id string) bool {
	return slices.Contains(s.Redo, "all") || slices.Contains(s.Redo, id)
}

// Jobs returns the plan's jobs that IDs, Tags and Shard select, in plan
// order. An id (in IDs or Redo) that names no job is an error: a typo
// must not select nothing.
func (s Selection) Jobs(plan *planner.Plan) ([]*planner.Job, error) {
	if err := s.Shard.check(); err != nil {
		return nil, err
	}
	ids := map[string]bool{} // ids named by IDs and Redo: seen in the plan?
	for _, id := range slices.Concat(s.IDs, s.Redo) {
		if id != "all" {
			ids[id] = false
		}
	}
	var out []*planner.Job
	for i := range plan.Jobs {
		j := &plan.Jobs[i]
		if _, ok := ids[j.ID]; ok {
			ids[j.ID] = true
		}
		if s.matches(j) {
			out = append(out, j)
		}
	}
	var unknown []string
	for id, seen := range ids {
		if !seen {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("no job with id %s in %s", strings.Join(unknown, ", "), plan.Manifest)
	}
	return out, nil
}

func (s Selection) matches(j *planner.Job) bool {
	if len(s.IDs) > 0 && !slices.Contains(s.IDs, j.ID) {
		return false
	}
	if len(s.Tags) > 0 && !slices.ContainsFunc(j.Tags, func(t string) bool { return slices.Contains(s.Tags, t) }) {
		return false
	}
	return s.Shard.has(j.ID)
}

// Resume. Every Run reads the journal first. Per selected job:
//   - succeeded earlier: its outputs are checked with Stat; if all are there
//     the job is skipped (Skipped, cost 0); a missing output is redone.
//     If the job's fingerprint changed since it succeeded it is redone only
//     with Only "changed"; otherwise it is skipped with a Note saying so
//     (a plain run never spends money on a changed-but-done job silently).
//   - in flight (submitting, accepted, inflight, undelivered): resumed with
//     the SAME taskUUID, whatever Only says (the task may already be paid
//     for and Runware's URLs expire). A submitting job is re-sent with
//     Resend=true (a conflict answer means "accepted earlier": poll); the
//     others are polled. These resumptions reserve their estimate without a
//     budget check: they were committed by an earlier run.
//   - failed earlier: retried with a new taskUUID.
//   - Redo names it (or says "all"): a succeeded job is submitted again.

// Only: "" selects every job that is not done; "failed" selects jobs whose
// last state is failed; "pending" selects jobs never submitted; "changed"
// selects jobs whose fingerprint differs from the one the journal recorded
// last. In-flight jobs (including undelivered ones) are always resumed. IDs and Tags
// narrow the selection (a job matches if it has any of the tags); Shard I/N
// keeps jobs whose FNV-1a hash of the id mod N is I, which is stable when
// the manifest is reordered.

// decide picks the action for a job given its journal state, or ok=false
// when Only leaves it out. note explains a choice the user may not expect.
func decide(j *planner.Job, s *jobState, only Only, redo bool) (act action, ok bool, note string) {
	if s != nil && s.inFlight() {
		return actResume, true, "" // always: it may be paid for already
	}
	known := s != nil && s.State != "" && s.State != StatePending
	changed := known && s.lastFP() != "" && s.lastFP() != j.Fingerprint
	switch only {
	case OnlyFailed:
		if !known || s.State != StateFailed {
			return 0, false, ""
		}
	case OnlyPending:
		if known {
			return 0, false, ""
		}
	case OnlyChanged:
		if !changed {
			return 0, false, ""
		}
	}
	if known && s.State == StateSucceeded {
		if redo {
			return actFresh, true, "redone on request (--redo)"
		}
		if changed && only == OnlyChanged {
			return actFresh, true, "inputs or parameters changed since it succeeded; redone"
		}
		if changed {
			return actVerify, true, "inputs or parameters changed since it succeeded; not redone (use --only changed)"
		}
		return actVerify, true, ""
	}
	return actFresh, true, ""
}
