//go:build !unix

package executor

import "os"

// lockFile is a no-op where flock is unavailable.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}
