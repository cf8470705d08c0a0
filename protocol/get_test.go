package protocol

import (
	"strings"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/version"
)

func TestGet(t *testing.T) {
	home := []Target{{Node: "a"}, {Node: "b"}, {Node: "c"}}
	sloppy := []Target{{Node: "a"}, {Node: "d", Home: "b"}, {Node: "e", Home: "c"}}
	old := version.Siblings{{Dot: version.Dot{Node: "a", Counter: 1}, Value: []byte("old")}}
	cur := version.Siblings{{Dot: version.Dot{Node: "a", Counter: 2}, Context: version.Clock{{Node: "a", Counter: 1}}, Value: []byte("new")}}
	tomb := version.Siblings{{Dot: version.Dot{Node: "a", Counter: 3, Stamp: 10}, Deleted: true}}
	type event struct {
		node   string
		vs     version.Siblings
		fail   bool
		expire bool
		hedge  bool
		want   string
	}
	tests := []struct {
		name    string
		targets []Target
		r, pr   int
		reap    int64
		events  []event
		askAll  bool
		self    string
		start   string // the reads asked first; "" for all three targets
	}{
		{"answered at R, stale repaired at the end", home, 2, 0, 0, []event{
			{node: "a", vs: cur},
			{node: "b", vs: old, want: "reply(200)"},
			{node: "c", vs: cur, want: "repair(b) finish"},
		}, true, "", ""},
		{"stand-ins count toward R and are not repaired", sloppy, 2, 0, 0, []event{
			{node: "d", vs: nil},
			{node: "a", vs: cur, want: "reply(200)"},
			{node: "e", vs: old, want: "finish"},
		}, true, "", ""},
		{"PR waits for home nodes", sloppy, 2, 1, 0, []event{
			{node: "d", vs: cur},
			{node: "e", vs: cur},
			{node: "a", vs: cur, want: "reply(200) finish"},
		}, true, "", ""},
		{"nothing found: 404", home, 2, 0, 0, []event{
			{node: "a"}, {node: "b", want: "reply(404)"}, {node: "c", want: "finish"},
		}, true, "", ""},
		{"failures make it impossible", home, 2, 0, 0, []event{
			{node: "a", fail: true}, {node: "b", fail: true, want: "reply(503)"}, {node: "c", vs: cur, want: "finish"},
		}, true, "", ""},
		{"timeout: answered 503, the silent reported, the answered compared", home, 3, 0, 0, []event{
			{node: "a", vs: cur}, {node: "b", vs: old},
			{expire: true, want: "reply(503) unanswered(c) repair(b) finish"},
		}, true, "", ""},
		{"old tombstones on every home node are reaped", home, 2, 0, 100, []event{
			{node: "a", vs: tomb}, {node: "b", vs: tomb, want: "reply(404)"}, {node: "c", vs: tomb, want: "reap(a,b,c) finish"},
		}, true, "", ""},
		{"not with a stand-in among the targets", sloppy, 2, 0, 100, []event{
			{node: "a", vs: tomb}, {node: "d", vs: tomb, want: "reply(404)"}, {node: "e", vs: tomb, want: "finish"},
		}, true, "", ""},
		{"not within the grace", home, 2, 0, 5, []event{
			{node: "a", vs: tomb}, {node: "b", vs: tomb, want: "reply(404)"}, {node: "c", vs: tomb, want: "finish"},
		}, true, "", ""},

		// R targets first, this node among them first.
		{"R asked; agreeing answers end the read", home, 2, 0, 0, []event{
			{node: "b", vs: cur},
			{node: "a", vs: cur, want: "reply(200) finish"},
		}, false, "b", "read(b) read(a)"},
		{"an answer from a target not asked changes nothing", home, 2, 0, 0, []event{
			{node: "c", vs: cur},
			{node: "a", vs: cur},
			{node: "b", vs: cur, want: "reply(200) finish"},
		}, false, "", "read(a) read(b)"},
		{"nothing found on R: 404 without the rest", home, 2, 0, 0, []event{
			{node: "a"}, {node: "b", want: "reply(404) finish"},
		}, false, "a", "read(a) read(b)"},
		{"disagreeing answers ask the rest, to repair every stale one", home, 2, 0, 0, []event{
			{node: "a", vs: cur},
			{node: "b", vs: old, want: "reply(200) read(c)"},
			{node: "c", vs: old, want: "repair(b) repair(c) finish"},
		}, false, "a", "read(a) read(b)"},
		{"a failure asks the next target", home, 2, 0, 0, []event{
			{node: "b", fail: true, want: "read(c)"},
			{node: "a", vs: cur},
			{node: "c", vs: cur, want: "reply(200) finish"},
		}, false, "a", "read(a) read(b)"},
		{"failures past the targets: 503", home, 2, 0, 0, []event{
			{node: "b", fail: true, want: "read(c)"},
			{node: "c", fail: true, want: "reply(503)"},
			{node: "a", vs: cur, want: "finish"},
		}, false, "a", "read(a) read(b)"},
		{"the hedge asks the rest; the slow one is still compared", home, 2, 0, 0, []event{
			{node: "a", vs: cur},
			{hedge: true, want: "read(c)"},
			{hedge: true},
			{node: "c", vs: cur, want: "reply(200)"},
			{node: "b", vs: old, want: "repair(b) finish"},
		}, false, "a", "read(a) read(b)"},
		{"the timer reports only the targets asked", home, 2, 0, 0, []event{
			{node: "a", vs: cur},
			{expire: true, want: "reply(503) unanswered(b) finish"},
		}, false, "a", "read(a) read(b)"},
		{"tombstones that may be collected ask the rest", home, 2, 0, 100, []event{
			{node: "a", vs: tomb}, {node: "b", vs: tomb, want: "reply(404) read(c)"}, {node: "c", vs: tomb, want: "reap(a,b,c) finish"},
		}, false, "a", "read(a) read(b)"},
		{"without collection tombstones end the read at R", home, 2, 0, 0, []event{
			{node: "a", vs: tomb}, {node: "b", vs: tomb, want: "reply(404) finish"},
		}, false, "a", "read(a) read(b)"},
		{"PR asks every target at once", sloppy, 2, 1, 0, []event{
			{node: "d", vs: cur},
			{node: "e", vs: cur},
			{node: "a", vs: cur, want: "reply(200) finish"},
		}, false, "e", "read(e) read(a) read(d)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, first, err := NewGet(GetSpec{Targets: tt.targets, R: tt.r, PR: tt.pr, Timeout: time.Second, ReapBefore: tt.reap, N: 3,
				Self: tt.self, AskAll: tt.askAll})
			if err != nil {
				t.Fatal(err)
			}
			want := tt.start
			if want == "" {
				want = "read(" + tt.targets[0].Node + ") read(" + tt.targets[1].Node + ") read(" + tt.targets[2].Node + ")"
			}
			if got := kinds(first); got != want {
				t.Fatalf("start: %s, want %s", got, want)
			}
			for i, ev := range tt.events {
				var as []Action
				switch {
				case ev.expire:
					as = g.Expire()
				case ev.hedge:
					as = g.Hedge()
				case ev.fail:
					as = g.Fail(ev.node, "injected")
				default:
					as = g.Answer(ev.node, ev.vs)
				}
				if got := kinds(as); got != ev.want {
					t.Fatalf("event %d: actions %q, want %q", i, got, ev.want)
				}
			}
			if as := g.Expire(); len(as) != 0 {
				t.Fatalf("a timer after the end: %s", kinds(as))
			}
		})
	}
}

func TestGetReplyReconciles(t *testing.T) {
	g, _, _ := NewGet(GetSpec{Targets: []Target{{Node: "a"}, {Node: "b"}}, R: 2})
	s1 := version.Siblings{{Dot: version.Dot{Node: "a", Counter: 1}, Value: []byte("x")}}
	s2 := version.Siblings{{Dot: version.Dot{Node: "b", Counter: 1}, Value: []byte("y")}}
	g.Answer("a", s1)
	as := g.Answer("b", s2)
	r := as[0].(GetReply)
	if r.Status != StatusOK || len(r.Values) != 2 || r.Context.Get("a") != 1 || r.Context.Get("b") != 1 {
		t.Fatalf("reply %+v; want both siblings and a context covering them", r)
	}
}

func TestGetRefusesWhatCannotBeMet(t *testing.T) {
	if _, _, err := NewGet(GetSpec{Targets: []Target{{Node: "a"}}, R: 2}); err == nil || !strings.Contains(err.Error(), "R=2") {
		t.Fatalf("err %v", err)
	}
	if _, _, err := NewGet(GetSpec{Targets: []Target{{Node: "d", Home: "a"}}, R: 1, PR: 1}); err == nil || !strings.Contains(err.Error(), "PR=1") {
		t.Fatalf("err %v", err)
	}
}
