package olricstore

import "syscall"

// sysProcAttr has the kernel kill a member if the process that started it
// dies without calling Stop (a test binary killed on timeout, say), so no
// member outlives its launcher.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
