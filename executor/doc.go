// Package executor runs a planner.Plan against the Runware API: bounded
// concurrency, a budget that binds, a durable journal, resume, retries of
// failed generations, output delivery and verification, and a report.
//
// It talks to the outside world through three small interfaces (API, storage.Destination,
// Inputs) that the runware and storage packages satisfy, so it can be
// tested with in-memory fakes and run against the real client and S3.
//
// # Design choices (where the references are silent)
//
// Journal. One append-only file of JSON lines per run name,
// <StateDir>/<name>.journal.jsonl, one record per state change of a job:
// planned (with fingerprint and estimate), submitting (taskUUID, written and
// fsynced before the request leaves), accepted, succeeded (outputs, cost),
// failed (class, code, message), inflight (the poll deadline passed or the
// task's state is unknown), undelivered (generated and billed, but the
// output could not be stored), plus submit-error (a submit error that
// leaves the task's fate unknown: the state stays submitting) and forgotten
// (ForgetInflight: the job is pending again). JSON lines were chosen over a database
// because appends are atomic enough, a crash leaves at most a torn tail, and
// a human can read it. Concurrent appends are group-committed: one writer
// goroutine takes every record queued while the previous fsync ran, writes
// them with one write+fsync, then wakes each waiting writer. A writer only
// proceeds (e.g. sends its request) once its record is durable.
//
// Torn tail. A crash can leave a partial last line. It was never
// acknowledged, so the action it announced never happened (a submitting
// record that is torn means the request never left). Unparseable bytes
// after the last good line are therefore dropped: the file is truncated to
// the last good line, a slog warning is logged and the report lists it.
// Unparseable lines followed by good lines are not a crash artefact; Run
// refuses to guess (money is at stake) and returns an error naming the line.
// An flock on the journal stops two runs of the same name at once (unix).
//
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
//
// ForgetInflight (for the in-process sandbox, whose emulator forgets its
// tasks when the process exits) instead treats journalled in-flight tasks
// as never submitted: a "forgotten" record makes the job pending again and
// it is submitted with a new taskUUID (with a Note). It is only for an API
// that bills nothing: against Runware it would pay again for tasks that
// may already be paid for.
//
// Only: "" selects every job that is not done; "failed" selects jobs whose
// last state is failed; "pending" selects jobs never submitted; "changed"
// selects jobs whose fingerprint differs from the one the journal recorded
// last. In-flight jobs (including undelivered ones) are always resumed. IDs and Tags
// narrow the selection (a job matches if it has any of the tags); Shard I/N
// keeps jobs whose FNV-1a hash of the id mod N is I, which is stable when
// the manifest is reordered.
//
// Budget. Before each submission the job's estimate is reserved; a job whose
// reservation would make spent + reserved exceed the budget is not submitted,
// no further job is started, the rest stay pending and StoppedBy is "budget".
// A result replaces the reservation by the actual cost (the reported cost,
// else the estimate). A failed task releases it (failed generations are
// reportedly not billed). A task whose outcome is unknown at the end of the
// run keeps its reservation, reported as Reserved. Regenerations reuse the
// job's reservation. The actual cost is only known after the fact, so if
// Runware bills more than the price rule estimated, later reservations are
// scaled by the worst actual/estimate ratio seen so far: an underestimating
// rule can then overrun the budget only by the drift of jobs already in
// flight when the first underestimate was billed (none at concurrency 1),
// and the drift is reported per job and in total.
//
// Outputs. With numberResults 1 and no user uploadEndpoint, the task gets a
// presigned PUT for its output key. After success every output is Stat'ed
// (exists, size > 0, content type kling.ContentType(format)); a missing or
// wrong object is replaced at once by CopyFromURL(videoURL). Results are
// always copied when numberResults > 1, when no upload URL was passed, or
// when an object already existed at the key before the submission (a stale
// object must not pass for the new result). A job succeeds only after
// verification. If an output key already exists and the journal has never
// seen the job submitted, the job fails with code outputExists unless
// Overwrite is set (failing, not skipping, so the conflict is visible).
// Delivery that fails after the task succeeded is journalled as undelivered:
// the next run polls the same task again and retries the delivery, instead
// of paying for a new generation. The delivery of one job (Stat and copies)
// is bounded by Options.DeliveryTimeout (default max(plan.JobTimeout,
// 10 min)); when it passes the job is undelivered. A result Runware no
// longer serves (the copy from videoURL ends with storage.ErrSourceGone: a
// final 403/404/410, the URL expired) cannot be delivered by polling again:
// the job fails at once (class "delivery", code "resultUnavailable") so the
// next run generates it anew; the lost task stays billed.
//
// Errors. What an error means for a job (its journal state, whether the
// run stops, whether a new task is generated, whether it may be billed)
// is decided by judge (outcome.go), whose table and rationale are there.
// Messages are composed from the error's fields: class and code are
// reported in their own fields (the summary prints "class code: message"),
// and StoppedBy "fatal" reports "code: message".
//
// StoppedBy, in order of precedence: "internal" when the journal could
// not be written; "interrupt" when ctx was cancelled and "deadline" when
// plan.Deadline passed before every selected job succeeded (state saved,
// run again to resume); "fatal" when a Fatal API error stopped the run
// (FatalError says why); "budget" when the budget did. cmd/dubline maps
// these and the totals to exit codes.
//
// Shutdown. On cancellation no new submission starts (the stop is checked
// again right before "submitting" is journalled, after the inputs were
// resolved and staged, which can take long; a job stopped there stays
// pending, a journalled re-send stays submitting); jobs already in flight
// keep their context for Options.Grace (default 10 s) to record their
// state, then are cancelled. The journal is consistent at every fsync.
//
// Secrets. The journal and the report hold no URLs at all; every error
// message is scrubbed (URL query strings and user info removed, and
// Options.Secrets replaced) before it is logged, journalled or reported.
package executor
