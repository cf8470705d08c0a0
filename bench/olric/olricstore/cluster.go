package olricstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	host = "127.0.0.1"
	// startTimeout bounds StartCluster when ctx has no earlier deadline.
	startTimeout = 60 * time.Second
	// stopGrace is how long a member has to leave after SIGTERM before it
	// is killed.
	stopGrace = 5 * time.Second
	// tailBytes is how much of a member's stderr a start error carries.
	tailBytes = 2048
	probeDMap = "olricstore-probe"
)

// Cluster is a set of olricnode processes on loopback that form one olric
// cluster.
type Cluster struct {
	dir      string
	ports    []int
	members  []*member
	stopOnce sync.Once
}

type member struct {
	id      int
	addr    string // olric client host:port
	errPath string // the member's stderr, a file in the cluster's dir
	cmd     *exec.Cmd
	ready   chan struct{} // closed when the member prints "ready"
	exited  chan struct{} // closed once the process is reaped
	waitErr error         // the process's exit, set before exited closes
}

// StartCluster starts members olricnode processes built at bin, each
// given the others' memberlist addresses as peers, and returns once every
// member said "ready" and a Put then Get through olric's client succeeded
// on a routing table that names every member.
//
// Keys get min(3, members) copies and reads and writes wait for a
// majority of them, so 3 members run with --replicas 3 --read-quorum 2
// --write-quorum 2. A member serves only while it sees a majority of the
// members (--member-count-quorum), so a minority side of a partition
// refuses requests rather than diverging.
//
// On any failure nothing it started is left running, and the error carries
// the stderr tail of the member(s) at fault.
//
// olric's bootstrap, with every member starting at once, now and then
// ends a member with "unrecognized cluster coordinator" (its routing table
// names a coordinator its memberlist has not yet heard of): such a start
// is tried again, on fresh ports, up to startAttempts times.
func StartCluster(ctx context.Context, bin string, members int) (*Cluster, error) {
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		var c *Cluster
		if c, err = startCluster(ctx, bin, members); err == nil {
			return c, nil
		}
		if !strings.Contains(err.Error(), "unrecognized cluster coordinator") || ctx.Err() != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("olricstore: %d starts failed, the last: %w", startAttempts, err)
}

const startAttempts = 3

func startCluster(ctx context.Context, bin string, members int) (*Cluster, error) {
	if members < 1 {
		return nil, fmt.Errorf("olricstore: %d members", members)
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "olric-cluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir}
	ports, err := freePorts(host, 2*members)
	if err != nil {
		c.Stop()
		return nil, err
	}
	c.ports = ports
	clientAddr := func(i int) string { return net.JoinHostPort(host, strconv.Itoa(ports[2*i])) }
	gossipAddr := func(i int) string { return net.JoinHostPort(host, strconv.Itoa(ports[2*i+1])) }

	replicas := min(3, members)
	quorum := replicas/2 + 1
	for i := range members {
		var peers []string
		for j := range members {
			if j != i {
				peers = append(peers, gossipAddr(j))
			}
		}
		m, err := c.startMember(bin, i, clientAddr(i), []string{
			"--bind", host,
			"--port", strconv.Itoa(ports[2*i]),
			"--memberlist-port", strconv.Itoa(ports[2*i+1]),
			"--peers", strings.Join(peers, ","),
			"--replicas", strconv.Itoa(replicas),
			"--read-quorum", strconv.Itoa(quorum),
			"--write-quorum", strconv.Itoa(quorum),
			"--member-count-quorum", strconv.Itoa(members/2 + 1),
		})
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.members = append(c.members, m)
	}

	for _, m := range c.members {
		select {
		case <-m.ready:
		case <-m.exited:
			err := m.failure("exited before ready")
			c.Stop()
			return nil, err
		case <-ctx.Done():
			err := m.failure("not ready: " + ctx.Err().Error())
			c.Stop()
			return nil, err
		}
	}

	if err := c.waitServing(ctx); err != nil {
		var tails []string
		for _, m := range c.members {
			tails = append(tails, m.failure("").Error())
		}
		c.Stop()
		return nil, fmt.Errorf("olricstore: cluster of %d not serving: %w\n%s", members, err, strings.Join(tails, "\n"))
	}
	return c, nil
}

// startMember starts one olricnode with its stderr going to a file in the
// cluster's dir and a goroutine that watches its stdout for "ready" and
// reaps it.
func (c *Cluster) startMember(bin string, id int, addr string, args []string) (*member, error) {
	m := &member{
		id:      id,
		addr:    addr,
		errPath: filepath.Join(c.dir, fmt.Sprintf("member%d.stderr", id)),
		ready:   make(chan struct{}),
		exited:  make(chan struct{}),
	}
	errFile, err := os.Create(m.errPath)
	if err != nil {
		return nil, err
	}
	defer errFile.Close() // the child has its own copy once started
	m.cmd = exec.Command(bin, args...)
	m.cmd.Dir = c.dir
	m.cmd.Stderr = errFile
	m.cmd.SysProcAttr = sysProcAttr()
	out, err := m.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("olricstore: start member %d: %w", id, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		said := false
		for sc.Scan() {
			if !said && strings.TrimSpace(sc.Text()) == "ready" {
				said = true
				close(m.ready)
			}
		}
		// Drained to EOF, so Wait may close the pipe now.
		m.waitErr = m.cmd.Wait()
		close(m.exited)
	}()
	return m, nil
}

// waitServing polls until a fresh client sees every member, both in the
// member list and as a primary owner in the routing table, and a Put then
// Get of a probe key succeeds. A member that exits meanwhile ends it.
func (c *Cluster) waitServing(ctx context.Context) error {
	var s *Store
	defer func() {
		if s != nil {
			s.Close()
		}
	}()
	var last error
	for attempt := 0; ; attempt++ {
		for _, m := range c.members {
			select {
			case <-m.exited:
				return fmt.Errorf("member %d exited: %v", m.id, m.waitErr)
			default:
			}
		}
		if s == nil {
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			s, last = Dial(actx, c.Addrs(), probeDMap)
			cancel()
		}
		if s != nil {
			last = c.probe(ctx, s, attempt)
			if last == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) probe(ctx context.Context, s *Store, attempt int) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ms, err := s.client.Members(ctx)
	if err != nil {
		return err
	}
	if len(ms) != len(c.members) {
		return fmt.Errorf("%d of %d members joined", len(ms), len(c.members))
	}
	rt, err := s.client.RoutingTable(ctx)
	if err != nil {
		return err
	}
	owners := map[string]bool{}
	for _, r := range rt {
		if n := len(r.PrimaryOwners); n > 0 {
			owners[r.PrimaryOwners[n-1]] = true
		}
	}
	for _, a := range c.Addrs() {
		if !owners[a] {
			return fmt.Errorf("routing table does not name %s yet", a)
		}
	}
	key := []byte("probe-" + strconv.Itoa(attempt))
	if err := s.Write(ctx, key, key); err != nil {
		return err
	}
	v, err := s.Read(ctx, key)
	if err != nil {
		return err
	}
	if string(v) != string(key) {
		return fmt.Errorf("probe read %q, wrote %q", v, key)
	}
	return nil
}

// failure describes m with the tail of its stderr.
func (m *member) failure(what string) error {
	state := "running"
	select {
	case <-m.exited:
		state = fmt.Sprintf("exited: %v", m.waitErr)
	default:
	}
	msg := fmt.Sprintf("olricstore: member %d (%s, %s)", m.id, m.addr, state)
	if what != "" {
		msg += ": " + what
	}
	return errors.New(msg + "\nstderr tail:\n" + tail(m.errPath, tailBytes))
}

func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		f.Seek(-n, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	if len(b) == 0 {
		return "(empty)"
	}
	return string(b)
}

// Addrs returns the members' olric client addresses, for Dial.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.addr
	}
	return out
}

// PIDs returns the members' process ids.
func (c *Cluster) PIDs() []int {
	out := make([]int, len(c.members))
	for i, m := range c.members {
		out[i] = m.cmd.Process.Pid
	}
	return out
}

// Stop sends every member SIGTERM, kills those still running 5 s later,
// waits for all of them and removes the cluster's dir. It is safe to call
// more than once.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		var wg sync.WaitGroup
		for _, m := range c.members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.stop()
			}()
		}
		wg.Wait()
		os.RemoveAll(c.dir)
		portsMu.Lock()
		for _, p := range c.ports {
			delete(given, p)
		}
		portsMu.Unlock()
	})
}

func (m *member) stop() {
	select {
	case <-m.exited:
		return
	default:
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-m.exited:
	case <-t.C:
		m.cmd.Process.Kill()
		<-m.exited
	}
}

// Ports handed out by this process and not yet released by Stop, so
// clusters started side by side in one test binary never get the same port
// before their members bind it.
var (
	portsMu sync.Mutex
	given   = map[int]bool{}
)

// freePorts returns n distinct ports in [20000, 32000) that host could bind
// for TCP and UDP a moment ago (memberlist uses both on its port). The
// range stays below the kernel's ephemeral ports (32768 up), so outgoing
// connections do not take a port between this check and the member's bind.
func freePorts(host string, n int) ([]int, error) {
	const low, high = 20000, 32000
	portsMu.Lock()
	defer portsMu.Unlock()
	var out []int
	for try := 0; len(out) < n; try++ {
		if try > 100*n+1000 {
			return nil, fmt.Errorf("olricstore: no %d free ports in [%d, %d)", n, low, high)
		}
		p := low + rand.IntN(high-low)
		if given[p] || !portFree(host, p) {
			continue
		}
		given[p] = true
		out = append(out, p)
	}
	return out, nil
}

func portFree(host string, p int) bool {
	addr := net.JoinHostPort(host, strconv.Itoa(p))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	u.Close()
	return true
}
