package executor

import (
	"context"
	"time"

	"github.com/dubline/dubline/planner"
	"github.com/dubline/dubline/runware"
	"github.com/dubline/dubline/storage"
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

// Object describes a stored output object (storage.Object).
type Object = storage.Object

// ErrNotFound is what Sink.Stat returns (possibly wrapped) for a missing
// object (storage.ErrNotFound).
var ErrNotFound = storage.ErrNotFound

// Sink is where results go: an S3 prefix or a local directory. Keys are
// relative to the destination. Implementations must be safe for concurrent
// use.
type Sink interface {
	// UploadURL returns a presigned PUT URL for key, valid for ttl.
	UploadURL(ctx context.Context, key, contentType string, ttl time.Duration) (string, error)
	// Stat describes the object at key; errors.Is(err, ErrNotFound) when
	// it does not exist.
	Stat(ctx context.Context, key string) (Object, error)
	// CopyFromURL downloads srcURL and stores it at key with contentType.
	CopyFromURL(ctx context.Context, srcURL, key, contentType string) (Object, error)
	// String names the destination for messages; it holds no secrets.
	String() string
}

// Inputs turns a planned input into something Runware can fetch: a local
// file is staged and presigned, an s3:// object presigned, an https URL or
// a Runware media UUID passed through. The returned URL is secret (it may
// carry a signature) and is never logged or journalled.
type Inputs interface {
	URL(ctx context.Context, in planner.Input) (string, error)
}
