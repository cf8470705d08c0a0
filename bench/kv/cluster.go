// Package kv benchmarks the key-value path end to end: real node processes
// on loopback, driven through the Go client, with latency, errors, siblings
// and the server CPU each operation costs.
package kv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dynamokv/dynamo/client"
	"github.com/dynamokv/dynamo/internal/ports"
)

// host keeps every benchmark socket on loopback.
const host = "127.0.0.1"

// ClusterConfig describes the node processes to start.
type ClusterConfig struct {
	Bin     string // the dynamo binary
	Nodes   int
	Storage string // log, pebble or memory
	N, R, W int
	// GOMAXPROCS, when positive, caps each node's Go scheduler: several
	// nodes sharing few cores otherwise each run one P per core.
	GOMAXPROCS int
	// Args are given to every node after the ones the cluster sets.
	Args []string
	// Spares are nodes made ready (ports, data directory) but not started:
	// Join starts one, which joins the cluster through n1.
	Spares int
}

// Node is one running node process.
type Node struct {
	ID, Peer, HTTP string
	cmd            *exec.Cmd
	log            *tailBuffer
	done           chan struct{}
	bin            string
	args, env      []string
}

// PID is the node's process id.
func (n *Node) PID() int { return n.cmd.Process.Pid }

// Cluster is a set of node processes sharing a temporary data directory.
type Cluster struct {
	Storage string  // the nodes' storage engine
	Nodes   []*Node // the running members first, then the spares
	Spares  []*Node // not started yet
	dir     string
	once    sync.Once
}

// StartCluster starts the nodes and waits until every one of them sees
// every member agreed and up. On error nothing is left running.
func StartCluster(ctx context.Context, cfg ClusterConfig) (c *Cluster, err error) {
	if _, err := os.Stat(cfg.Bin); err != nil {
		return nil, fmt.Errorf("no dynamo binary at %s: run `make build` first, or point -bin at one", cfg.Bin)
	}
	dir, err := os.MkdirTemp("", "dynamo-kvbench-")
	if err != nil {
		return nil, err
	}
	c = &Cluster{dir: dir, Storage: cfg.Storage}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	ports, err := freePorts(2 * (cfg.Nodes + cfg.Spares))
	if err != nil {
		return c, err
	}
	var members []string
	for i := 0; i < cfg.Nodes+cfg.Spares; i++ {
		n := &Node{
			ID:   fmt.Sprintf("n%d", i+1),
			Peer: net.JoinHostPort(host, strconv.Itoa(ports[2*i])),
			HTTP: net.JoinHostPort(host, strconv.Itoa(ports[2*i+1])),
			log:  &tailBuffer{max: 4 << 20},
		}
		if i < cfg.Nodes {
			members = append(members, n.ID+"="+n.Peer)
			c.Nodes = append(c.Nodes, n)
		} else {
			c.Spares = append(c.Spares, n)
		}
	}
	for _, n := range append(slices.Clone(c.Nodes), c.Spares...) {
		how := []string{"--members", strings.Join(members, ",")}
		if slices.Contains(c.Spares, n) {
			how = []string{"--join", c.Nodes[0].Peer}
		}
		args := append([]string{"node", "--id", n.ID, "--listen", n.Peer, "--http", n.HTTP}, how...)
		args = append(args, "--storage", cfg.Storage,
			"--data", filepath.Join(dir, n.ID), "--log-level", "warn", "--log-format", "json",
			"-n", strconv.Itoa(cfg.N), "-r", strconv.Itoa(cfg.R), "-w", strconv.Itoa(cfg.W))
		args = append(args, cfg.Args...)
		n.bin, n.args = cfg.Bin, args
		if cfg.GOMAXPROCS > 0 {
			n.env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(cfg.GOMAXPROCS))
		}
		if slices.Contains(c.Spares, n) {
			continue
		}
		if err := n.start(); err != nil {
			return c, err
		}
	}
	return c, c.waitAgreed(ctx, 30*time.Second)
}

// Join starts the next spare, which joins the cluster through n1, and
// waits until every member sees it; it is then one of Nodes.
func (c *Cluster) Join(ctx context.Context) (*Node, error) {
	if len(c.Spares) == 0 {
		return nil, errors.New("no spare node left to join")
	}
	n := c.Spares[0]
	c.Spares = c.Spares[1:]
	if err := n.start(); err != nil {
		return nil, err
	}
	c.Nodes = append(c.Nodes, n)
	return n, c.waitAgreed(ctx, 30*time.Second)
}

func (n *Node) start() error {
	n.cmd = exec.Command(n.bin, n.args...)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	n.cmd.Env = n.env
	// The nodes die with this process even if it is killed outright.
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		return fmt.Errorf("start node %s: %w", n.ID, err)
	}
	n.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(n.cmd, n.done)
	return nil
}

// Kill kills node n with SIGKILL and waits for it to end.
func (n *Node) Kill() {
	_ = n.cmd.Process.Kill()
	<-n.done
}

// Restart starts node n again on its data, after Kill.
func (n *Node) Restart() error { return n.start() }

// Signal sends sig (SIGSTOP, SIGCONT) to node n.
func (n *Node) Signal(sig syscall.Signal) error { return n.cmd.Process.Signal(sig) }

// Seeds are the nodes' HTTP base URLs.
func (c *Cluster) Seeds() []string {
	var s []string
	for _, n := range c.Nodes {
		s = append(s, "http://"+n.HTTP)
	}
	return s
}

// Exited names the first node that is no longer running, or "".
func (c *Cluster) Exited() string {
	for _, n := range c.Nodes {
		select {
		case <-n.done:
			return fmt.Sprintf("node %s exited; its log ends:\n%s", n.ID, n.log.String())
		default:
		}
	}
	return ""
}

// waitAgreed polls /status of every node until each sees every member
// agreed and up, a node exits, or limit passes.
func (c *Cluster) waitAgreed(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for attempt := 0; ; attempt++ {
		err := agreed(ctx, c.Seeds())
		if err == nil {
			return nil
		}
		if why := c.Exited(); why != "" {
			return errors.New(why)
		}
		if time.Now().After(deadline) || attempt > 10000 {
			return fmt.Errorf("cluster not ready within %v: %w", limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// agreed says why the nodes at the given HTTP base URLs are not ready:
// each must list every one of them as a member, agreed and up.
func agreed(ctx context.Context, seeds []string) error {
	for _, s := range seeds {
		st, err := client.ReadStatus(ctx, client.Config{Seeds: []string{s}, Timeout: time.Second})
		if err != nil {
			return err
		}
		if len(st.Members) != len(seeds) {
			return fmt.Errorf("%s lists %d members", st.Node, len(st.Members))
		}
		for _, m := range st.Members {
			if !m.Agreed || !m.Up {
				return fmt.Errorf("%s sees %s agreed=%v up=%v", st.Node, m.ID, m.Agreed, m.Up)
			}
		}
	}
	return nil
}

// Stop kills every node and removes the data directory. Safe to call
// more than once.
func (c *Cluster) Stop() {
	c.once.Do(func() {
		for _, n := range append(slices.Clone(c.Nodes), c.Spares...) {
			if n.cmd != nil && n.cmd.Process != nil {
				_ = n.cmd.Process.Signal(syscall.SIGCONT)
				_ = n.cmd.Process.Kill()
				select {
				case <-n.done:
				case <-time.After(5 * time.Second):
				}
			}
		}
		_ = os.RemoveAll(c.dir)
	})
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) { return ports.Free(host, n) }

// tailBuffer keeps the last max bytes a node logged, for error reports.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// LogTail returns the last lines the node logged (warnings and errors).
func (n *Node) LogTail() string { return n.log.String() }
