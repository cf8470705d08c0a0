package netlab

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
)

// Config of a lab.
type Config struct {
	// Name is short, [a-z0-9]{1,8}; the lab's namespaces and links are
	// named from it and the process id.
	Name string
	// Hosts is the number of hosts, 1..MaxHosts.
	Hosts int
}

// MaxHosts is the largest lab: host addresses run from .11 up in one /24.
const MaxHosts = 50

const (
	// namePrefix starts every namespace name and root veth alias, so that
	// CleanStale touches nothing another program made.
	namePrefix = "dynlab-"
	bridge     = "br0"
	// uplink is the switch end of the root veth; it and the host ports
	// ("pv<i>") live only in the switch namespace, so they cannot collide.
	uplink  = "up0"
	hostDev = "eth0"
)

var validName = regexp.MustCompile(`^[a-z0-9]{1,8}$`)

func (c Config) validate() error {
	if !validName.MatchString(c.Name) {
		return fmt.Errorf("netlab: lab name %q must be 1 to 8 characters of a-z and 0-9", c.Name)
	}
	if c.Hosts < 1 || c.Hosts > MaxHosts {
		return fmt.Errorf("netlab: lab %q asks for %d hosts; a lab has 1 to %d", c.Name, c.Hosts, MaxHosts)
	}
	return nil
}

// owner identifies the lab among all labs on the machine: the process that
// made it and a sequence number within that process, so one process can run
// several labs of the same name.
type owner struct {
	pid int
	seq uint64
}

var labSeq atomic.Uint64

// Lab is a running lab. Its methods are safe for concurrent use.
type Lab struct {
	tools  tools
	owner  owner
	id     string   // "dynlab-<name>-<pid>-<seq>", the start of every name
	sw     string   // switch namespace
	hosts  []string // host namespaces, by host number
	veth   string   // root namespace end of the uplink
	subnet netip.Prefix

	// made records what setup got done, so that teardown after a partial
	// failure removes exactly that.
	made struct {
		sw, veth   bool
		hosts      int // namespaces made: hosts[0:hosts]
		hostTables int // one-way tables installed: hosts[0:hostTables]
	}

	mu     sync.Mutex
	closed bool
	oneway map[int]bool // hosts whose table holds one-way cuts since the last Heal
}

// New builds the lab: a switch namespace with a bridge, one namespace per
// host with its own IP, and a veth from the root namespace with the
// gateway IP, on a free /24 in 10.0.0.0/8. It needs root and the ip and
// nft commands; without them it returns an error wrapping ErrUnsupported
// that says what is missing. A failure midway tears down what was made.
func New(cfg Config) (*Lab, error) {
	return newLab(cfg, owner{pid: os.Getpid(), seq: labSeq.Add(1)})
}

func newLab(cfg Config, o owner) (*Lab, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t, err := findTools()
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%s%s-%d-%d", namePrefix, cfg.Name, o.pid, o.seq)
	l := &Lab{
		tools:  t,
		owner:  o,
		id:     id,
		sw:     id + "-sw",
		veth:   "dl" + strconv.FormatInt(int64(o.pid), 36) + "-" + strconv.FormatUint(o.seq, 36),
		oneway: map[int]bool{},
	}
	if len(l.veth) > 15 {
		return nil, fmt.Errorf("netlab: interface name %q for pid %d is longer than the kernel's 15 bytes", l.veth, o.pid)
	}
	for i := range cfg.Hosts {
		l.hosts = append(l.hosts, fmt.Sprintf("%s-h%d", id, i))
	}
	setLive(o, true)
	if err := l.setup(); err != nil {
		err = fmt.Errorf("netlab: build lab %s: %w", id, err)
		if cerr := l.Close(); cerr != nil {
			err = fmt.Errorf("%w; tearing down what was made also failed: %v", err, cerr)
		}
		return nil, err
	}
	return l, nil
}

func (l *Lab) ip(args ...string) error {
	_, err := run("", l.tools.ip, args...)
	return err
}

func (l *Lab) setup() error {
	sw := l.sw
	if err := l.ip("netns", "add", sw); err != nil {
		if outputHas(err, "File exists") {
			return fmt.Errorf("create the switch namespace: %w (left by an earlier process with the same pid? call CleanStale before New)", err)
		}
		return unsupportedIf(fmt.Errorf("create the switch namespace: %w", err),
			"creating namespaces needs CAP_SYS_ADMIN (an unprivileged container?)",
			"Operation not permitted", "Permission denied")
	}
	l.made.sw = true
	if err := l.ip("-n", sw, "link", "add", bridge, "type", "bridge"); err != nil {
		return unsupportedIf(fmt.Errorf("create the bridge: %w", err),
			"the kernel has no bridge support", "Unknown device type", "not supported")
	}
	for _, args := range [][]string{
		{"-n", sw, "link", "set", bridge, "up"},
		{"-n", sw, "link", "set", "lo", "up"},
	} {
		if err := l.ip(args...); err != nil {
			return fmt.Errorf("bring up the switch: %w", err)
		}
	}

	// The root veth is made with its peer already in the switch namespace,
	// so deleting that namespace also removes it.
	if err := l.ip("link", "add", l.veth, "type", "veth", "peer", "name", uplink, "netns", sw); err != nil {
		return fmt.Errorf("create the root veth %s: %w", l.veth, err)
	}
	l.made.veth = true
	if err := l.ip("link", "set", "dev", l.veth, "alias", l.id); err != nil {
		return fmt.Errorf("label the root veth %s: %w", l.veth, err)
	}
	if err := l.ip("-n", sw, "link", "set", uplink, "master", bridge, "up"); err != nil {
		return fmt.Errorf("attach the uplink to the bridge: %w", err)
	}
	if err := l.claimSubnet(); err != nil {
		return err
	}
	if err := l.ip("link", "set", l.veth, "up"); err != nil {
		return fmt.Errorf("bring up the root veth %s: %w", l.veth, err)
	}

	for i, ns := range l.hosts {
		if err := l.ip("netns", "add", ns); err != nil {
			return fmt.Errorf("create the namespace of host %d: %w", i, err)
		}
		l.made.hosts++
		port := "pv" + strconv.Itoa(i)
		addr := l.hostAddr(i).String() + "/24"
		for _, args := range [][]string{
			{"-n", sw, "link", "add", port, "type", "veth", "peer", "name", hostDev, "netns", ns},
			{"-n", sw, "link", "set", port, "master", bridge, "up"},
			{"-n", ns, "addr", "add", addr, "dev", hostDev},
			{"-n", ns, "link", "set", hostDev, "up"},
			// Nodes talk to themselves too, which needs loopback.
			{"-n", ns, "link", "set", "lo", "up"},
		} {
			if err := l.ip(args...); err != nil {
				return fmt.Errorf("wire host %d (%s): %w", i, addr, err)
			}
		}
	}
	return l.installRules()
}

// Hosts returns the number of hosts.
func (l *Lab) Hosts() int { return len(l.hosts) }

func (l *Lab) check(i int) {
	if i < 0 || i >= len(l.hosts) {
		panic(fmt.Sprintf("netlab: host %d out of range [0,%d)", i, len(l.hosts)))
	}
}

// HostIP returns host i's address, e.g. "10.213.7.11"; i counts from 0.
func (l *Lab) HostIP(i int) string {
	l.check(i)
	return l.hostAddr(i).String()
}

// GatewayIP returns the root namespace's address on the lab's network: the
// address the hosts reach the test process and its clients at.
func (l *Lab) GatewayIP() string { return l.gatewayAddr().String() }

// Namespace returns the name of host i's network namespace.
func (l *Lab) Namespace(i int) string {
	l.check(i)
	return l.hosts[i]
}

// Command returns a command that runs prog inside host i's namespace. It
// goes through `ip netns exec`, which execs, so the started PID is prog
// itself and signals sent to it reach prog. For an i out of range the
// command fails to start.
func (l *Lab) Command(i int, prog string, args ...string) *exec.Cmd {
	ns := "?"
	if i >= 0 && i < len(l.hosts) {
		ns = l.hosts[i]
	}
	cmd := exec.Command(l.tools.ip, append([]string{"netns", "exec", ns, prog}, args...)...)
	if ns == "?" {
		cmd.Err = fmt.Errorf("netlab: host %d out of range [0,%d)", i, len(l.hosts))
	}
	return cmd
}

// Close tears down everything the lab made: the root veth and its address,
// the nft tables, the switch and every host namespace. It does not kill
// processes running in the hosts; they keep running, without a network.
// Calling it again does nothing.
func (l *Lab) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true

	var errs []error
	del := func(what string, args ...string) {
		if err := l.ip(args...); err != nil && !isGone(err) {
			errs = append(errs, fmt.Errorf("remove %s: %w", what, err))
		}
	}
	// The root veth goes first and explicitly: the kernel frees a deleted
	// namespace's devices in the background, so the root end could
	// otherwise linger after Close returns.
	if l.made.veth {
		del("the root veth "+l.veth, "link", "del", "dev", l.veth)
	}
	// A host namespace that still has processes in it survives the
	// deletion of its name, and with it its table.
	for i := range l.made.hostTables {
		del("the one-way table of host "+strconv.Itoa(i),
			"netns", "exec", l.hosts[i], l.tools.nft, "delete", "table", "ip", tableName)
	}
	if l.made.sw {
		del("the switch namespace", "netns", "del", l.sw)
	}
	for i := range l.made.hosts {
		del("the namespace of host "+strconv.Itoa(i), "netns", "del", l.hosts[i])
	}
	// Even a failed teardown ends the lab: CleanStale may take what is left.
	setLive(l.owner, false)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("netlab: close lab %s: %w", l.id, err)
	}
	return nil
}

// errClosed is returned by the rule methods after Close.
func (l *Lab) errClosed() error {
	return fmt.Errorf("netlab: lab %s is closed", l.id)
}
