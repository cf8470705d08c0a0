package transport

import (
	"fmt"
	"testing"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// Replies go to whatever sender address a frame names, so the number of
// peers must be bounded: past MaxPeers, sends to new addresses are dropped
// and counted, and existing peers keep working.
func TestTCPPeerLimitBoundsPeers(t *testing.T) {
	tr, err := NewTCP(TCPConfig{ListenAddr: "127.0.0.1:0", Cluster: "t", MaxPeers: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Stop().Wait() })
	e, err := actor.NewEngine(actor.NewEngineConfig().WithRemote(tr))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		e.Send(actor.NewPID(fmt.Sprintf("127.0.0.1:%d", i), "x/y"), &messages.Ping{Seq: uint64(i)})
	}
	st := tr.Stats()
	if len(st.Peers) != 3 {
		t.Fatalf("%d peers, want the limit of 3", len(st.Peers))
	}
	if st.DroppedPeerDown < 7 {
		t.Fatalf("DroppedPeerDown %d, want at least the 7 sends past the limit", st.DroppedPeerDown)
	}
}
