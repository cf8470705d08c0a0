package transport

import "net"

// ListenAddrFor returns a listen address ("ip:0") on the local interface
// that routes to addr. A process that talks to a node from outside the
// cluster (a client, `dynamo ping`) must listen where that node can dial
// back, since answers come over the node's own connection to it. No packet
// is sent: a UDP "dial" only picks the route.
func ListenAddrFor(addr string) string {
	ip := "127.0.0.1"
	if c, err := net.Dial("udp", addr); err == nil {
		if ua, ok := c.LocalAddr().(*net.UDPAddr); ok {
			ip = ua.IP.String()
		}
		c.Close()
	}
	return net.JoinHostPort(ip, "0")
}
