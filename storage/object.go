package storage

import (
	"errors"
	"mime"
	"path"
	"strings"
)

// ErrNotFound is wrapped by Head and Stat when the object does not exist.
var ErrNotFound = errors.New("not found")

// Object describes a stored object.
type Object struct {
	Key         string
	Size        int64
	ContentType string
	ETag        string // without quotes; "" for local files
}

// mediaTypes are fixed so results do not depend on /etc/mime.types.
var mediaTypes = map[string]string{
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

// ContentTypeFor returns the media type for name's extension, or
// "application/octet-stream" when it is unknown.
func ContentTypeFor(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := mediaTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
