package s3test

import "syscall"

// sysProcAttr makes the kernel kill the server when the test binary dies
// (e.g. on a test timeout), so no versitygw is left holding a port.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
