package faults

import (
	"errors"
	"fmt"
	"os/exec"

	"github.com/dynamokv/dynamo/faults/netlab"
)

// hosts are where the nodes run: each node on a host with an address of
// its own. With root, hosts are network namespaces joined by a bridge, and
// links between them can be cut; without, they are loopback addresses of
// this machine, where only process nemeses apply.
type hosts interface {
	ip(i int) string
	command(i int, prog string, args ...string) *exec.Cmd
	// links returns the link faults, or nil when the hosts cannot cut
	// links.
	links() links
	describe() string
	close() error
}

// links cut the network between hosts; heal undoes every cut.
type links interface {
	Partition(groups ...[]int) error
	Cut(from, to int) error
	Isolate(i int) error
	Loss(i int, percent int) error
	Heal() error
}

// labHosts are network namespaces.
type labHosts struct{ lab *netlab.Lab }

func (h labHosts) ip(i int) string { return h.lab.HostIP(i) }
func (h labHosts) command(i int, prog string, args ...string) *exec.Cmd {
	return h.lab.Command(i, prog, args...)
}
func (h labHosts) links() links { return h.lab }
func (h labHosts) describe() string {
	return fmt.Sprintf("%d network namespaces on a bridge (%s to %s)", h.lab.Hosts(), h.ip(0), h.ip(h.lab.Hosts()-1))
}
func (h labHosts) close() error { return h.lab.Close() }

// loopHosts are loopback addresses 127.0.0.x, one per node.
type loopHosts struct{ n int }

func (h loopHosts) ip(i int) string { return fmt.Sprintf("127.0.0.%d", 11+i) }
func (h loopHosts) command(_ int, prog string, args ...string) *exec.Cmd {
	return exec.Command(prog, args...)
}
func (h loopHosts) links() links { return nil }
func (h loopHosts) describe() string {
	return fmt.Sprintf("%d loopback addresses (no network namespaces: link nemeses skipped)", h.n)
}
func (h loopHosts) close() error { return nil }

// newHosts makes n hosts: network namespaces when the machine allows, else
// loopback addresses, saying why in reason.
func newHosts(n int, name string) (h hosts, reason string, err error) {
	if err := netlab.CleanStale(); err != nil && !errors.Is(err, netlab.ErrUnsupported) {
		return nil, "", fmt.Errorf("clean up labs of earlier runs: %w", err)
	}
	lab, err := netlab.New(netlab.Config{Name: name, Hosts: n})
	if errors.Is(err, netlab.ErrUnsupported) {
		return loopHosts{n: n}, err.Error(), nil
	}
	if err != nil {
		return nil, "", err
	}
	return labHosts{lab: lab}, "", nil
}
