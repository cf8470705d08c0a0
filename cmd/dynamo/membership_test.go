package main

import (
	"encoding/json"
	"fmt"
	"net/http"
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
