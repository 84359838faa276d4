package executor

import (
	"fmt"
	"hash/fnv"
	"slices"
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

// selectJobs applies IDs, Tags and Shard (not Only) and returns the jobs in
// plan order. Unknown ids are an error: a typo must not select nothing.
func selectJobs(plan *planner.Plan, opt Options) ([]*planner.Job, error) {
	ids := map[string]bool{}
	for _, id := range opt.IDs {
		ids[id] = false
	}
	var out []*planner.Job
	for i := range plan.Jobs {
		j := &plan.Jobs[i]
		if _, ok := ids[j.ID]; ok {
			ids[j.ID] = true
		}
		if matches(j, opt) {
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
		return nil, fmt.Errorf("executor: unknown job id(s): %s", strings.Join(unknown, ", "))
	}
	return out, nil
}

func matches(j *planner.Job, opt Options) bool {
	if len(opt.IDs) > 0 && !slices.Contains(opt.IDs, j.ID) {
		return false
	}
	if len(opt.Tags) > 0 && !slices.ContainsFunc(j.Tags, func(t string) bool { return slices.Contains(opt.Tags, t) }) {
		return false
	}
	if n := opt.Shard[1]; n > 0 {
		h := fnv.New32a()
		h.Write([]byte(j.ID))
		if int(h.Sum32()%uint32(n)) != opt.Shard[0] {
			return false
		}
	}
	return true
}

// decide picks the action for a job given its journal state, or ok=false
// when Only leaves it out. note explains a choice the user may not expect.
func decide(j *planner.Job, s *jobState, only string) (act action, ok bool, note string) {
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
