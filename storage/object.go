package storage

import (
	"errors"
	"fmt"

	"github.com/dubline/dubline/internal/mediatype"
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

// Verify is the one check of a stored result: not empty, and of the
// media type expected (parameters ignored). Every delivery path applies it:
// an object Runware PUT, an object copied here, one found by a later run.
func Verify(obj Object, contentType string) error {
	if obj.Size <= 0 {
		return fmt.Errorf("object %s is empty", obj.Key)
	}
	if !mediatype.Same(obj.ContentType, contentType) {
		return fmt.Errorf("object %s has content type %q, want %q", obj.Key, obj.ContentType, contentType)
	}
	return nil
}
