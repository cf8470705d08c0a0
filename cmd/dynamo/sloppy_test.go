package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/cluster"
)

// These tests check the always-writeable promise with real processes: a
// put at W=2 succeeds while two of its key's three home nodes are down,
// the stand-ins keep it as hints, and the home nodes get it when they
// return.

// homesOf returns the key's home nodes and the other nodes, in walk order.
func (c *testCluster) homesOf(t *testing.T, key string) (homes, others []*proc) {
	t.Helper()
	st, err := status(c.nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.nodes {
		if inPreferenceList(st, key, p.id) {
			homes = append(homes, p)
		} else {
			others = append(others, p)
		}
	}
	return homes, others
}

// waitSuspected polls until every node of observers suspects every node
// of gone.
func waitSuspected(t *testing.T, observers, gone []*proc) {
	t.Helper()
	eventually(t, 10*time.Second, "the survivors suspect the failed nodes", func() error {
		for _, o := range observers {
			st, err := status(o)
			if err != nil {
				return err
			}
			for _, m := range st.Members {
				if slices.ContainsFunc(gone, func(p *proc) bool { return p.id == m.ID }) && m.Up {
					return fmt.Errorf("%s still sees %s up", o.id, m.ID)
				}
			}
		}
		return nil
	})
}

func localCopy(p *proc, key string) (api.LocalCopy, error) {
	var lc api.LocalCopy
	resp, err := http.Get("http://" + p.http + api.LocalPrefix + key)
	if err != nil {
		return lc, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return lc, fmt.Errorf("%s: %d %s", p.id, resp.StatusCode, body)
	}
	return lc, json.Unmarshal(body, &lc)
}

func holdsValue(p *proc, key, value string) error {
	lc, err := localCopy(p, key)
	if err != nil {
		return err
	}
	for _, v := range lc.Versions {
		if string(v.Value) == value && !v.Deleted {
			return nil
		}
	}
	return fmt.Errorf("%s's own copy of %s lacks %q: %+v", p.id, key, value, lc.Versions)
}

func hintsHeld(p *proc) (int, error) {
	st, err := status(p)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range st.Hints {
		n += h.Held
	}
	return n, nil
}

// faultHomes runs the scenario with fail applied to two of a key's three
// home nodes and heal undoing it.
func faultHomes(t *testing.T, fail, heal func(c *testCluster, p *proc)) {
	c := startCluster(t, 5)
	key := "always"
	homes, others := c.homesOf(t, key)
	down, alive := homes[:2], append([]*proc{homes[2]}, others...)
	for _, p := range down {
		fail(c, p)
	}
	waitSuspected(t, alive, down)
	for i, via := range alive {
		v := fmt.Sprintf("v%d", i)
		r := do(t, http.MethodPut, via, key, "w=2", "", []byte(v))
		if r.code != http.StatusOK {
			t.Fatalf("put via %s with %s and %s down: %d %s", via.id, down[0].id, down[1].id, r.code, r.body)
		}
		g := do(t, http.MethodGet, alive[(i+1)%len(alive)], key, "r=2", "", nil)
		if g.code != http.StatusOK && g.code != http.StatusMultipleChoices {
			t.Fatalf("get after the put via %s: %d %s", via.id, g.code, g.body)
		}
		if !slices.Contains(siblingsOf(t, g), v) {
			t.Fatalf("get at R=2 after a put of %s: %s", v, g.body)
		}
	}
	// Strict quorums count home nodes only, and say how many are up.
	r := do(t, http.MethodPut, alive[0], key, "w=2&pw=2", "", []byte("strict"))
	var e api.Error
	_ = json.Unmarshal(r.body, &e)
	if r.code != http.StatusServiceUnavailable || r.outcome != "" || !strings.Contains(e.Error, "only 1 home replicas are up and PW=2") {
		t.Fatalf("put at pw=2: %d %s (outcome %q)", r.code, r.body, r.outcome)
	}
	if g := do(t, http.MethodGet, alive[0], key, "pr=2", "", nil); g.code != http.StatusServiceUnavailable {
		t.Fatalf("get at pr=2: %d %s", g.code, g.body)
	}
	for _, p := range down {
		heal(c, p)
	}
	start := time.Now()
	for _, p := range down {
		eventually(t, 5*time.Second, p.id+" gets every write back", func() error {
			for i := range alive {
				if err := holdsValue(p, key, fmt.Sprintf("v%d", i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for _, p := range alive {
		eventually(t, 5*time.Second, p.id+" hands over every hint", func() error {
			if n, err := hintsHeld(p); err != nil || n != 0 {
				return fmt.Errorf("%d hints held (%v)", n, err)
			}
			return nil
		})
	}
	t.Logf("the home nodes held every write %v after coming back", time.Since(start).Round(time.Millisecond))
}

// siblingsOf returns the values of a 200 or 300 answer.
func siblingsOf(t *testing.T, r reply) []string {
	t.Helper()
	if r.code == http.StatusOK {
		return []string{string(r.body)}
	}
	var s api.Siblings
	if err := json.Unmarshal(r.body, &s); err != nil {
		t.Fatalf("300 without siblings: %s", r.body)
	}
	var out []string
	for _, v := range s.Siblings {
		out = append(out, string(v))
	}
	return out
}

func TestWritesGoOnWithTwoHomeNodesKilled(t *testing.T) {
	faultHomes(t, func(c *testCluster, p *proc) { c.kill(p) }, func(c *testCluster, p *proc) { c.start(p) })
}

func TestWritesGoOnWithTwoHomeNodesStopped(t *testing.T) {
	faultHomes(t,
		func(c *testCluster, p *proc) { _ = p.cmd.Process.Signal(syscall.SIGSTOP) },
		func(c *testCluster, p *proc) { _ = p.cmd.Process.Signal(syscall.SIGCONT) })
}

// standIns returns the nodes that hold hints.
func standIns(t *testing.T, ps []*proc) []*proc {
	t.Helper()
	var out []*proc
	for _, p := range ps {
		if n, err := hintsHeld(p); err == nil && n > 0 {
			out = append(out, p)
		}
	}
	return out
}

// Hints are kept in the stand-in's store: one killed before it could hand
// them over delivers them once it and the home nodes are back.
func TestStandInRestartedBeforeDeliveryStillDelivers(t *testing.T) {
	c := startCluster(t, 5)
	key := "kept"
	homes, others := c.homesOf(t, key)
	down := homes[:2]
	for _, p := range down {
		c.kill(p)
	}
	alive := append([]*proc{homes[2]}, others...)
	waitSuspected(t, alive, down)
	mustPut(t, homes[2], key, "hinted", "", "w=3")
	var holders []*proc
	eventually(t, 5*time.Second, "the stand-ins report their hints", func() error {
		if holders = standIns(t, others); len(holders) != 2 {
			return fmt.Errorf("%d stand-ins hold hints; want 2", len(holders))
		}
		return nil
	})
	for _, p := range holders {
		c.kill(p)
	}
	for _, p := range down {
		c.start(p)
	}
	for _, p := range holders {
		c.start(p)
	}
	for _, p := range down {
		eventually(t, 10*time.Second, p.id+" gets the write from a restarted stand-in", func() error {
			return holdsValue(p, key, "hinted")
		})
	}
}

// With one node of five hung (SIGSTOP: its kernel still takes
// connections), puts through every other node at W=2 all succeed: its
// peers suspect it within a second and a half, and a put forwarded to it
// meanwhile is taken by the next target.
func TestPutsSucceedWithOneNodeHung(t *testing.T) {
	c := startCluster(t, 5)
	hung := c.nodes[2]
	if err := hung.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer hung.cmd.Process.Signal(syscall.SIGCONT)
	start := time.Now()
	failed := 0
	for i := 0; i < 200; i++ {
		via := c.nodes[i%5]
		if via == hung {
			continue
		}
		r := do(t, http.MethodPut, via, fmt.Sprintf("hung-%d", i), "w=2", "", []byte("v"))
		if r.code != http.StatusOK {
			failed++
			t.Errorf("put %d via %s %v after the stop: %d %s", i, via.id, time.Since(start).Round(time.Millisecond), r.code, r.body)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of 160 puts failed with one node hung", failed)
	}
}

// walkOf returns the key's walk: its home nodes, then its stand-ins.
func (c *testCluster) walkOf(t *testing.T, key string) []*proc {
	t.Helper()
	st, err := status(c.nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	var members []cluster.Member
	for _, m := range st.Members {
		members = append(members, cluster.Member{ID: m.ID, Addr: m.Addr})
	}
	ring, err := cluster.NewRing(st.Partitions, st.Replicas, members)
	if err != nil {
		t.Fatal(err)
	}
	var out []*proc
	for _, id := range ring.Walk(ring.PartitionOf([]byte(key))) {
		for _, p := range c.nodes {
			if p.id == id {
				out = append(out, p)
			}
		}
	}
	return out
}

// The gap that hinted handoff leaves and anti-entropy closes: a stand-in
// that dies for good before handing over its hint takes that copy of the
// write with it. With two home nodes down, the first stand-in holds the
// hint for the first, the second for the second; the first dies. The
// second home node gets its write back from the second stand-in; the
// first gets it within a round of anti-entropy (2 s here, 10 s by
// default), from the home node that took the write.
func TestHintedReplicaLostWithItsStandIn(t *testing.T) {
	c := startCluster(t, 5, "--ae-round", "2s")
	key := "gap"
	walk := c.walkOf(t, key)
	homes, standIn := walk[:3], walk[3:]
	for _, p := range homes[:2] {
		c.kill(p)
	}
	waitSuspected(t, append([]*proc{homes[2]}, standIn...), homes[:2])
	mustPut(t, homes[2], key, "lonely", "", "w=3")
	c.kill(standIn[0]) // for good: it held the hint for homes[0]
	start := time.Now()
	for _, p := range homes[:2] {
		c.start(p)
	}
	eventually(t, 10*time.Second, homes[1].id+" gets its write from the live stand-in", func() error {
		return holdsValue(homes[1], key, "lonely")
	})
	eventually(t, 15*time.Second, homes[0].id+" gets its write from anti-entropy", func() error {
		return holdsValue(homes[0], key, "lonely")
	})
	t.Logf("%s held the write %v after coming back, with no hint for it left", homes[0].id, time.Since(start).Round(time.Millisecond))
}
