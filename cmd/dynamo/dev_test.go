package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/internal/ports"
)

// `dynamo dev` is what `make run` calls: it must start the nodes, say where
// they listen, serve requests, and stop every node on Ctrl-C.
func TestDevStartsServesAndStopsACluster(t *testing.T) {
	// Node i uses base+i: find bases whose three ports are all free.
	peerBase, httpBase := freeBase(t, 3), freeBase(t, 3)
	for httpBase > peerBase-3 && httpBase < peerBase+3 { // the two runs must not overlap
		httpBase = freeBase(t, 3)
	}
	cmd := exec.Command(binary, "dev", "--nodes", "3", "--storage", "memory",
		"--peer-base", strconv.Itoa(peerBase), "--http-base", strconv.Itoa(httpBase),
		"--data", t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen []string
	waitFor := func(what string, limit time.Duration) {
		t.Helper()
		deadline := time.After(limit)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("dev exited before %q; output:\n%s", what, strings.Join(seen, "\n"))
				}
				seen = append(seen, l)
				if strings.Contains(l, what) {
					return
				}
			case <-deadline:
				t.Fatalf("no %q within %v; output:\n%s", what, limit, strings.Join(seen, "\n"))
			}
		}
	}
	waitFor("3 nodes running", 20*time.Second)
	waitFor("Ctrl-C", 5*time.Second)
	banner := strings.Join(seen, "\n")
	for i := 1; i <= 3; i++ {
		for _, addr := range []string{
			fmt.Sprintf("127.0.0.1:%d", peerBase+i), fmt.Sprintf("127.0.0.1:%d", httpBase+i),
		} {
			if !strings.Contains(banner, addr) {
				t.Errorf("banner does not say where node %d listens (%s):\n%s", i, addr, banner)
			}
		}
	}
	// Wait until the nodes know each other: a put retried after a 503
	// could leave two siblings of the same value.
	c := &testCluster{t: t}
	var ps []*proc
	for i := 1; i <= 3; i++ {
		ps = append(ps, &proc{id: fmt.Sprintf("n%d", i), http: fmt.Sprintf("127.0.0.1:%d", httpBase+i)})
	}
	c.waitAgreed(ps...)
	mustPut(t, ps[0], "hello", "world", "", "")
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/kv/hello", httpBase+3))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "world" {
		t.Fatalf("get through node 3: %d %q", resp.StatusCode, body)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitFor("all nodes stopped", 20*time.Second)
	for i := 1; i <= 3; i++ {
		if _, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/status", httpBase+i)); err == nil {
			t.Errorf("node %d still answers after dev stopped", i)
		}
	}
}

func TestPingAnswersOverThePeerTransport(t *testing.T) {
	c := startCluster(t, 1)
	out, err := exec.Command(binary, "ping", "-c", "2", c.nodes[0].peer).CombinedOutput()
	if err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), "pong from "+c.nodes[0].peer+" (node n1)"); got != 2 {
		t.Fatalf("want 2 pongs, got:\n%s", out)
	}
	c.kill(c.nodes[0])
	out, err = exec.Command(binary, "ping", "-c", "1", "--timeout", "300ms", c.nodes[0].peer).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no answer within 300ms") {
		t.Fatalf("ping of a dead node: err %v, output:\n%s", err, out)
	}
}

func TestNodeRefusesBadFlagsWithClearErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"node"}, "id: required"},
		{[]string{"node", "--id", "n1", "--storage", "memory", "--partitions", "6"}, "partitions 6"},
		{[]string{"node", "--id", "n1", "--storage", "memory", "--members", "n2=127.0.0.1:9"}, "not in the member list"},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, tc := range cases {
		out, err := exec.Command(binary, tc.args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("dynamo %s: err %v, want output containing %q:\n%s", strings.Join(tc.args, " "), err, tc.want, out)
		}
	}
}

// freeBase returns a base such that base+1..base+n were all free a
// moment ago.
func freeBase(t *testing.T, n int) int {
	t.Helper()
	base, err := ports.FreeRun("127.0.0.1", n)
	if err != nil {
		t.Fatal(err)
	}
	return base
}
