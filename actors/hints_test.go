package actors_test

import (
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/cluster"
	"github.com/dynamokv/dynamo/hints"
	"github.com/dynamokv/dynamo/messages"
	"github.com/dynamokv/dynamo/store"
	"github.com/dynamokv/dynamo/version"
	"github.com/rs/zerolog"
)

func spawnHints(t *testing.T, e *actor.Engine, st store.Store, view *actors.HintView, lim hints.Limits, up func(string) bool) *actor.PID {
	t.Helper()
	ring, err := cluster.NewRing(8, 1, []cluster.Member{{ID: "home", Addr: "home:1"}, {ID: "me", Addr: e.Address()}})
	if err != nil {
		t.Fatal(err)
	}
	return e.Spawn(actors.NewHints(actors.HintsConfig{Node: "me", Ring: cluster.NewView(ring, 1), Store: st, Dots: version.NewDotSource("me.x"),
		Up: up, Limits: lim, View: view, Log: zerolog.Nop()}), actors.HintsKind, actor.WithID(actors.HintsID))
}

// Hints live in the store: a buffer restarted on it holds and serves them,
// and its books count them again.
func TestHintsSurviveARestart(t *testing.T) {
	e, err := actor.NewEngine(actor.NewEngineConfig())
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory()
	down := func(string) bool { return false }
	view := &actors.HintView{}
	pid := spawnHints(t, e, st, view, hints.Limits{}, down)
	v := version.Version{Dot: version.Dot{Node: "a", Counter: 1}, Value: []byte("v")}
	ack, err := e.Request(pid, &messages.HintPut{ReqID: 1, Home: "home", Partition: 3, Key: []byte("k"), Versions: version.Siblings{v}}, time.Second).Result()
	if err != nil || ack.(*messages.ReplicaPutAck).Err != "" {
		t.Fatalf("hint put: %v %+v", err, ack)
	}
	<-e.Poison(pid).Done()

	view = &actors.HintView{}
	pid = spawnHints(t, e, st, view, hints.Limits{}, down)
	got, err := e.Request(pid, &messages.HintGet{ReqID: 2, Home: "home", Partition: 3, Key: []byte("k")}, time.Second).Result()
	if err != nil || !got.(*messages.ReplicaGetReply).Versions.Equal(version.Siblings{v}) {
		t.Fatalf("hint get after the restart: %v %+v", err, got)
	}
	eventually(t, 2*time.Second, "the books count the stored hint", func() bool {
		hs := view.Homes()
		return len(hs) == 1 && hs[0].Home == "home" && hs[0].Held == 1
	})
	<-e.Poison(pid).Done()
}

// Past its bound a hint is refused with a reason, and counted.
func TestHintsRefusedPastTheBound(t *testing.T) {
	e, err := actor.NewEngine(actor.NewEngineConfig())
	if err != nil {
		t.Fatal(err)
	}
	view := &actors.HintView{}
	pid := spawnHints(t, e, store.NewMemory(), view, hints.Limits{MaxHints: 1}, func(string) bool { return false })
	defer func() { <-e.Poison(pid).Done() }()
	v := version.Siblings{{Dot: version.Dot{Node: "a", Counter: 1}, Value: []byte("v")}}
	for i, key := range []string{"k1", "k2"} {
		ack, err := e.Request(pid, &messages.HintPut{ReqID: uint64(i + 1), Home: "home", Partition: 3, Key: []byte(key), Versions: v}, time.Second).Result()
		if err != nil {
			t.Fatal(err)
		}
		if e := ack.(*messages.ReplicaPutAck).Err; (i == 0) != (e == "") {
			t.Fatalf("hint %d answered %q", i, e)
		}
	}
	eventually(t, 2*time.Second, "the refusal counted", func() bool {
		hs := view.Homes()
		return len(hs) == 1 && hs[0].Refused == 1 && hs[0].Held == 1
	})
}
