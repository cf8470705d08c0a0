package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// devNode is one child node process of a dev cluster.
type devNode struct {
	id, peer, http string
	cmd            *exec.Cmd
	done           chan error
}

func runDev(args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	nodes := fs.Int("nodes", 5, "number of node processes")
	host := fs.String("host", "127.0.0.1", "loopback host the nodes listen on")
	peerBase := fs.Int("peer-base", 7000, "node i (1-based) listens for peers on peer-base+i")
	httpBase := fs.Int("http-base", 8000, "node i serves HTTP on http-base+i")
	data := fs.String("data", ".dynamo-dev", "parent directory of the nodes' data directories")
	fresh := fs.Bool("fresh", false, "delete the data directory first")
	storage := fs.String("storage", "log", "log, pebble or memory")
	logLevel := fs.String("log-level", "info", "the nodes' log level")
	extra := fs.String("node-flags", "", "extra flags passed to every node, space separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *nodes < 1 || *nodes > 99 {
		return fmt.Errorf("--nodes %d: want 1 to 99", *nodes)
	}
	if *peerBase+*nodes > 65535 || *httpBase+*nodes > 65535 || *peerBase < 0 || *httpBase < 0 {
		return fmt.Errorf("port bases %d and %d leave no room for %d nodes", *peerBase, *httpBase, *nodes)
	}
	if *fresh {
		if err := os.RemoveAll(*data); err != nil {
			return fmt.Errorf("remove %s: %w", *data, err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	var members []string
	var list []*devNode
	for i := 1; i <= *nodes; i++ {
		n := &devNode{
			id:   fmt.Sprintf("n%d", i),
			peer: net.JoinHostPort(*host, strconv.Itoa(*peerBase+i)),
			http: net.JoinHostPort(*host, strconv.Itoa(*httpBase+i)),
		}
		for _, a := range []string{n.peer, n.http} {
			if err := portFree(a); err != nil {
				return fmt.Errorf("node %s cannot listen on %s: %v (stop what holds it, or move the bases with --peer-base/--http-base)", n.id, a, err)
			}
		}
		members = append(members, n.id+"="+n.peer)
		list = append(list, n)
	}

	out := &lockedWriter{w: os.Stdout}
	for _, n := range list {
		args := []string{"node", "--id", n.id, "--listen", n.peer, "--http", n.http,
			"--members", strings.Join(members, ","), "--storage", *storage,
			"--data", filepath.Join(*data, n.id), "--log-level", *logLevel}
		if *nodes < 3 {
			// N=3 needs three members: a smaller cluster keeps every key on
			// every node and answers with one replica.
			args = append(args, "-n", strconv.Itoa(*nodes), "-r", "1", "-w", "1")
		}
		args = append(args, strings.Fields(*extra)...)
		n.cmd = exec.Command(self, args...)
		n.cmd.Stdout = prefixWriter(out, n.id)
		n.cmd.Stderr = n.cmd.Stdout
		if err := n.cmd.Start(); err != nil {
			stopAll(list)
			return fmt.Errorf("start node %s: %w", n.id, err)
		}
		n.done = make(chan error, 1)
		go func(n *devNode) { n.done <- n.cmd.Wait() }(n)
	}

	if err := waitListening(list, 15*time.Second); err != nil {
		stopAll(list)
		return err
	}
	printDevBanner(out, list, *data, *storage)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	exited := make(chan string, len(list))
	for _, n := range list {
		go func(n *devNode) {
			err := <-n.done
			n.done <- err // keep it for stopAll
			exited <- fmt.Sprintf("node %s exited: %v", n.id, err)
		}(n)
	}
	// A node that exits (a crash, or a kill -9 to watch the others carry
	// on) is reported; the rest keep running until Ctrl-C.
	running := len(list)
wait:
	for {
		select {
		case s := <-sig:
			fmt.Fprintf(out, "dev: %s received, stopping the nodes\n", s)
			break wait
		case why := <-exited:
			running--
			fmt.Fprintf(out, "dev: %s (%d still running)\n", why, running)
			if running == 0 {
				break wait
			}
		}
	}
	stopAll(list)
	fmt.Fprintln(out, "dev: all nodes stopped")
	return nil
}

func printDevBanner(w io.Writer, list []*devNode, data, storage string) {
	fmt.Fprintf(w, "\ndev: %d nodes running (storage %s, data under %s)\n", len(list), storage, data)
	fmt.Fprintf(w, "  %-4s %-16s %-16s %s\n", "node", "peers", "http", "pid")
	for _, n := range list {
		fmt.Fprintf(w, "  %-4s %-16s %-16s %d\n", n.id, n.peer, n.http, n.cmd.Process.Pid)
	}
	first := list[0].http
	fmt.Fprintf(w, `
try it, from another terminal:
  curl -i -X PUT --data 'hello' http://%[1]s/kv/greeting
  curl -i http://%[1]s/kv/greeting
  ./bin/dynamo put greeting hello && ./bin/dynamo get greeting
  ./bin/dynamo status
  ./bin/dynamo ping %[2]s

watch it: http://%[1]s/ is a node's status page (ring, members, hints, handoffs, requests);
  http://%[1]s/metrics is for Prometheus (deploy/grafana/dynamo.json is a dashboard)

grow and shrink it (each change hands partitions over; status shows them):
  ./bin/dynamo join %[2]s --id n%[3]d --listen 127.0.0.1:%[4]d --http 127.0.0.1:%[5]d --data %[6]s/n%[3]d
  ./bin/dynamo leave n%[3]d      (then stop it with Ctrl-C once it holds no partition)

stop the cluster with Ctrl-C (every node is stopped with it)

`, first, list[0].peer, len(list)+1, peerPortOf(list)+len(list), httpPortOf(list)+len(list), data)
}

// peerPortOf and httpPortOf are the first node's ports, from which the
// others count up.
func peerPortOf(list []*devNode) int { return portOf(list[0].peer) }
func httpPortOf(list []*devNode) int { return portOf(list[0].http) }

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

func portFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

func waitListening(list []*devNode, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, n := range list {
		for {
			c, err := net.DialTimeout("tcp", n.peer, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			select {
			case err := <-n.done:
				n.done <- err
				return fmt.Errorf("node %s exited during start: %v", n.id, err)
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("node %s not listening on %s after %v", n.id, n.peer, limit)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// stopAll sends SIGTERM to every node, then SIGKILL to those still running
// after ten seconds.
func stopAll(list []*devNode) {
	var wg sync.WaitGroup
	for _, n := range list {
		if n.cmd == nil || n.cmd.Process == nil || n.done == nil {
			continue
		}
		wg.Add(1)
		go func(n *devNode) {
			defer wg.Done()
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-n.done:
				n.done <- err
			case <-time.After(10 * time.Second):
				_ = n.cmd.Process.Kill()
			}
		}(n)
	}
	wg.Wait()
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// prefixWriter prefixes each line a child writes with its node ID.
func prefixWriter(out io.Writer, id string) io.Writer {
	r, w := io.Pipe()
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintf(out, "%-3s | %s\n", id, sc.Text())
		}
		if err := sc.Err(); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			fmt.Fprintf(out, "%-3s | (log lost: %v)\n", id, err)
			// Keep draining: a child whose log pipe fills blocks on every log line.
			_, _ = io.Copy(io.Discard, r)
		}
	}()
	return w
}
