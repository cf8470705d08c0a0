// Package deploy holds the container image and the compose cluster; its
// test runs them on the real Docker engine.
package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/client"
	"github.com/dynamokv/dynamo/internal/ports"
)

const nodes = 5

// dockerMissing says why the engine cannot run the test, or "" when it can.
func dockerMissing() string {
	if _, err := exec.LookPath("docker-compose"); err != nil {
		return "docker-compose is not installed"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		return fmt.Sprintf("no Docker engine answers (docker info: %v: %s)", err, bytes.TrimSpace(out))
	}
	return ""
}

// composeCluster is one compose project of the five-node cluster, on an
// image and host ports of its own, so that it never meets `make run`, a
// developer's compose cluster or another run of this test.
type composeCluster struct {
	t        *testing.T
	project  string
	image    string
	env      []string
	urls     []string // HTTP API of n1..n5 on the host
	downOnce sync.Once
}

func randomName() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func run(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %v: %w\n%s", name, args, err, out)
	}
	return string(out), nil
}

// startCompose builds a static binary and the image FROM scratch, then
// starts the compose file's cluster.
func startCompose(t *testing.T) *composeCluster {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	id := randomName()
	c := &composeCluster{t: t, project: "dynamotest" + id, image: "dynamo-test:" + id}

	dir := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(dir, "dynamo"), "../cmd/dynamo")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build a static dynamo: %v\n%s", err, out)
	}
	dockerfile, err := os.ReadFile("docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), dockerfile, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(ctx, nil, "docker", "build", "-q", "-t", c.image, dir); err != nil {
		t.Fatalf("build the image: %v", err)
	}

	hostPorts, err := ports.Free("127.0.0.1", nodes)
	if err != nil {
		t.Fatal(err)
	}
	c.env = []string{"DYNAMO_IMAGE=" + c.image}
	for i, p := range hostPorts {
		c.env = append(c.env, fmt.Sprintf("DYNAMO_HTTP_%d=%d", i+1, p))
		c.urls = append(c.urls, "http://127.0.0.1:"+strconv.Itoa(p))
	}

	// Torn down however the test ends: on failure, and on Ctrl-C, which
	// would otherwise kill the test binary before its cleanups run.
	t.Cleanup(c.down)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	stopWatch := make(chan struct{})
	go func() {
		select {
		case <-sig:
			c.down()
			os.Exit(1)
		case <-stopWatch:
		}
	}()
	t.Cleanup(func() { signal.Stop(sig); close(stopWatch) })

	if _, err := c.compose(ctx, "up", "-d"); err != nil {
		t.Fatalf("start the cluster: %v", err)
	}
	return c
}

func (c *composeCluster) compose(ctx context.Context, args ...string) (string, error) {
	return run(ctx, c.env, "docker-compose", append([]string{"-p", c.project, "-f", "compose.yaml"}, args...)...)
}

func (c *composeCluster) down() {
	c.downOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if c.t.Failed() {
			if out, err := c.compose(ctx, "logs", "--no-color", "--tail", "40"); err == nil {
				c.t.Logf("cluster logs:\n%s", out)
			}
		}
		if _, err := c.compose(ctx, "down", "-v", "--remove-orphans", "-t", "5"); err != nil {
			c.t.Errorf("tear the cluster down: %v", err)
		}
		if _, err := run(ctx, nil, "docker", "rmi", "-f", c.image); err != nil {
			c.t.Errorf("remove the image: %v", err)
		}
	})
}

func getJSON(ctx context.Context, u string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		if state != "" {
			last = state
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s (last seen: %s)", within, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// upAsSeenBy reports how many members node i sees up (itself included).
func (c *composeCluster) upAsSeenBy(i int) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var st api.Status
	if _, err := getJSON(ctx, c.urls[i]+"/status", &st); err != nil || st.Node == "" {
		return 0, fmt.Sprintf("n%d status: %v", i+1, err)
	}
	up := 0
	for _, m := range st.Members {
		if m.Up {
			up++
		}
	}
	return up, fmt.Sprintf("n%d sees %d of %d members up", i+1, up, len(st.Members))
}

// localCopy reports whether node i holds a version of key in its own store.
func (c *composeCluster) localCopy(i int, key string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var lc api.LocalCopy
	code, err := getJSON(ctx, c.urls[i]+api.LocalPrefix+url.PathEscape(key), &lc)
	return err == nil && code == http.StatusOK && len(lc.Versions) > 0
}

func TestComposeClusterKeepsServingWhenAContainerDies(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: builds an image and runs five containers")
	}
	if why := dockerMissing(); why != "" {
		t.Skip("compose test skipped: " + why)
	}
	c := startCompose(t)
	for i := range nodes {
		waitFor(t, 90*time.Second, fmt.Sprintf("n%d sees every member up", i+1), func() (bool, string) {
			up, state := c.upAsSeenBy(i)
			return up == nodes, state
		})
	}

	// The host reaches the nodes through their published HTTP ports; their
	// peer addresses (n1:7000, ...) exist only inside the compose network.
	cl, err := client.New(context.Background(), client.Config{Seeds: c.urls, Mode: client.ModeHTTP, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	quorum := client.PutOptions{W: 2}
	read := client.GetOptions{R: 2}
	want := map[string]string{}
	put := func(key, value string) {
		t.Helper()
		// A write follows the read of the key, as a client that means to
		// replace the value does; a blind write would add a sibling.
		opt := quorum
		if _, ok := want[key]; ok {
			res, err := cl.Get(ctx, []byte(key), read)
			if err != nil {
				t.Fatalf("read %s before writing it: %v", key, err)
			}
			opt.Context = res.Context
		}
		if _, err := cl.Put(ctx, []byte(key), []byte(value), opt); err != nil {
			t.Fatalf("put %s at W=2: %v", key, err)
		}
		want[key] = value
	}
	checkAll := func(when string) {
		t.Helper()
		for k, v := range want {
			res, err := cl.Get(ctx, []byte(k), read)
			if err != nil {
				t.Fatalf("%s: get %s at R=2: %v", when, k, err)
			}
			if !res.Found || len(res.Values) != 1 || string(res.Values[0]) != v {
				t.Fatalf("%s: get %s: found=%v values=%q, want %q", when, k, res.Found, res.Values, v)
			}
		}
	}

	const keys = 100
	for i := range keys {
		put(fmt.Sprintf("key-%03d", i), fmt.Sprintf("before-%d", i))
	}
	checkAll("all five up")
	const victim = 2 // n3
	var heldByVictim []string
	for i := range keys {
		if k := fmt.Sprintf("key-%03d", i); c.localCopy(victim, k) {
			heldByVictim = append(heldByVictim, k)
		}
	}
	if len(heldByVictim) == 0 {
		t.Fatal("n3 holds none of the keys: the cluster did not replicate to it")
	}

	if _, err := c.compose(ctx, "kill", "n3"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "n1 suspects the killed n3", func() (bool, string) {
		up, state := c.upAsSeenBy(0)
		return up == nodes-1, state
	})
	checkAll("n3 killed")
	for i := range keys {
		put(fmt.Sprintf("key-%03d", i), fmt.Sprintf("during-%d", i)) // overwrites, at W=2
		put(fmt.Sprintf("new-%03d", i), fmt.Sprintf("new-%d", i))
	}
	checkAll("n3 killed, after writes")

	if _, err := c.compose(ctx, "start", "n3"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "n3 is back and sees every member", func() (bool, string) {
		up, state := c.upAsSeenBy(victim)
		return up == nodes, state
	})
	// Its volume kept what it held before it died.
	for _, k := range heldByVictim {
		if !c.localCopy(victim, k) {
			t.Fatalf("n3 restarted without %s, which it held before it was killed", k)
		}
	}
	checkAll("n3 restarted")
	t.Logf("n3 held %d of %d keys before the kill and after the restart; %d keys served at R=W=2 throughout",
		len(heldByVictim), keys, len(want))
}
