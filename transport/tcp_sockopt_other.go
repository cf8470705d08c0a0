//go:build !linux

package transport

import (
	"net"
	"time"
)

// tuneConn turns Nagle off; elsewhere than Linux the write deadline alone
// detects a vanished peer.
func tuneConn(c net.Conn, _ time.Duration) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
}
