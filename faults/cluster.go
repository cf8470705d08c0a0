package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dynamokv/dynamo/api"
)

// Ports every node uses on its own host: below 32768 (the kernel's range
// for outgoing connections starts there) and away from `make run`'s.
const (
	peerPort = 17000
	httpPort = 18000
)

// cluster is the node processes of one run.
type cluster struct {
	hosts  hosts
	binary string
	dir    string
	nodes  []*node
	// args are given to every node, after the ones the cluster sets.
	args []string
	// initial is how many nodes the cluster starts with (the member
	// list); the others join it through n1. 0 means every node.
	initial int
}

// node is one node process and what it needs to restart.
type node struct {
	i       int
	id      string
	data    string
	logPath string
	extra   []string // arguments of the current start only (a clock offset)

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	stopped bool // SIGSTOPped
}

func newCluster(h hosts, binary, dir string, n int, args []string) *cluster {
	c := &cluster{hosts: h, binary: binary, dir: dir, args: args}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("n%d", i+1)
		c.nodes = append(c.nodes, &node{i: i, id: id, data: filepath.Join(dir, id), logPath: filepath.Join(dir, id+".log")})
	}
	return c
}

func (c *cluster) peerAddr(i int) string { return fmt.Sprintf("%s:%d", c.hosts.ip(i), peerPort) }
func (c *cluster) httpURL(i int) string  { return fmt.Sprintf("http://%s:%d", c.hosts.ip(i), httpPort) }

func (c *cluster) members() string {
	var ms []string
	for i, n := range c.nodes {
		if c.initial == 0 || i < c.initial {
			ms = append(ms, n.id+"="+c.peerAddr(i))
		}
	}
	return strings.Join(ms, ",")
}

// joins reports whether node n joins the cluster rather than starts it.
func (c *cluster) joins(n *node) bool { return c.initial > 0 && n.i >= c.initial }

// start starts node n; its log goes to its log file, appended across
// restarts.
func (c *cluster) start(n *node) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return fmt.Errorf("%s is already running", n.id)
	}
	how := []string{"--members", c.members()}
	if c.joins(n) {
		how = []string{"--join", c.peerAddr(0)}
	}
	args := append([]string{"node", "--id", n.id,
		"--listen", c.peerAddr(n.i), "--http", fmt.Sprintf("%s:%d", c.hosts.ip(n.i), httpPort),
		"--data", n.data, "--log-format", "json"}, how...)
	args = append(args, c.args...)
	args = append(args, n.extra...)
	log, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := c.hosts.command(n.i, c.binary, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", n.id, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); log.Close(); close(done) }()
	n.cmd, n.done, n.stopped = cmd, done, false
	return nil
}

// kill sends SIGKILL and waits for the process to end.
func (c *cluster) kill(n *node) {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd, n.stopped = nil, false
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// terminate stops n cleanly (SIGTERM), killing it after a deadline.
func (c *cluster) terminate(n *node) {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		n.mu.Lock()
		n.cmd = nil
		n.mu.Unlock()
	case <-time.After(15 * time.Second):
		c.kill(n)
	}
}

// signal sends SIGSTOP or SIGCONT.
func (c *cluster) signal(n *node, sig syscall.Signal) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return fmt.Errorf("%s is not running", n.id)
	}
	n.stopped = sig == syscall.SIGSTOP
	return n.cmd.Process.Signal(sig)
}

// restore brings every node back: resumed, started, with no extra
// arguments left over from a nemesis.
func (c *cluster) restore() error {
	for _, n := range c.nodes {
		n.mu.Lock()
		cmd, stopped := n.cmd, n.stopped
		n.mu.Unlock()
		if cmd != nil && stopped {
			if err := c.signal(n, syscall.SIGCONT); err != nil {
				return err
			}
		}
		if cmd != nil && len(n.extra) > 0 {
			c.terminate(n)
			cmd = nil
		}
		n.extra = nil
		if cmd == nil {
			if err := c.start(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// stopAll ends every node process, resuming stopped ones first so that
// nothing is left behind.
func (c *cluster) stopAll() {
	for _, n := range c.nodes {
		n.mu.Lock()
		cmd := n.cmd
		n.mu.Unlock()
		if cmd != nil {
			_ = cmd.Process.Signal(syscall.SIGCONT)
		}
		c.kill(n)
	}
}

// waitReady polls the /status of every node of live until each sees
// every member up and agreed, len(live) of them, or ctx ends.
func (c *cluster) waitReady(ctx context.Context, hc *http.Client, live []int) error {
	var last error
	for {
		last = nil
		for _, i := range live {
			if err := c.ready(ctx, hc, i, len(live)); err != nil {
				last = err
				break
			}
		}
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready: %w", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *cluster) ready(ctx context.Context, hc *http.Client, i, members int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.httpURL(i)+"/status", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", c.nodes[i].id, err)
	}
	defer resp.Body.Close()
	var st api.Status
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&st); err != nil {
		return fmt.Errorf("%s: status: %w", c.nodes[i].id, err)
	}
	if len(st.Members) != members {
		return fmt.Errorf("%s lists %d members", c.nodes[i].id, len(st.Members))
	}
	for _, m := range st.Members {
		if !m.Agreed || !m.Up {
			return fmt.Errorf("%s sees %s agreed=%v up=%v", c.nodes[i].id, m.ID, m.Agreed, m.Up)
		}
	}
	return nil
}

// logTail returns the last lines of n's log.
func (n *node) logTail(lines int) string {
	b, err := os.ReadFile(n.logPath)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
