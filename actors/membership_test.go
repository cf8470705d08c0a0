package actors

import (
	"strings"
	"testing"

	"github.com/dynamokv/dynamo/messages"
)

func TestCompareHello(t *testing.T) {
	self := messages.ClusterHello{Node: "n1", Cluster: "c", Partitions: 64, Replicas: 3,
		Members: []messages.ClusterMember{{ID: "n1", Addr: "a:1"}, {ID: "n2", Addr: "a:2"}}}
	cases := []struct {
		name   string
		change func(*messages.ClusterHello)
		want   string
	}{
		{"same view", func(h *messages.ClusterHello) { h.Node, h.HTTP = "n2", "x:1" }, ""},
		{"other cluster", func(h *messages.ClusterHello) { h.Cluster = "d" }, `cluster name "d"`},
		{"other Q", func(h *messages.ClusterHello) { h.Partitions = 32 }, "Q=32 partitions, this node has Q=64"},
		{"other N", func(h *messages.ClusterHello) { h.Replicas = 2 }, "N=2 replicas"},
		{"other coordinators", func(h *messages.ClusterHello) { h.Coordinators = 8 }, "8 coordinators"},
		{"other order", func(h *messages.ClusterHello) {
			h.Members = []messages.ClusterMember{{ID: "n2", Addr: "a:2"}, {ID: "n1", Addr: "a:1"}}
		}, "members [n2=a:2 n1=a:1], this node has [n1=a:1 n2=a:2]"},
		{"other address", func(h *messages.ClusterHello) {
			h.Members = []messages.ClusterMember{{ID: "n1", Addr: "a:1"}, {ID: "n2", Addr: "a:3"}}
		}, "n2=a:3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			other := self
			other.Members = append([]messages.ClusterMember(nil), self.Members...)
			tc.change(&other)
			got := CompareHello(self, other)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("CompareHello = %q, want %q", got, tc.want)
			}
		})
	}
}
