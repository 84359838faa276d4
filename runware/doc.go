// Package runware is the HTTP client for the Runware API, for the one model
// Dubline drives (KlingAI Lip-Sync, klingai:7@1, async videoInference). Its
// one job: get a task accepted exactly once, wait for its result, and sort
// every failure into a Class the executor can act on.
//
// Design choices where the Runware references are silent
// (../shared/reference/runware-api.md):
//
//   - REST only, Bearer header auth, async delivery only (§9.1).
//   - Submits are batched: concurrent Submit calls are gathered for up to
//     Options.BatchWindow (or Options.MaxBatch tasks) into one POST. Replies
//     are matched by taskUUID, never by position.
//   - Polling is done by one goroutine for all waiting tasks. It runs in
//     rounds at most Options.PollRoundGap apart; each round sends one
//     getResponse POST per Options.MaxBatch due tasks, so the request rate
//     stays flat however many tasks are in flight. A failed poll request is
//     not retried on the spot: the tasks are polled again in a later round.
//   - Idempotent submit (§2.8): after an ambiguous failure (timeout, reset,
//     5xx, 429, a 2xx reply that does not mention the task) the identical
//     body with the same taskUUID is re-sent. A conflictTaskUUID answer to
//     such a re-send (or to a Task.Resend) means "accepted earlier"; on a
//     first attempt it is a Permanent error.
//   - Retry-After (seconds or HTTP-date) is honoured when present, capped at
//     Options.BackoffMax; otherwise exponential backoff with ±30 % jitter.
//   - Any error reported for a task by getResponse ends that task: a code
//     that Classify calls Transient becomes Regenerate there when the error
//     says status "error" (the generation failed; the taskUUID is spent),
//     while a Transient error without that status is treated as trouble with
//     the poll itself and the task is polled again.
//   - A per-request Permanent error without a taskUUID on a multi-task poll
//     is not blamed on every task: those tasks are polled alone next round.
//   - The client returns videoURL as given. It does not download it; a URL
//     that answers 422 "not ready" for a while is the downloader's concern.
//
// The error table lives in classify.go.
package runware
