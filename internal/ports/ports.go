// Package ports finds free TCP ports for tests and benchmarks that start
// node processes.
//
// Ports come from below 32768: the kernel picks the local ports of
// outgoing connections from 32768 up (net.ipv4.ip_local_port_range), so a
// port found free here stays free until the node listens on it, while one
// the kernel handed out for port 0 and released may be taken by an
// outgoing connection first. They also stay away from the ports `make run`
// uses (7001 up and 8001 up), so a developer's cluster and the tests never
// meet.
package ports

import (
	"errors"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
)

// Range of the ports handed out: [Low, High).
const (
	Low  = 20000
	High = 32000
)

// Free returns n distinct ports of host that were free a moment ago.
func Free(host string, n int) ([]int, error) {
	var out []int
	for try := 0; len(out) < n; try++ {
		if try > 100*n+1000 {
			return nil, errors.New("ports: no free ports between 20000 and 32000")
		}
		p := Low + rand.IntN(High-Low)
		if slices.Contains(out, p) || !free(host, p) {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// FreeRun returns a base such that base+1 .. base+n are all free ports of
// host, for commands that number ports from a base.
func FreeRun(host string, n int) (int, error) {
	for try := 0; try < 1000; try++ {
		base := Low + rand.IntN(High-Low-n-1)
		ok := true
		for i := 1; i <= n && ok; i++ {
			ok = free(host, base+i)
		}
		if ok {
			return base, nil
		}
	}
	return 0, errors.New("ports: no free run of ports between 20000 and 32000")
}

func free(host string, p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
