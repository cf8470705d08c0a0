package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/api"
)

// A handoff interrupted by a crash of either side, the old owner handing a
// partition over or the new one being filled, resumes after the restart:
// once the cluster settles every key is held alike by each of its three
// replicas, and read at R=3.
func TestHandoffSurvivesCrashesOfEitherSide(t *testing.T) {
	// A slow handoff, so that the crashes come in the middle of it; no
	// anti-entropy rounds, so that only the handoff moves data.
	c := startCluster(t, 3, "--handoff-rate", "300", "--ae-round", "-1s")
	const keys = 1200
	for i := range keys {
		mustPut(t, c.nodes[i%3], "k"+strconv.Itoa(i), "v"+strconv.Itoa(i), "", "w=3")
	}
	ps := freePorts(t, 2)
	n4 := &proc{id: "n4", peer: "127.0.0.1:" + strconv.Itoa(ps[0]), http: "127.0.0.1:" + strconv.Itoa(ps[1]),
		data: t.TempDir(), join: c.nodes[0].peer}
	c.nodes = append(c.nodes, n4)
	c.start(n4)

	var victim *proc
	eventually(t, 20*time.Second, "an old owner is handing a partition over", func() error {
		for _, p := range c.nodes[:3] {
			if st, err := status(p); err == nil && len(st.Handoffs) > 0 {
				victim = p
				return nil
			}
		}
		return fmt.Errorf("no handoff under way")
	})
	c.kill(victim)
	c.start(victim)
	eventually(t, 20*time.Second, "n4 is filling", func() error {
		st, err := status(n4)
		if err != nil {
			return err
		}
		if st.Filling == 0 {
			return fmt.Errorf("n4 fills nothing (%d vnodes)", len(st.Vnodes))
		}
		return nil
	})
	c.kill(n4)
	c.start(n4)

	eventually(t, 90*time.Second, "the cluster settles", func() error {
		for _, p := range c.nodes {
			st, err := status(p)
			switch {
			case err != nil:
				return err
			case st.Membership.Version != 4:
				return fmt.Errorf("%s on membership version %d", p.id, st.Membership.Version)
			case len(st.Handoffs) > 0 || st.Filling > 0:
				return fmt.Errorf("%s: %d handoffs, %d partitions filling", p.id, len(st.Handoffs), st.Filling)
			}
		}
		return nil
	})
	// The victim was killed holding partitions it was handing over: the
	// restarted process found them in its store and handed them over.
	if st, err := status(victim); err != nil || st.Dropped == 0 {
		t.Errorf("%s dropped %d partitions after its restart (%v): the interrupted handoffs were not resumed", victim.id, st.Dropped, err)
	}
	for i := range keys {
		k := "k" + strconv.Itoa(i)
		if r := do(t, http.MethodGet, c.nodes[i%4], k, "r=3", "", nil); r.code != http.StatusOK || string(r.body) != "v"+strconv.Itoa(i) {
			t.Fatalf("GET %s at R=3: %d %s", k, r.code, r.body)
		}
		digests := map[string]int{}
		for _, p := range c.nodes {
			if d, ok := localDigest(t, p, k); ok {
				digests[d]++
			}
		}
		if len(digests) != 1 || digests[firstKey(digests)] != 3 {
			t.Fatalf("%s: replicas hold %v, want one digest on 3 nodes", k, digests)
		}
	}
}

// localDigest is node p's own copy of key, false when p holds no replica.
func localDigest(t *testing.T, p *proc, key string) (string, bool) {
	t.Helper()
	resp, err := http.Get("http://" + p.http + api.LocalPrefix + url.PathEscape(key))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", false
	}
	var lc api.LocalCopy
	if err := json.NewDecoder(resp.Body).Decode(&lc); err != nil {
		t.Fatal(err)
	}
	return lc.Digest, true
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}
