// Package storage moves bytes between Dubline and where media lives: S3
// (HEAD, ranged GET, presigned GET/PUT, content-addressed staging of local
// inputs, a write preflight) and result destinations (an S3 prefix or a
// local directory).
//
// Design choices where the references are silent:
//
//   - Presigned PUT URLs sign Content-Type but not Content-Length. Runware's
//     uploadEndpoint PUT must then send exactly the signed type; a mismatch is
//     a 403. We sign it because the product promise ("verified with the
//     expected content type") needs a known type on the stored object, and
//     the executor HEADs the object afterwards and falls back to copying
//     videoURL itself when the upload did not arrive.
//   - Staging is content addressed (prefix + sha256 + extension): reruns and
//     identical inputs never re-upload, and a changed file gets a new key, so a
//     presigned GET handed to Runware can never point at stale bytes.
//   - CopyFromURL buffers the source in a temporary file so every upload
//     attempt can replay the body, and it uploads through a presigned PUT
//     from this process (the same path Runware's uploadEndpoint takes).
//     Source GETs are retried on 422/429/500/502/503/504 and network errors
//     for a bounded time (Runware's videoURL may not be servable yet);
//     uploads are retried on 5xx/429/network errors and re-presigned when the
//     URL has expired.
//   - A local directory destination writes a temporary file next to the final
//     name, fsyncs it and renames it: a reader never sees a half-written
//     result under its final name.
//   - Errors name the s3:// URL or path; presigned query strings and
//     credentials never appear in them (internal/redact).
package storage
