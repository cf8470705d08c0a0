package transport

import (
	"net"
	"syscall"
	"time"
)

// tcpUserTimeout is Linux's TCP_USER_TIMEOUT socket option (not exported
// by package syscall).
const tcpUserTimeout = 0x12

// tuneConn turns Nagle off and, when userTimeout is set, has the kernel
// abort a connection whose sent data stays unacknowledged that long: a
// peer whose host vanished is then seen even when our writes still fit in
// the socket buffer and so never reach their deadline.
func tuneConn(c net.Conn, userTimeout time.Duration) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	_ = tc.SetNoDelay(true)
	if userTimeout <= 0 {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout, int(userTimeout.Milliseconds()))
	})
}
