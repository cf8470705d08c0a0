package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/api"
)

// Nodes started with different ring parameters must not serve data
// together: each says what differs, in /status and in every error.
func TestNodesThatDisagreeOnTheRingRefuseWithAClearError(t *testing.T) {
	ports := freePorts(t, 4)
	members := fmt.Sprintf("n1=127.0.0.1:%d,n2=127.0.0.1:%d", ports[0], ports[2])
	small := []string{"-n", "2", "-r", "1", "-w", "1"}
	c := &testCluster{t: t, members: members, extra: small}
	p1 := &proc{id: "n1", peer: fmt.Sprintf("127.0.0.1:%d", ports[0]), http: fmt.Sprintf("127.0.0.1:%d", ports[1]), data: t.TempDir()}
	p2 := &proc{id: "n2", peer: fmt.Sprintf("127.0.0.1:%d", ports[2]), http: fmt.Sprintf("127.0.0.1:%d", ports[3]), data: t.TempDir()}
	c.nodes = []*proc{p1, p2}
	c.start(p1)
	c.extra = append(small, "--partitions", "32")
	c.start(p2)
	t.Cleanup(func() { c.kill(p1); c.kill(p2) })

	eventually(t, 10*time.Second, "n1 reports n2's different Q", func() error {
		st, err := status(p1)
		if err != nil {
			return err
		}
		if len(st.Problems) == 0 {
			return fmt.Errorf("no problem reported yet")
		}
		if !strings.Contains(st.Problems[0], "member n2: partitions Q=32, this node has Q=64") {
			return fmt.Errorf("problem reported as %q", st.Problems[0])
		}
		return nil
	})
	r := do(t, http.MethodPut, p1, "k", "", "", []byte("v"))
	var e api.Error
	_ = json.Unmarshal(r.body, &e)
	if r.code != http.StatusServiceUnavailable || !strings.Contains(e.Error, "cluster configuration mismatch") ||
		!strings.Contains(e.Error, "Q=32") {
		t.Fatalf("put on a disagreeing cluster: %d %s", r.code, r.body)
	}
}

// Membership changes an operator gets wrong are refused with a reason,
// and change nothing; one that is right is taken, persisted and spread.
func TestMembershipCommandsRefuseMistakesAndTakeChanges(t *testing.T) {
	c := startCluster(t, 3)
	n1 := "http://" + c.nodes[0].http
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"remove", "n2", "--node", n1}, "n2 is up"},
		{[]string{"leave", "n9", "--node", n1}, "n9 is not a member"},
		{[]string{"leave", "--node", n1}, "want 1 argument"},
	} {
		out, err := exec.Command(binary, tc.args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("dynamo %s: err %v, output %q; want a failure saying %q", strings.Join(tc.args, " "), err, out, tc.want)
		}
	}
	// The client commands speak the Go client's native protocol by
	// default; status draws every node.
	if out, err := exec.Command(binary, "put", "greeting", "hello", "--node", n1).CombinedOutput(); err != nil {
		t.Fatalf("dynamo put (native): %v\n%s", err, out)
	}
	if out, err := exec.Command(binary, "get", "greeting", "--node", n1).CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "hello\n") {
		t.Fatalf("dynamo get (native): %v\n%s", err, out)
	}
	eventually(t, 10*time.Second, "dynamo status counts the key on its three replicas", func() error {
		out, err := exec.Command(binary, "status", "--node", n1, "--output", "json").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		var v clusterView
		if err := json.Unmarshal(out, &v); err != nil {
			return err
		}
		var keys int64
		for _, r := range v.Nodes {
			if r.Partitions != 64 || r.Err != "" {
				return fmt.Errorf("%s: %d partitions, error %q", r.ID, r.Partitions, r.Err)
			}
			keys += r.Keys
		}
		if len(v.Nodes) != 3 || keys != 3 {
			return fmt.Errorf("%d nodes, %d keys in all", len(v.Nodes), keys)
		}
		return nil
	})
	out, err := exec.Command(binary, "status", "--node", n1).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "as n1 sees it") || !strings.Contains(string(out), "self") {
		t.Errorf("dynamo status: %v\n%s", err, out)
	}
	resp, err := http.Get(n1 + api.LeavePath + "?node=n2")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET %s: %s, want 405", api.LeavePath, resp.Status)
	}
	st, err := status(c.nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	if st.Membership.Version != 3 {
		t.Fatalf("membership version %d after refused changes, want 3", st.Membership.Version)
	}

	// With three members and N=3, a leave would leave keys short of
	// replicas; a node that is gone for good may still be removed.
	out, err = exec.Command(binary, "leave", "n3", "--node", n1).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "join a node first") {
		t.Errorf("dynamo leave n3 of three members: %v\n%s", err, out)
	}
	c.kill(c.nodes[2])
	eventually(t, 10*time.Second, "n1 suspects n3", func() error {
		_, err := exec.Command(binary, "remove", "n3", "--node", n1).CombinedOutput()
		return err
	})
	eventually(t, 10*time.Second, "every node knows n3 was removed", func() error {
		for _, p := range c.nodes[:2] {
			st, err := status(p)
			if err != nil {
				return err
			}
			if st.Membership.Version != 4 || len(st.Members) != 2 {
				return fmt.Errorf("%s: version %d, %d members", p.id, st.Membership.Version, len(st.Members))
			}
		}
		return nil
	})
}
