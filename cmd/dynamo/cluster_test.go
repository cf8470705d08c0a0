package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/internal/ports"
)

// These tests run the dynamo binary as real node processes on loopback.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dynamo-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dynamo")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build dynamo: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is one node process of a test cluster.
type proc struct {
	id, peer, http, data string
	join                 string // a member's peer address to join through; "" for the member list
	cmd                  *exec.Cmd
	log                  *bytes.Buffer
	done                 chan struct{}
}

type testCluster struct {
	t       *testing.T
	nodes   []*proc
	members string
	extra   []string
}

// freePorts returns n distinct ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ps, err := ports.Free("127.0.0.1", n)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func startCluster(t *testing.T, n int, extra ...string) *testCluster {
	t.Helper()
	ports := freePorts(t, 2*n)
	if n < 3 {
		extra = append([]string{"-n", strconv.Itoa(n), "-r", "1", "-w", "1"}, extra...)
	}
	c := &testCluster{t: t, extra: extra}
	var members []string
	base := t.TempDir()
	for i := 0; i < n; i++ {
		p := &proc{
			id:   fmt.Sprintf("n%d", i+1),
			peer: "127.0.0.1:" + strconv.Itoa(ports[2*i]),
			http: "127.0.0.1:" + strconv.Itoa(ports[2*i+1]),
		}
		p.data = filepath.Join(base, p.id)
		members = append(members, p.id+"="+p.peer)
		c.nodes = append(c.nodes, p)
	}
	c.members = strings.Join(members, ",")
	for _, p := range c.nodes {
		c.start(p)
	}
	t.Cleanup(func() {
		for _, p := range c.nodes {
			c.kill(p)
		}
		if t.Failed() {
			for _, p := range c.nodes {
				t.Logf("log of %s:\n%s", p.id, tail(p.log.String(), 30))
			}
		}
	})
	c.waitAgreed(c.nodes...)
	return c
}

func (c *testCluster) start(p *proc) {
	c.t.Helper()
	how := []string{"--members", c.members}
	if p.join != "" {
		how = []string{"--join", p.join}
	}
	args := append([]string{"node", "--id", p.id, "--listen", p.peer, "--http", p.http,
		"--data", p.data, "--log-format", "json"}, how...)
	args = append(args, c.extra...)
	p.cmd = exec.Command(binary, args...)
	if p.log == nil {
		p.log = &bytes.Buffer{}
	}
	w := &bufWriter{w: p.log}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		c.t.Fatalf("start %s: %v", p.id, err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(p.cmd, p.done)
}

func (c *testCluster) kill(p *proc) {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// waitAgreed polls until every given node answers /status with every
// member agreed and up.
func (c *testCluster) waitAgreed(ps ...*proc) {
	c.t.Helper()
	eventually(c.t, 20*time.Second, "nodes agree on the membership", func() error {
		for _, p := range ps {
			st, err := status(p)
			if err != nil {
				return err
			}
			for _, m := range st.Members {
				if !m.Agreed || !m.Up {
					return fmt.Errorf("%s sees %s agreed=%v up=%v", p.id, m.ID, m.Agreed, m.Up)
				}
			}
		}
		return nil
	})
}

func status(p *proc) (api.Status, error) {
	var st api.Status
	resp, err := http.Get("http://" + p.http + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// eventually polls f until it returns nil or the deadline passes.
func eventually(t *testing.T, limit time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type reply struct {
	code    int
	body    []byte
	context string
	outcome string // api.OutcomeHeader
}

func do(t *testing.T, method string, p *proc, key, query, context string, body []byte) reply {
	t.Helper()
	url := "http://" + p.http + "/kv/" + key
	if query != "" {
		url += "?" + query
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if context != "" {
		req.Header.Set(api.ContextHeader, context)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, body: b, context: resp.Header.Get(api.ContextHeader),
		outcome: resp.Header.Get(api.OutcomeHeader)}
}

func mustPut(t *testing.T, p *proc, key, value, context, query string) string {
	t.Helper()
	r := do(t, http.MethodPut, p, key, query, context, []byte(value))
	if r.code != http.StatusOK {
		t.Fatalf("put %s via %s: %d %s", key, p.id, r.code, r.body)
	}
	return r.context
}

type bufWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *bufWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func signalAndWait(t *testing.T, p *proc, sig syscall.Signal, limit time.Duration) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("%s did not exit within %v of %v", p.id, limit, sig)
	}
	code := p.cmd.ProcessState.ExitCode()
	p.cmd = nil
	return code
}

// coordinatorWait is a node's default request timeout: a unit for polls.
const coordinatorWait = time.Second

func inPreferenceList(st api.Status, key, id string) bool {
	var members []cluster.Member
	for _, m := range st.Members {
		members = append(members, cluster.Member{ID: m.ID, Addr: m.Addr})
	}
	ring, err := cluster.NewRing(st.Partitions, st.Replicas, members)
	if err != nil {
		panic(err)
	}
	p := ring.PartitionOf([]byte(key))
	for _, n := range st.Ring[p].PreferenceList {
		if n == id {
			return true
		}
	}
	return false
}
