package executor

import (
	"context"
	"errors"
	"fmt"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/planner"
	"github.com/dubline/dubline/runware"
	"github.com/dubline/dubline/storage"
)

// Outputs. With numberResults 1 and no user uploadEndpoint, the task gets a
// presigned PUT for its output key. After success every output is Stat'ed
// and checked by storage.Verify (non-empty, the format's media type); a missing or
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

// buildTask resolves the job's inputs and, for a single result without a
// user uploadEndpoint, presigns a PUT for the output key. uploading says
// whether Runware was asked to deliver to our destination.
func (r *runner) buildTask(ctx context.Context, job *planner.Job) (t runware.Task, uploading bool, err error) {
	video, err := r.opt.Inputs.URL(ctx, job.Video)
	if err != nil {
		return t, false, fmt.Errorf("video %s: %w", job.Video.Raw, err)
	}
	audio, err := r.opt.Inputs.URL(ctx, job.Audio)
	if err != nil {
		return t, false, fmt.Errorf("audio %s: %w", job.Audio.Raw, err)
	}
	t = runware.Task{Video: video, Audio: audio, Request: *job.Request}
	if t.Request.NumberResults() == 1 && t.Request.UploadEndpoint() == "" && len(job.OutputKeys) == 1 {
		ct := kling.ContentType(t.Request.OutputFormat())
		u, err := r.opt.Dest.UploadURL(ctx, job.OutputKeys[0], ct, r.plan.Output.PresignTTL)
		if err != nil {
			if ctx.Err() != nil {
				return t, false, ctx.Err()
			}
			r.log.Warn("no upload URL; the result will be copied from videoURL", "job", job.ID, "err", r.scrub.err(err))
			return t, false, nil
		}
		t.Request.SetUploadEndpoint(u) // "" when the destination takes no direct uploads (a local directory)
		return t, u != "", nil
	}
	return t, false, nil
}

// existingOutputs returns the job's output keys that already exist.
func (r *runner) existingOutputs(ctx context.Context, job *planner.Job) ([]string, error) {
	return existingOutputs(ctx, r.opt.Dest, job)
}

// blocksSubmit reports whether existing objects at a job's keys stop its
// submission: the journal never saw the job submitted (so they are not
// ours) and Overwrite is off.
func blocksSubmit(existing []string, known, overwrite bool) bool {
	return len(existing) > 0 && !known && !overwrite
}

func existingOutputs(ctx context.Context, dest storage.Destination, job *planner.Job) ([]string, error) {
	var found []string
	for _, key := range job.OutputKeys {
		_, err := dest.Stat(ctx, key)
		switch {
		case err == nil:
			found = append(found, key)
		case !errors.Is(err, storage.ErrNotFound):
			return nil, fmt.Errorf("stat %s: %w", key, err)
		}
	}
	return found, nil
}

// verifyDone checks the outputs of a job an earlier run finished.
func (r *runner) verifyDone(ctx context.Context, job *planner.Job) ([]OutputReport, bool, error) {
	return verifyOutputs(ctx, r.opt.Dest, job)
}

// verifyOutputs reports whether every output of job is in dest and passes
// storage.Verify; an error means the destination could not be asked.
func verifyOutputs(ctx context.Context, dest storage.Destination, job *planner.Job) ([]OutputReport, bool, error) {
	ct := kling.ContentType(job.Request.OutputFormat())
	var outs []OutputReport
	for _, key := range job.OutputKeys {
		obj, err := dest.Stat(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("stat %s: %w", key, err)
		}
		if storage.Verify(obj, ct) != nil {
			return nil, false, nil
		}
		outs = append(outs, outputReport(key, obj))
	}
	return outs, true, nil
}

// deliver makes sure every result is stored and verified at its key.
func (r *runner) deliver(ctx context.Context, w *work, res *runware.Result) ([]OutputReport, error) {
	ct := kling.ContentType(w.job.Request.OutputFormat())
	var outs []OutputReport
	for i, key := range w.job.OutputKeys {
		if i >= len(res.Items) {
			return outs, fmt.Errorf("the task returned %d of %d results", len(res.Items), len(w.job.OutputKeys))
		}
		obj, err := r.deliverOne(ctx, w, key, ct, res.Items[i].VideoURL)
		if err != nil {
			return outs, fmt.Errorf("output %s: %w", key, err)
		}
		outs = append(outs, outputReport(key, obj))
	}
	return outs, nil
}

// deliverOne trusts an object Runware PUT via uploadEndpoint only after
// storage.Verify; anything else is copied from videoURL at once (it
// expires), which verifies the copy.
func (r *runner) deliverOne(ctx context.Context, w *work, key, ct, videoURL string) (storage.Object, error) {
	if !w.copy {
		obj, err := r.opt.Dest.Stat(ctx, key)
		if err == nil {
			err = storage.Verify(obj, ct)
		}
		switch {
		case err == nil:
			return obj, nil
		case errors.Is(err, storage.ErrNotFound):
			r.log.Info("uploadEndpoint did not deliver; copying from videoURL", "job", w.job.ID, "key", key)
		default:
			r.log.Warn("uploaded object missing or wrong; copying from videoURL", "job", w.job.ID, "key", key, "err", r.scrub.err(err))
		}
	}
	if videoURL == "" {
		return storage.Object{}, errors.New("not in the destination and the result has no videoURL")
	}
	return r.opt.Dest.CopyFromURL(ctx, videoURL, key, ct)
}

func outputReport(key string, obj storage.Object) OutputReport {
	return OutputReport{Key: key, Size: obj.Size, ContentType: obj.ContentType}
}
