package executor

import (
	"context"

	"github.com/dubline/dubline/planner"
	"github.com/dubline/dubline/runware"
)

// API is the part of the Runware client the executor uses;
// *runware.Client satisfies it. Implementations must be safe for
// concurrent use and return *runware.Error (or errors classified by
// runware.ClassOf) that never contain secrets.
type API interface {
	// Submit sends one task with the caller's taskUUID. With t.Resend a
	// conflict answer is reported as SubmitResult.Conflict, not an error.
	Submit(ctx context.Context, t runware.Task) (runware.SubmitResult, error)
	// Wait polls the task until it finishes with numberResults results,
	// fails, or ctx ends (the run applies plan.JobTimeout).
	Wait(ctx context.Context, taskUUID string, numberResults int) (*runware.Result, error)
}

// Inputs turns a planned input into something Runware can fetch: a local
// file is staged and presigned, an s3:// object presigned, an https URL or
// a Runware media UUID passed through. The returned URL is secret (it may
// carry a signature) and is never logged or journalled.
type Inputs interface {
	URL(ctx context.Context, in planner.Input) (string, error)
}
