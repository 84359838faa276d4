// Package runware is the HTTP client for the Runware API, for the one model
// Dubline drives (KlingAI Lip-Sync, klingai:7@1, async videoInference). Its
// one job: get a task accepted exactly once, wait for its result, and sort
// every failure into a Class the executor can act on.
//
// REST only, Bearer header auth, async delivery only. Submits are batched
// and replies matched by taskUUID (submit.go); one goroutine polls every
// waiting task in shared getResponse rounds (poll.go); what each Runware
// code and HTTP status means is classify.go's table; Error.Terminal and
// Error.Attempts say what an error tells about the task (types.go). The
// client returns videoURL as given; downloading it is storage's job.
package runware
