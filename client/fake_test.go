package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/version"
)

// fakeCluster is an in-memory stand-in for a cluster: every fake node
// serves the documented HTTP API over one shared store, and logs which
// node each request reached. Versions are one counter per key; a write
// supersedes the siblings its context covers and adds one, so blind writes
// make siblings as in the real store.
type fakeCluster struct {
	t            *testing.T
	q, n         int
	coordinators int
	nodes        []*fakeNode
	ring         *cluster.Ring
	// notReady statuses are answered without members, as a node that has
	// just started does.
	notReady atomic.Int64

	mu   sync.Mutex
	data map[string]*fakeKey
	hits []hit
}

type fakeKey struct {
	counter  uint64
	siblings []fakeValue
}

type fakeValue struct {
	counter uint64
	value   []byte
}

type hit struct {
	node, method, key string
	coordinator       int // native: which coordinator actor received it
}

type fakeNode struct {
	fc   *fakeCluster
	id   string
	addr string // peer address
	http string // HTTP host:port, "" when not served
	srv  *httptest.Server

	failWith atomic.Int64 // answer key requests with this status
	unknown  atomic.Bool  // ... and say a write's outcome is unknown
	hang     atomic.Bool  // never answer key requests
	// drop takes key requests and goes without answering: over HTTP the
	// connection is closed, natively the node's transport stops (crash).
	drop  atomic.Bool
	crash func()
}

// newFakeCluster starts size fake nodes serving HTTP, with fake peer
// addresses: HTTP mode never dials them.
func newFakeCluster(t *testing.T, size int) *fakeCluster {
	t.Helper()
	fc := &fakeCluster{t: t, q: 16, n: 3, coordinators: 1, data: map[string]*fakeKey{}}
	for range size {
		fc.addNode()
	}
	return fc
}

// addNode starts one more fake node, a member from now on: the
// membership version, which every key answer carries, goes up by one.
func (fc *fakeCluster) addNode() *fakeNode {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	i := len(fc.nodes)
	nd := &fakeNode{fc: fc, id: fmt.Sprintf("n%d", i+1), addr: fmt.Sprintf("127.0.0.1:%d", 17001+i)}
	nd.srv = httptest.NewServer(nd.routes())
	nd.http = nd.srv.Listener.Addr().String()
	fc.t.Cleanup(nd.srv.Close)
	fc.nodes = append(fc.nodes, nd)
	fc.buildRing()
	return nd
}

// version is the membership version: one join per node.
func (fc *fakeCluster) version() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return len(fc.nodes)
}

func (fc *fakeCluster) buildRing() {
	ms := make([]cluster.Member, len(fc.nodes))
	for i, nd := range fc.nodes {
		ms[i] = cluster.Member{ID: nd.id, Addr: nd.addr}
	}
	ring, err := cluster.NewRing(fc.q, fc.n, ms)
	if err != nil {
		fc.t.Fatal(err)
	}
	fc.ring = ring
}

func (fc *fakeCluster) node(id string) *fakeNode {
	for _, nd := range fc.nodes {
		if nd.id == id {
			return nd
		}
	}
	fc.t.Fatalf("no node %s", id)
	return nil
}

func (fc *fakeCluster) seeds() []string { return []string{fc.nodes[0].srv.URL} }

func (fc *fakeCluster) record(node, method, key string, coordinator int) {
	fc.mu.Lock()
	fc.hits = append(fc.hits, hit{node, method, key, coordinator})
	fc.mu.Unlock()
}

// takeHits returns the requests the nodes saw since the last call.
func (fc *fakeCluster) takeHits() []hit {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	h := fc.hits
	fc.hits = nil
	return h
}

// keyWithPrimary returns a key whose preference list starts with id.
func (fc *fakeCluster) keyWithPrimary(id string) string {
	for i := 0; ; i++ {
		k := "key-" + strconv.Itoa(i)
		if fc.ring.KeyPreferenceList([]byte(k))[0] == id {
			return k
		}
	}
}

func (fc *fakeCluster) status(self *fakeNode) api.Status {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	st := api.Status{
		Node: self.id, Cluster: "dynamo", Address: self.addr, HTTP: self.http,
		Partitions: fc.q, Replicas: fc.n, ReadQuorum: 2, WriteQuorum: 2, Coordinators: fc.coordinators,
	}
	for _, nd := range fc.nodes {
		st.Members = append(st.Members, api.Member{ID: nd.id, Addr: nd.addr, HTTP: nd.http, Agreed: true, Up: true})
	}
	for p := 0; p < fc.q; p++ {
		st.Ring = append(st.Ring, api.Partition{Partition: p, PreferenceList: fc.ring.PreferenceList(p)})
	}
	st.Membership.Version = uint64(len(fc.nodes))
	for i, nd := range fc.nodes {
		st.Membership.Records = append(st.Membership.Records, api.MemberRecord{ID: nd.id, Addr: nd.addr, HTTP: nd.http, Joined: uint64(i + 1)})
	}
	return st
}

func fakeContext(counter uint64) version.Clock {
	if counter == 0 {
		return nil
	}
	return version.NewClock(version.Entry{Node: "fake", Counter: counter})
}

// write applies a put or delete and returns the new context, or an error
// status and message.
func (fc *fakeCluster) write(key string, value []byte, ctx version.Clock, del bool) (version.Clock, int, string) {
	if del && len(ctx) == 0 {
		return nil, http.StatusBadRequest, "delete needs a context"
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	k := fc.data[key]
	if k == nil {
		k = &fakeKey{}
		fc.data[key] = k
	}
	seen := ctx.Get("fake")
	kept := k.siblings[:0]
	for _, s := range k.siblings {
		if s.counter > seen {
			kept = append(kept, s)
		}
	}
	k.siblings = kept
	k.counter++
	if !del {
		k.siblings = append(k.siblings, fakeValue{k.counter, append([]byte(nil), value...)})
	}
	return fakeContext(k.counter), http.StatusOK, ""
}

func (fc *fakeCluster) read(key string) ([][]byte, version.Clock) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	k := fc.data[key]
	if k == nil {
		return nil, nil
	}
	var vs [][]byte
	for _, s := range k.siblings {
		vs = append(vs, s.value)
	}
	return vs, fakeContext(k.counter)
}

// routes mimics the node's HTTP API, down to its ServeMux, so that keys
// the mux would mangle show up in tests.
func (nd *fakeNode) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		st := nd.fc.status(nd)
		if nd.fc.notReady.Add(-1) >= 0 {
			st.Members, st.Ring = nil, nil
		}
		writeJSONReply(w, http.StatusOK, st)
	})
	mux.HandleFunc(api.KeyPrefix, nd.kv)
	return mux
}

func (nd *fakeNode) kv(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, api.KeyPrefix)
	nd.fc.record(nd.id, r.Method, key, 0)
	w.Header().Set(api.RingHeader, strconv.Itoa(nd.fc.version()))
	if nd.drop.Load() {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	}
	if nd.hang.Load() {
		// The server notices the client leave only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return
	}
	if code := int(nd.failWith.Load()); code != 0 {
		if nd.unknown.Load() && r.Method != http.MethodGet {
			w.Header().Set(api.OutcomeHeader, api.OutcomeUnknown)
			writeJSONReply(w, code, api.Error{Error: "injected failure", Outcome: api.OutcomeUnknown})
			return
		}
		writeJSONReply(w, code, api.Error{Error: "injected failure"})
		return
	}
	if key == "" {
		writeJSONReply(w, http.StatusBadRequest, api.Error{Error: "empty key"})
		return
	}
	for _, q := range []string{"r", "w"} {
		if s := r.URL.Query().Get(q); s != "" {
			if v, err := strconv.Atoi(s); err != nil || v < 1 || v > nd.fc.n {
				writeJSONReply(w, http.StatusBadRequest, api.Error{Error: "bad " + q})
				return
			}
		}
	}
	ctx, _, err := version.DecodeContext(r.Header.Get(api.ContextHeader))
	if err != nil {
		writeJSONReply(w, http.StatusBadRequest, api.Error{Error: err.Error()})
		return
	}
	switch r.Method {
	case http.MethodGet:
		vs, c := nd.fc.read(key)
		if len(c) > 0 {
			w.Header().Set(api.ContextHeader, version.EncodeContext(c, nil))
		}
		switch len(vs) {
		case 0:
			writeJSONReply(w, http.StatusNotFound, api.Error{Error: "key not found"})
		case 1:
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(vs[0])
		default:
			writeJSONReply(w, http.StatusMultipleChoices, api.Siblings{Context: version.EncodeContext(c, nil), Siblings: vs})
		}
	case http.MethodPut, http.MethodDelete:
		del := r.Method == http.MethodDelete
		body, _ := io.ReadAll(r.Body)
		c, code, msg := nd.fc.write(key, body, ctx, del)
		if code != http.StatusOK {
			writeJSONReply(w, code, api.Error{Error: msg})
			return
		}
		w.Header().Set(api.ContextHeader, version.EncodeContext(c, nil))
		if del {
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		writeJSONReply(w, http.StatusMethodNotAllowed, api.Error{Error: "method"})
	}
}

func writeJSONReply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// requireStatus asserts err is a node's answer with the given status.
func requireStatus(t *testing.T, err error, status int) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T): want a *client.Error with status %d", err, err, status)
	}
	if e.Status != status {
		t.Fatalf("status %d (%v), want %d", e.Status, e, status)
	}
	return e
}
