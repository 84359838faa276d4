// Package fsutil holds the file-system steps that make writes durable.
package fsutil

import (
	"errors"
	"fmt"
	"os"
)

// SyncDir fsyncs a directory, so that a file just created or renamed in it
// survives a crash. A file system that cannot fsync directories (EINVAL)
// is not an error: there is nothing more to be done on it.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
