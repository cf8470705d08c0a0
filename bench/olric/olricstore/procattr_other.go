//go:build !linux

package olricstore

import "syscall"

// sysProcAttr: only Linux can tie a member's life to its launcher's; here
// a launcher that dies without Stop leaves its members running.
func sysProcAttr() *syscall.SysProcAttr { return nil }
