package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/dynamokv/dynamo/api"
	ringpkg "github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/faults/history"
	"github.com/dynamokv/dynamo/membership"
)

// After the heal: read every key with R=N until every replica of every key
// holds the same versions (read repair does the work; nothing else
// reconciles replicas yet), then read every key through every node.

// ringOf builds the ring a node reports, to know each key's replicas.
func ringOf(ctx context.Context, hc *http.Client, base string) (*ringpkg.Ring, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st api.Status
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&st); err != nil {
		return nil, fmt.Errorf("status of %s: %w", base, err)
	}
	ms := membership.State{Cluster: st.Cluster, Partitions: st.Partitions, Replicas: st.Replicas, Version: st.Membership.Version}
	for _, r := range st.Membership.Records {
		ms.Records = append(ms.Records, membership.Record{ID: r.ID, Addr: r.Addr, Joined: r.Joined, Left: r.Left, Removed: r.Removed})
	}
	return ms.Ring()
}

// parallel runs f for every index below n on a few goroutines.
func parallel(n int, f func(i int)) {
	const workers = 16
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// converge runs anti-entropy on every node (POST /admin/repair) until
// every partition's replicas have equal Merkle roots, or limit passes; it
// returns how many keys still differ (compared one by one through each
// replica's own copy, a check independent of the trees) and how long the
// roots took to agree. No read repairs anything here: the final reads come
// after.
func (r *run) converge(ctx context.Context, keys []string, limit time.Duration) (int, time.Duration, error) {
	start := time.Now()
	ring, err := ringOf(ctx, r.w.hc, r.c.httpURL(0))
	if err != nil {
		return 0, 0, err
	}
	index := map[string]int{}
	for i, n := range r.c.nodes {
		index[n.id] = i
	}
	var took time.Duration
	live := r.w.liveNodes()
	for {
		parallel(len(live), func(i int) { _ = r.post(ctx, r.c.httpURL(live[i])+api.RepairPath) })
		equal, err := r.rootsEqual(ctx, ring, index)
		if err != nil {
			return 0, 0, err
		}
		took = time.Since(start)
		if equal || took > limit || ctx.Err() != nil {
			break
		}
	}
	differing := make([]bool, len(keys))
	parallel(len(keys), func(i int) {
		digests := map[string]bool{}
		for _, id := range ring.KeyPreferenceList([]byte(keys[i])) {
			d, err := r.localDigest(ctx, index[id], keys[i])
			if err != nil {
				d = "error: " + err.Error()
			}
			digests[d] = true
		}
		differing[i] = len(digests) > 1
	})
	n := 0
	for _, d := range differing {
		if d {
			n++
		}
	}
	return n, took, nil
}

// rootsEqual reports whether every partition's replicas report the same
// Merkle root.
func (r *run) rootsEqual(ctx context.Context, ring *ringpkg.Ring, index map[string]int) (bool, error) {
	roots := make([]api.Roots, len(r.c.nodes))
	errs := make([]error, len(r.c.nodes))
	live := r.w.liveNodes()
	parallel(len(live), func(i int) { roots[live[i]], errs[live[i]] = r.roots(ctx, r.c.httpURL(live[i])) })
	for _, err := range errs {
		if err != nil {
			return false, err
		}
	}
	for p := 0; p < ring.Partitions(); p++ {
		seen := map[string]bool{}
		for _, id := range ring.PreferenceList(p) {
			seen[roots[index[id]].Roots[uint32(p)]] = true
		}
		if len(seen) > 1 {
			return false, nil
		}
	}
	return true, nil
}

func (r *run) roots(ctx context.Context, base string) (api.Roots, error) {
	var out api.Roots
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+api.RootsPath, nil)
	if err != nil {
		return out, err
	}
	resp, err := r.w.hc.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("%s: %s", base+api.RootsPath, resp.Status)
	}
	return out, json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&out)
}

func (r *run) post(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := r.w.hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// localDigest returns the digest of node i's own copy of key.
func (r *run) localDigest(ctx context.Context, i int, key string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.c.httpURL(i)+api.LocalPrefix+url.PathEscape(key), nil)
	if err != nil {
		return "", err
	}
	resp, err := r.w.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%d %s", resp.StatusCode, errorText(body))
	}
	var lc api.LocalCopy
	if err := json.Unmarshal(body, &lc); err != nil {
		return "", err
	}
	return lc.Digest, nil
}

// finalReads reads every key through every node clients use, at the
// default quorum.
func (r *run) finalReads(keys []string) []history.FinalRead {
	live := r.w.liveNodes()
	nodes := len(live)
	out := make([]history.FinalRead, len(keys)*nodes)
	parallel(len(out), func(i int) {
		key, node := keys[i/nodes], live[i%nodes]
		elems, _, _, err := r.w.read(node, key, 0)
		fr := history.FinalRead{Node: r.c.nodes[node].id, Key: key, Elements: elems}
		if err != nil {
			fr.Err = err.Error()
		}
		out[i] = fr
	})
	return out
}

// suspectsAny reports whether the node at base suspects a member.
func suspectsAny(ctx context.Context, hc *http.Client, base string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/status", nil)
	if err != nil {
		return false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var st api.Status
	if json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&st) != nil {
		return false
	}
	for _, m := range st.Members {
		if m.State == "suspected" {
			return true
		}
	}
	return false
}
