package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/faults/history"
)

// The workload: concurrent clients, each bound to one node as a client
// beside it would be, doing a mix of two operations.
//
//   - Add: a read-modify-write of one of a few set keys: read it, take the
//     union of its siblings' elements, add a new element, write the union
//     with the read's context.
//   - Blind add: a write of one element to a set key without reading it
//     first, which the store keeps as a sibling of what the key holds.
//   - Write: a blind write of a key never written before.
//
// Every element is unique in the run, so the checker can tell each
// operation's fate from the final reads.

// workload runs the clients and records their operations.
type workload struct {
	nodes   []string // HTTP base URLs, by node index
	ids     []string // node IDs
	setKeys int
	start   time.Time
	hc      *http.Client
	// pace is the pause each worker takes between operations, so the
	// clients leave the machine to the nodes.
	pace time.Duration
	max  int64 // bound on operations over the run

	// live are the nodes clients use, by index: every node, unless a
	// membership run changes them.
	live  atomic.Pointer[[]int]
	count atomic.Int64
	mu    sync.Mutex
	ops   []history.Op
	acked []history.Op // acknowledged blind writes, for readers
}

// ackedWrite returns the i-th acknowledged blind write (modulo their
// number), false while there is none.
func (w *workload) ackedWrite(i int) (history.Op, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.acked) == 0 {
		return history.Op{}, false
	}
	return w.acked[i%len(w.acked)], true
}

// setLive sets the nodes clients use from now on.
func (w *workload) setLive(nodes []int) { w.live.Store(&nodes) }

func (w *workload) liveNodes() []int { return *w.live.Load() }

// opTimeout bounds one HTTP request: above a node's own wait (twice its
// request timeout and a half second), so a node's answer, not ours, ends
// a request whenever the node answers at all.
const opTimeout = 4 * time.Second

func newWorkload(nodes, ids []string, setKeys int, pace time.Duration, maxOps int64) *workload {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	w := &workload{nodes: nodes, ids: ids, setKeys: setKeys, pace: pace, max: maxOps,
		hc: &http.Client{Transport: tr, Timeout: opTimeout}, start: time.Now()}
	all := make([]int, len(nodes))
	for i := range all {
		all[i] = i
	}
	w.setLive(all)
	return w
}

func (w *workload) close() { w.hc.CloseIdleConnections() }

// setKey names set key i.
func setKey(i int) string { return fmt.Sprintf("set-%d", i) }

// run starts workers workers and returns when ctx ends or the operation
// bound is reached; operations in flight are finished and recorded.
func (w *workload) run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			w.worker(ctx, id)
		}(i)
	}
	wg.Wait()
}

func (w *workload) worker(ctx context.Context, id int) {
	for seq := 0; ; seq++ {
		if ctx.Err() != nil || w.count.Add(1) > w.max {
			return
		}
		live := w.liveNodes()
		node := id % len(live) // a position in live
		elem := fmt.Sprintf("w%d-%d", id, seq)
		// Fresh keys for half the operations, set keys for the rest,
		// spread so that every worker meets every set key.
		var op history.Op
		switch key := setKey((id + seq/2) % w.setKeys); {
		case seq%2 == 0:
			op = w.write(live, node, "u-"+elem, elem)
		case seq%6 == 1:
			op = w.write(live, node, key, elem)
			op.Kind = history.Add
		default:
			op = w.add(live, node, key, elem)
		}
		w.mu.Lock()
		w.ops = append(w.ops, op)
		if op.Kind == history.Write && op.Outcome == history.OK && strings.HasPrefix(op.Key, "u-") {
			w.acked = append(w.acked, op)
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.pace):
		}
	}
}

// history returns the operations recorded so far.
func (w *workload) history() []history.Op {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.ops)
}

func (w *workload) since() time.Duration { return time.Since(w.start) }

// A client knows every node, as a client given several seeds does: a
// request that certainly stored nothing (a refused dial, a 503 without
// the unknown outcome) goes to the next node, so that the figures measure
// the store, not a client bound to a node that cannot serve. A request
// that may have been applied is never sent again.

func (w *workload) write(live []int, pos int, key, elem string) (op history.Op) {
	op = history.Op{Kind: history.Write, Key: key, Element: elem, Start: w.since()}
	defer func() { op.End = w.since() }()
	for try := 0; try < len(live); try++ {
		n := live[(pos+try)%len(live)]
		var again bool
		op.Node = w.ids[n]
		op.Outcome, op.Err, again = w.put(n, key, []byte(elem), "")
		if !again {
			break
		}
	}
	return op
}

func (w *workload) add(live []int, pos int, key, elem string) (op history.Op) {
	op = history.Op{Kind: history.Add, Key: key, Element: elem, Start: w.since()}
	defer func() { op.End = w.since() }()
	for try := 0; try < len(live); try++ {
		n := live[(pos+try)%len(live)]
		op.Node = w.ids[n]
		elems, ctxStr, again, err := w.read(n, key, 0)
		if err != nil {
			// Nothing was written: the operation failed, definitely.
			op.Outcome, op.Err = history.Failed, "read before the write: "+err.Error()
			if again {
				continue
			}
			return op
		}
		op.Outcome, op.Err, again = w.put(n, key, []byte(strings.Join(append(elems, elem), ",")), ctxStr)
		if !again {
			break
		}
	}
	return op
}

// isDialError reports an error of a request that never reached a server.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// put writes and classifies the outcome as the API defines it: 2xx is
// acknowledged; an answer without X-Dynamo-Outcome: unknown is a definite
// failure (nothing stored); an unknown outcome, a timeout or a connection
// lost after the request went out are unknown; a request that never left
// (a refused dial) failed.
//
// again says that another node may be asked: this one certainly stored
// nothing and could not serve (a failed dial, a definite 503).
func (w *workload) put(node int, key string, value []byte, ctxStr string) (out history.Outcome, why string, again bool) {
	req, err := http.NewRequest(http.MethodPut, w.nodes[node]+api.KeyPrefix+url.PathEscape(key), bytes.NewReader(value))
	if err != nil {
		return history.Failed, err.Error(), false
	}
	if ctxStr != "" {
		req.Header.Set(api.ContextHeader, ctxStr)
	}
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
	}))
	resp, err := w.hc.Do(req)
	if err != nil {
		if wrote.Load() {
			return history.Unknown, err.Error(), false
		}
		return history.Failed, err.Error(), true
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return history.Unknown, "reading the reply: " + err.Error(), false
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent:
		return history.OK, "", false
	case resp.Header.Get(api.OutcomeHeader) == api.OutcomeUnknown:
		return history.Unknown, fmt.Sprintf("%d %s", resp.StatusCode, errorText(body)), false
	}
	return history.Failed, fmt.Sprintf("%d %s", resp.StatusCode, errorText(body)), resp.StatusCode == http.StatusServiceUnavailable
}

// read returns the union of the elements of key's siblings and the
// context to write with; r=0 is the node's default quorum. On an error,
// again says another node may do better (a failed dial, a 503).
func (w *workload) read(node int, key string, r int) (elems []string, ctx string, again bool, err error) {
	u := w.nodes[node] + api.KeyPrefix + url.PathEscape(key)
	if r > 0 {
		u += fmt.Sprintf("?r=%d", r)
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, "", false, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := w.hc.Do(req)
	if err != nil {
		return nil, "", isDialError(err), err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, "", false, err
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return nil, resp.Header.Get(api.ContextHeader), false, nil
	case http.StatusOK, http.StatusMultipleChoices:
	default:
		return nil, "", resp.StatusCode == http.StatusServiceUnavailable, fmt.Errorf("%d %s", resp.StatusCode, errorText(body))
	}
	var s api.Siblings
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, "", false, fmt.Errorf("reply is not siblings JSON: %w", err)
	}
	return unionOf(s.Siblings), s.Context, false, nil
}

// unionOf splits each sibling into its elements and returns their union,
// sorted.
func unionOf(values [][]byte) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		for _, e := range strings.Split(string(v), ",") {
			if e != "" && !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	slices.Sort(out)
	return out
}

func errorText(body []byte) string {
	var e api.Error
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return strings.TrimSpace(string(body))
}
