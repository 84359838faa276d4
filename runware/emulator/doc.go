// Package emulator is a local stand-in for the Runware HTTP API, limited to
// what Dubline drives: async videoInference with KlingAI Lip-Sync
// (klingai:7@1), plus getResponse, mediaStorage, ping and
// accountManagement. It is an http.Handler, so tests mount it on an
// httptest.Server and `dubline sandbox` serves it on a port.
//
// It does no lip-sync. A "generated" video is the source video's bytes;
// with Options.FFmpeg (and ffmpeg on PATH) the source video's audio is
// replaced by, or mixed with, the new audio per the requested volumes and
// the result is written in the requested outputFormat (outputQuality is
// validated but not applied). Everything else
// (validation, error envelopes, billing, timing, uploads, webhooks, faults)
// follows Runware's API reference; model facts, limits and the price
// rule come from package kling, never from copies here.
//
// Design choices where Runware's reference is silent (inferred behaviour);
// each is a guess about the real server, stated so a live run can correct
// it:
//   - Any path accepts the API POST (so both base URL and base+"/v1" work);
//     GET is served only for /debug/stats, /media/<uuid> and
//     /video/<uuid>.<ext>. Other methods get 405 with an errors body.
//   - Content-Type must be application/json (the docs say it is required).
//   - A leading authentication task wins over the Authorization header; it
//     yields no data item over REST.
//   - Validation reports the first problem of a task, in a fixed order, as
//     one error; error codes for missing/invalid parameters are
//     missing<Name>/invalid<Name>, unknown parameters unsupportedParameter.
//   - Duplicate detection covers videoInference taskUUIDs ever accepted,
//     also after a task expired.
//   - Balance: at submit a job is refused with 402 when the balance cannot
//     pay the cheapest price the job could have (tier 1 × numberResults),
//     since the audio length is not known before the input is fetched. Each
//     result is billed when it succeeds; if the balance cannot pay it then,
//     the task fails with insufficientCredits. The balance never goes
//     negative. Failed generations are not billed.
//   - Inputs are fetched after QueueDelay and probed with media.Probe (the
//     planner's probe); a fetch failure fails the task
//     with downloadFailed, an input outside kling's error-level limits with
//     invalidVideoFormat, invalidAudioFormat, invalidVideoDuration,
//     invalidAudioDuration, invalidWidth, invalidHeight or invalidFileSize.
//     Warning-level limits are not enforced.
//   - Each of numberResults items finishes after its own Latency ± jitter;
//     getResponse shows partial results in a stable order, with progress.
//   - uploadEndpoint gets one PUT per result (all to the same URL) with
//     Content-Type kling.ContentType(outputFormat). A failed PUT does not
//     fail the task (it still succeeds with its videoURL); it is counted.
//   - A failed generation is answered to getResponse with HTTP 200 and an
//     errors item with status "error" (ErrorShape "errors"), or a data item
//     with status "error" and an embedded error (ErrorShape "data").
//   - getResponse for an unknown or expired taskUUID answers taskNotFound
//     with HTTP 404.
//   - Webhooks get the flat item (no data wrapper), one POST per finished
//     item, failures included; non-2xx answers are retried with backoff
//     from 250 ms doubling to 8 s with ±20 % jitter.
//   - videoURL is served until ttl (default 24 h) runs out, then 410 Gone.
//     State (tasks, media, outputs) lives in memory and is never purged:
//     the emulator is for tests and rehearsals, not long-running service.
//   - accountManagement/getDetails reports the remaining balance in USD, or
//     UnlimitedBalanceUSD when the balance is unlimited.
//   - A FaultSlow request whose client gives up during the delay is not
//     processed.
//
// Faults come two ways: deterministic ones queued with Inject (for tests),
// and random ones per Options.FaultRates (for rehearsals; every kind has a
// `dubline sandbox` flag: --fault-429, --fault-503, --fault-504,
// --fault-500-nonjson, --fault-slow with --slow-delay, --fault-reset,
// --retry-after, --fault-nobody, --fault-generation with
// --generation-code, --fault-upload, --fault-videourl-422 with
// --videourl-422-for, --fault-expire). Random faults are drawn from the
// one generator seeded by --seed: request-level ones per API request, in
// a fixed order with at most one firing; task-level ones when a task is
// accepted, never at completion, so the same seed and the same request
// order replay the same faults regardless of timing. Queued faults win
// over random ones. --retry-after and --fault-nobody shape only random
// 429/503/504 replies; queued faults carry their own RetryAfter/NoBody.
package emulator
