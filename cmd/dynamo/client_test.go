package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/version"
)

func TestReorderArgs(t *testing.T) {
	fs := flag.NewFlagSet("put", flag.ContinueOnError)
	fs.String("context", "", "")
	fs.Int("w", 0, "")
	fs.Bool("json", false, "")
	for _, tc := range []struct{ in, want []string }{
		{[]string{"k", "v"}, []string{"--", "k", "v"}},
		{[]string{"k", "v", "--context", "C", "-w", "2"}, []string{"--context", "C", "-w", "2", "--", "k", "v"}},
		{[]string{"k", "--json", "v"}, []string{"--json", "--", "k", "v"}},
		{[]string{"--w=2", "k"}, []string{"--w=2", "--", "k"}},
		{[]string{"k", "--", "-v"}, []string{"--", "k", "-v"}},
		{[]string{"-", "k"}, []string{"--", "-", "k"}},
		{[]string{"-w"}, []string{"-w"}},
		{nil, nil},
	} {
		if got := reorderArgs(fs, tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("reorderArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// fakeNode serves the HTTP API for a one-node cluster from a map. Key
// "conflict" holds two siblings; key "broken" answers 503.
func fakeNode(t *testing.T) *httptest.Server {
	var mu sync.Mutex
	data := map[string][]byte{}
	ctxOf := func(n uint64) string {
		return version.EncodeContext(version.NewClock(version.Entry{Node: "n1", Counter: n}), nil)
	}
	reply := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		ring, err := cluster.NewRing(8, 1, []cluster.Member{{ID: "n1", Addr: "127.0.0.1:7001"}})
		if err != nil {
			t.Error(err)
		}
		st := api.Status{Node: "n1", Cluster: "dynamo", Address: "127.0.0.1:7001", HTTP: srv.Listener.Addr().String(),
			Partitions: 8, Replicas: 1, ReadQuorum: 1, WriteQuorum: 1, Coordinators: 1,
			Members:    []api.Member{{ID: "n1", Addr: "127.0.0.1:7001", HTTP: srv.Listener.Addr().String(), Agreed: true, Up: true, State: "self"}},
			Vnodes:     []uint32{0, 1, 2, 3, 4, 5, 6, 7},
			Peers:      []api.Peer{{Addr: "127.0.0.1:7002", Up: false, Dropped: 3}},
			Problems:   []string{"member n2 is down"},
			Membership: api.Membership{Version: 1, Records: []api.MemberRecord{{ID: "n1", Addr: "127.0.0.1:7001", Joined: 1}}}}
		for p := range 8 {
			st.Ring = append(st.Ring, api.Partition{Partition: p, PreferenceList: ring.PreferenceList(p)})
		}
		reply(w, http.StatusOK, st)
	})
	mux.HandleFunc(api.KeyPrefix, func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.URL.Path, api.KeyPrefix)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case key == "broken":
			reply(w, http.StatusServiceUnavailable, api.Error{Error: "quorum not reached: 1 of 2 replicas answered within 1s"})
		case key == "conflict" && r.Method == http.MethodGet:
			reply(w, http.StatusMultipleChoices, api.Siblings{Context: ctxOf(2), Siblings: [][]byte{[]byte("a"), []byte("b")}})
		case r.Method == http.MethodPut:
			data[key], _ = io.ReadAll(r.Body)
			w.Header().Set(api.ContextHeader, ctxOf(1))
		case r.Method == http.MethodDelete:
			delete(data, key)
			w.WriteHeader(http.StatusNoContent)
		case data[key] == nil:
			reply(w, http.StatusNotFound, api.Error{Error: "key not found"})
		default:
			w.Header().Set(api.ContextHeader, ctxOf(1))
			_, _ = w.Write(data[key])
		}
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestClientCommands(t *testing.T) {
	srv := fakeNode(t)
	node := "--node=" + srv.URL
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		// The fake node speaks HTTP only.
		err := runClientTo(&out, args[0], append([]string{"--mode", "http"}, args[1:]...))
		return out.String(), err
	}
	ctx1 := version.EncodeContext(version.NewClock(version.Entry{Node: "n1", Counter: 1}), nil)

	// Flags after the positionals, as people type them.
	out, err := run("put", "greeting", "hello", node, "-w", "1")
	if err != nil || out != ctx1+"\n" {
		t.Fatalf("put: %q, %v; want the new context", out, err)
	}
	out, err = run("get", node, "greeting")
	if err != nil || out != "hello\ncontext: "+ctx1+"\n" {
		t.Fatalf("get: %q, %v", out, err)
	}
	out, err = run("get", "conflict", node, "--json")
	var sib api.Siblings
	if err != nil || json.Unmarshal([]byte(out), &sib) != nil || len(sib.Siblings) != 2 || sib.Context == "" {
		t.Fatalf("get --json: %q, %v", out, err)
	}
	out, err = run("get", "conflict", node)
	if err != nil || !strings.HasPrefix(out, "a\nb\ncontext: ") {
		t.Fatalf("get of siblings: %q, %v", out, err)
	}
	if err := func() error { _, err := run("delete", "greeting", node); return err }(); err == nil {
		t.Fatal("delete without --context: no error")
	}
	if _, err := run("delete", "greeting", "--context", ctx1, node); err != nil {
		t.Fatal(err)
	}
	if _, err := run("get", "greeting", node); !errors.Is(err, errNotFound) {
		t.Fatalf("get after delete: %v, want not found", err)
	}
	_, err = run("put", "broken", "v", node)
	if err == nil || err.Error() != "quorum not reached: 1 of 2 replicas answered within 1s (503)" {
		t.Fatalf("put on a failing node: %v", err)
	}

	out, err = run("status", node)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"as n1 sees it", "NODE", "127.0.0.1:7001", "self", "member n2 is down"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	out, err = run("status", "--output", "raw", node)
	var st api.Status
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || st.Node != "n1" {
		t.Fatalf("status --output raw: %q, %v", out, err)
	}
	out, err = run("status", "--output", "json", node)
	var view clusterView
	if err != nil || json.Unmarshal([]byte(out), &view) != nil || len(view.Nodes) != 1 || view.Nodes[0].Partitions != 8 {
		t.Fatalf("status --output json: %q, %v", out, err)
	}

	if _, err := run("put", "k", node); err == nil {
		t.Fatal("put without a value: no error")
	}
	if _, err := run("get", "k", node, "--mode", "carrier-pigeon"); err == nil {
		t.Fatal("unknown mode: no error")
	}
}
