package netlab

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// The test binary doubles as the agent that runs inside each host, the way
// a node would: with agentEnv set, TestMain runs an echo listener and dials
// on request instead of running the tests. One long-lived agent per host
// keeps probes quick; starting a process per dial costs more than the dial.
// Connectivity is judged by TCP connects, as the store's nodes see it.
const (
	agentEnv    = "NETLAB_TEST_AGENT" // the address the agent listens on
	listenPort  = 17311
	dialTimeout = 300 * time.Millisecond
	// agentLife bounds an agent whose test forgot it.
	agentLife = 60 * time.Second
)

func TestMain(m *testing.M) {
	if addr := os.Getenv(agentEnv); addr != "" {
		os.Exit(runAgent(addr))
	}
	os.Exit(m.Run())
}

// runAgent listens on addr, says "ready", then answers each request line
// "<id> <addr> <n> <echo 0|1>" on stdin with "<id> <connects that worked>",
// serving requests concurrently. It exits when stdin closes, which happens
// at the latest when its test dies.
func runAgent(addr string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	go serveEcho(ln)
	time.AfterFunc(agentLife, func() { os.Exit(0) })
	fmt.Println("ready")
	var mu sync.Mutex
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var id, n, echo int
		var to string
		if _, err := fmt.Sscan(sc.Text(), &id, &to, &n, &echo); err != nil {
			fmt.Fprintf(os.Stderr, "agent: bad request %q: %v\n", sc.Text(), err)
			return 2
		}
		go func() {
			ok := dials(to, n, echo == 1)
			mu.Lock()
			defer mu.Unlock()
			fmt.Printf("%d %d\n", id, ok)
		}()
	}
	return 0
}

// serveEcho echoes every connection until ln closes.
func serveEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.Copy(c, c)
		}()
	}
}

// dials makes n connects to addr, one after the other, and counts those
// that worked.
func dials(addr string, n int, echo bool) int {
	ok := 0
	for range n {
		if dialOnce(addr, echo) == nil {
			ok++
		}
	}
	return ok
}

// dialOnce connects within dialTimeout; with echo, a line must also come
// back within it, so data flows both ways.
func dialOnce(addr string, echo bool) error {
	c, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if !echo {
		return nil
	}
	_ = c.SetDeadline(time.Now().Add(dialTimeout))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "ping\n" {
		return fmt.Errorf("echo %q, want %q", line, "ping\n")
	}
	return nil
}

// agent is a test's handle on an agent process in a host.
type agent struct {
	host    int
	cmd     *exec.Cmd
	mu      sync.Mutex // guards stdin, next and waiting
	stdin   io.WriteCloser
	next    int
	waiting map[int]chan int
	done    chan struct{} // closed when the agent's output ends
}

// startAgent runs an agent in host i listening on addr and waits until it
// listens; the test's cleanup stops it, as the caller of a lab must.
func startAgent(t *testing.T, l *Lab, exe string, i int, addr string) *agent {
	t.Helper()
	a := &agent{host: i, cmd: l.Command(i, exe), waiting: map[int]chan int{}, done: make(chan struct{})}
	a.cmd.Env = append(os.Environ(), agentEnv+"="+addr)
	a.cmd.Stderr = os.Stderr
	var err error
	if a.stdin, err = a.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start the agent of host %d: %v", i, err)
	}
	// Killed rather than asked to exit: a race-enabled binary lingers a
	// second at exit, which fifty agents would pay one after the other.
	t.Cleanup(func() {
		_ = a.cmd.Process.Kill()
		_ = a.cmd.Wait()
		<-a.done
	})

	ready := make(chan error, 1)
	go func() {
		defer close(a.done)
		sc := bufio.NewScanner(stdout)
		if !sc.Scan() || sc.Text() != "ready" {
			ready <- fmt.Errorf("said %q instead of ready (%v)", sc.Text(), sc.Err())
			return
		}
		ready <- nil
		for sc.Scan() {
			var id, ok int
			if _, err := fmt.Sscan(sc.Text(), &id, &ok); err != nil {
				continue
			}
			a.mu.Lock()
			ch := a.waiting[id]
			delete(a.waiting, id)
			a.mu.Unlock()
			if ch != nil {
				ch <- ok
			}
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("agent of host %d on %s: %v", i, addr, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("agent of host %d on %s not listening after 5s", i, addr)
	}
	return a
}

// dial has the agent make n connects to addr and returns how many worked.
func (a *agent) dial(addr string, n int, echo bool) (int, error) {
	ch := make(chan int, 1)
	e := 0
	if echo {
		e = 1
	}
	a.mu.Lock()
	id := a.next
	a.next++
	a.waiting[id] = ch
	_, err := fmt.Fprintf(a.stdin, "%d %s %d %d\n", id, addr, n, e)
	a.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("agent of host %d: %w", a.host, err)
	}
	select {
	case ok := <-ch:
		return ok, nil
	case <-a.done:
		return 0, fmt.Errorf("agent of host %d exited", a.host)
	case <-time.After(time.Duration(n)*2*dialTimeout + 5*time.Second):
		return 0, fmt.Errorf("agent of host %d did not answer", a.host)
	}
}
