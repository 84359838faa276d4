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
//     not retried on the spot: the tasks are polled again in a later round,
//     and not before a Retry-After the failure carried (capped at
//     Options.Retry.Max).
//   - Idempotent submit (§2.8): after an ambiguous failure (timeout, reset,
//     5xx, 429, a 2xx reply that does not mention the task) the identical
//     body with the same taskUUID is re-sent. A conflictTaskUUID answer to
//     such a re-send (or to a Task.Resend) means "accepted earlier"; on a
//     first attempt it is a Permanent error.
//   - Retry-After (seconds or HTTP-date) is honoured when present, capped at
//     Options.Retry.Max; otherwise Options.Retry's backoff (internal/retry).
//   - Error.Terminal separates the task's fate from the request's: it is set
//     only for an error the server reported in the task's own entry of a
//     reply (a getResponse error with status "error" in either shape, a
//     taskNotFound for it, a per-task refusal in a submit reply). Failures
//     of a whole request (transport, a non-2xx without a per-task entry, a
//     body that is not JSON) are never Terminal.
//   - A getResponse error with status "error" ends the task, Terminal. Its
//     class stays as classified (Fatal stays Fatal, e.g. insufficientCredits),
//     except that a Transient code, or none outside a 401/402/403 reply,
//     becomes Regenerate (the generation failed; the taskUUID is spent). A
//     task-level Transient error without that status is trouble with the
//     poll itself: the task is polled again.
//   - A failed poll request ends a Wait only when it is Fatal (401/402/403).
//     Any other request-level failure (a proxy's non-JSON 404, a 400 naming
//     no task) says nothing about the task: it is polled again until its
//     own outcome or the caller's deadline. Ending it Permanent would make
//     the executor fail a job that may still be running, and pay again.
//     On a multi-task poll such a failure puts its tasks in solo polls, so
//     that a task at fault gets its own, task-level error; a clean solo
//     answer returns the task to shared polls.
//   - uploadFailed is Permanent, not Regenerate: Runware may bill the
//     generation and then fail the upload, so an automatic new task could
//     pay twice. The executor's delivery fallback (videoURL) and a user's
//     rerun are the safe paths.
//   - Error.Message is the server's own text (redacted), or a short
//     description when there is none; class, code and HTTP status live in
//     their own fields, so callers compose their own text. Error() joins
//     them in one line.
//   - The client returns videoURL as given. It does not download it; a URL
//     that answers 422 "not ready" for a while is the downloader's concern.
//
// The error table lives in classify.go.
package runware
