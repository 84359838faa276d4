// Package executor runs a planner.Plan against the Runware API: bounded
// concurrency, a budget that binds, a durable journal, resume, retries of
// failed generations, output delivery and verification, and a report. It
// reaches the outside world through API, storage.Destination and Inputs,
// so tests run it on in-memory fakes and users on runware and storage.
//
// Where to read: judge (outcome.go) decides what every error means;
// journal.go how state survives a crash; selection.go what a rerun
// resumes; budget.go how money is reserved and settled; deliver.go how an
// output is verified; run.go how a run starts and shuts down.
package executor
