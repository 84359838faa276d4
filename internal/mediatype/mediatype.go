// Package mediatype is the one table of media types by file extension,
// used for staged inputs, Runware uploads and stored results alike.
package mediatype

import (
	"mime"
	"path"
	"strings"
)

// Unknown is the type of a file whose extension is not in the table.
const Unknown = "application/octet-stream"

// byExt is fixed so results do not depend on the machine's
// /etc/mime.types.
var byExt = map[string]string{
	".mp4":  "video/mp4",
	".m4v":  "video/mp4",
	".mov":  "video/quicktime",
	".webm": "video/webm",
	".mkv":  "video/x-matroska",
	".wav":  "audio/wav",
	".mp3":  "audio/mpeg",
	".m4a":  "audio/mp4",
	".aac":  "audio/aac",
	".ogg":  "audio/ogg",
	".opus": "audio/ogg",
	".flac": "audio/flac",
	".json": "application/json",
}

// For returns the media type for name's extension (case-insensitive), or
// Unknown.
func For(name string) string {
	if t, ok := byExt[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return Unknown
}

// Same reports whether a and b name the same media type, ignoring
// parameters and case ("video/mp4; codecs=avc1" is "video/mp4").
func Same(a, b string) bool {
	ma, _, errA := mime.ParseMediaType(a)
	mb, _, errB := mime.ParseMediaType(b)
	if errA != nil || errB != nil {
		return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
	}
	return ma == mb
}
