package netlab

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// env is a lab with an agent in every host and an echo listener in the root
// namespace on the gateway address, where the store's nodes dial clients
// back.
type env struct {
	lab      *Lab
	agents   []*agent
	addrs    []string
	rootAddr string
}

const root = -1 // the root namespace, where clients run

// startAgents starts the root namespace's listener and an agent in every
// host.
func startAgents(t *testing.T, l *Lab) *env {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{lab: l}
	ln, err := net.Listen("tcp", net.JoinHostPort(l.GatewayIP(), strconv.Itoa(listenPort)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go serveEcho(ln)
	e.rootAddr = ln.Addr().String()
	for i := range l.Hosts() {
		addr := net.JoinHostPort(l.HostIP(i), strconv.Itoa(listenPort))
		e.addrs = append(e.addrs, addr)
		e.agents = append(e.agents, startAgent(t, l, exe, i, addr))
	}
	return e
}

// connects reports how many of n connects from host from to host to's
// listener worked; either may be root.
func (e *env) connects(from, to, n int, echo bool) (int, error) {
	addr := e.rootAddr
	if to != root {
		addr = e.addrs[to]
	}
	if from == root {
		return dials(addr, n, echo), nil
	}
	return e.agents[from].dial(addr, n, echo)
}

func hostName(i int) string {
	if i == root {
		return "root"
	}
	return "host " + strconv.Itoa(i)
}

// reachDeadline is how long a link that should work may take to answer,
// e.g. while ARP resolves after a heal.
const reachDeadline = 5 * time.Second

// expect probes every host from every host (itself included), from the
// root namespace and back, all at once, and fails unless exactly the links
// that blocked names fail. A link that should work is retried until
// reachDeadline; one that should not must fail two connects.
func (e *env) expect(t *testing.T, what string, blocked func(from, to int) bool) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fails []string
	)
	for from := root; from < e.lab.Hosts(); from++ {
		for to := root; to < e.lab.Hosts(); to++ {
			if from == root && to == root {
				continue
			}
			wantBlocked := from != root && to != root && from != to && blocked(from, to)
			wg.Go(func() {
				if msg := e.probe(from, to, wantBlocked); msg != "" {
					mu.Lock()
					fails = append(fails, msg)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(fails) > 0 {
		slices.Sort(fails)
		rules, err := e.lab.Rules()
		if err != nil {
			rules = err.Error()
		}
		t.Fatalf("%s:\n  %s\n%s", what, strings.Join(fails, "\n  "), rules)
	}
}

func (e *env) probe(from, to int, wantBlocked bool) string {
	path := hostName(from) + " -> " + hostName(to)
	if wantBlocked {
		ok, err := e.connects(from, to, 2, true)
		switch {
		case err != nil:
			return path + ": " + err.Error()
		case ok > 0:
			return fmt.Sprintf("%s: %d of 2 connects went through, want none", path, ok)
		}
		return ""
	}
	deadline := time.Now().Add(reachDeadline)
	for {
		ok, err := e.connects(from, to, 1, true)
		if err != nil {
			return path + ": " + err.Error()
		}
		if ok == 1 {
			return ""
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf("%s: no connect within %v, want reachable", path, reachDeadline)
		}
		time.Sleep(50 * time.Millisecond) // pace the retries of a refused connect
	}
}

func none(int, int) bool { return false }
