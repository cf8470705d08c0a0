package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	tb "github.com/dynamokv/dynamo/bench/transport"
)

// runReceiver is the child process: one node per transport, each with a
// sink and an echo actor. It prints its addresses on stdout and lives until
// its stdin closes (the parent exited or died), a signal, or maxLife.
func runReceiver(host, cpuProfile string, maxLife time.Duration) error {
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	nodes := make([]*tb.Node, 0, len(tb.Kinds))
	defer func() {
		for _, n := range nodes {
			_ = n.Stop(2 * time.Second)
		}
	}()
	addrs := make([]string, 0, len(tb.Kinds))
	for _, k := range tb.Kinds {
		n, err := tb.NewNode(k, host)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
		n.SpawnReceivers()
		addrs = append(addrs, n.Address())
	}
	fmt.Printf("ready %s\n", strings.Join(addrs, " "))

	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-eof:
	case <-sig:
	case <-time.After(maxLife):
		return errors.New("receiver: maximum lifetime reached")
	}
	return nil
}

// child is the receiver process as the parent sees it.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addrs []string // one per tb.Kinds entry
	once  sync.Once
}

// startChild re-executes this binary in the receiver role and waits for
// its addresses.
func startChild(args []string, timeout time.Duration) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin}
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 1+len(tb.Kinds) && f[0] == "ready" {
				ready <- f[1:]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout) // keep the pipe drained
	}()
	select {
	case c.addrs = <-ready:
		return c, nil
	case <-time.After(timeout):
		c.stop()
		return nil, errors.New("receiver process did not report ready")
	}
}

// stop closes the child's stdin, which ends it, and kills it if it is not
// gone within a few seconds. Safe to call more than once, from any goroutine.
func (c *child) stop() {
	c.once.Do(func() {
		_ = c.stdin.Close()
		done := make(chan struct{})
		go func() {
			_ = c.cmd.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = c.cmd.Process.Kill()
			<-done
		}
	})
}
