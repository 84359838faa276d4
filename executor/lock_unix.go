//go:build unix

package executor

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive, non-blocking advisory lock on the journal,
// so two runs of the same name cannot interleave their records.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

func unlockFile(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
