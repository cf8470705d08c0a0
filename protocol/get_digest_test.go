package protocol

import (
	"slices"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/version"
)

func TestGetDigests(t *testing.T) {
	home := []Target{{Node: "a"}, {Node: "b"}, {Node: "c"}}
	sloppy := []Target{{Node: "a"}, {Node: "d", Home: "b"}, {Node: "c"}}
	old := version.Siblings{{Dot: version.Dot{Node: "a", Counter: 1}, Value: []byte("old")}}
	cur := version.Siblings{{Dot: version.Dot{Node: "a", Counter: 2}, Context: version.Clock{{Node: "a", Counter: 1}}, Value: []byte("new")}}
	const hOld, hCur = 11, 22
	type event struct {
		node   string
		vs     version.Siblings
		hash   uint64
		digest bool // a digest answer (hash only)
		fail   bool
		hedge  bool
		expire bool
		want   string
	}
	tests := []struct {
		name    string
		targets []Target
		self    string
		start   string
		events  []event
		values  []string // the reply's values, when it has one
	}{
		{"a digest matching the data ends the read", home, "a", "read(a) digest(b)", []event{
			{node: "a", vs: cur, hash: hCur},
			{node: "b", digest: true, hash: hCur, want: "reply(200) finish"},
		}, []string{"new"}},
		{"a digest before the data waits for it", home, "a", "read(a) digest(b)", []event{
			{node: "b", digest: true, hash: hCur},
			{node: "a", vs: cur, hash: hCur, want: "reply(200) finish"},
		}, []string{"new"}},
		{"a digest that differs is read in full, then compared and repaired", home, "a", "read(a) digest(b)", []event{
			{node: "a", vs: cur, hash: hCur},
			{node: "b", digest: true, hash: hOld, want: "read(b)"},
			{node: "b", vs: old, hash: hOld, want: "reply(200) digest(c)"},
			{node: "c", digest: true, hash: hCur, want: "repair(b) finish"},
		}, []string{"new"}},
		{"a newer replica's versions win over the data's", home, "a", "read(a) digest(b)", []event{
			{node: "b", digest: true, hash: hCur},
			{node: "a", vs: old, hash: hOld, want: "read(b)"},
			{node: "b", vs: cur, hash: hCur, want: "reply(200) digest(c)"},
			// c agrees with b, not with the data: it is read in full.
			{node: "c", digest: true, hash: hCur, want: "read(c)"},
			{node: "c", vs: cur, hash: hCur, want: "repair(a) finish"},
		}, []string{"new"}},
		{"the data failing asks the waiting digests in full, and no more digests", home, "a", "read(a) digest(b)", []event{
			{node: "b", digest: true, hash: hCur},
			{node: "a", fail: true, want: "read(b) read(c)"},
			{node: "b", vs: cur, hash: hCur},
			{node: "c", vs: cur, hash: hCur, want: "reply(200) finish"},
		}, []string{"new"}},
		{"a digest repeated or from a target not asked changes nothing", home, "a", "read(a) digest(b)", []event{
			{node: "c", digest: true, hash: hCur},
			{node: "b", digest: true, hash: hCur},
			{node: "b", digest: true, hash: hCur},
			{node: "a", vs: cur, hash: hCur, want: "reply(200) finish"},
		}, []string{"new"}},
		{"the hedge asks for digests too", home, "a", "read(a) digest(b)", []event{
			{node: "a", vs: cur, hash: hCur},
			{hedge: true, want: "digest(c)"},
			{node: "c", digest: true, hash: hCur, want: "reply(200)"},
			{node: "b", digest: true, hash: hCur, want: "finish"},
		}, []string{"new"}},
		{"a digest waiting for the data is not reported silent", home, "a", "read(a) digest(b)", []event{
			{node: "b", digest: true, hash: hCur},
			{expire: true, want: "reply(503) unanswered(a) finish"},
		}, nil},
		{"stand-ins are read in full", sloppy, "a", "read(a) read(d)", []event{
			{node: "a", vs: cur, hash: hCur},
			{node: "d", vs: cur, want: "reply(200) finish"},
		}, []string{"new"}},
		{"no digests when this node is not a target", home, "x", "read(a) read(b)", []event{
			{node: "a", vs: cur, hash: hCur},
			{node: "b", vs: cur, hash: hCur, want: "reply(200) finish"},
		}, []string{"new"}},
		{"nothing found anywhere: hashes of 0 agree", home, "a", "read(a) digest(b)", []event{
			{node: "a", hash: 0},
			{node: "b", digest: true, hash: 0, want: "reply(404) finish"},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, first, err := NewGet(GetSpec{Targets: tt.targets, R: 2, Timeout: time.Second, N: 3, Self: tt.self, Digests: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := kinds(first); got != tt.start {
				t.Fatalf("start: %s, want %s", got, tt.start)
			}
			var reply *GetReply
			for i, ev := range tt.events {
				var as []Action
				switch {
				case ev.expire:
					as = g.Expire()
				case ev.hedge:
					as = g.Hedge()
				case ev.fail:
					as = g.Fail(ev.node, "injected")
				case ev.digest:
					as = g.Digest(ev.node, ev.hash)
				case ev.node == "d":
					as = g.Answer(ev.node, ev.vs)
				default:
					as = g.AnswerHashed(ev.node, ev.vs, ev.hash)
				}
				if got := kinds(as); got != ev.want {
					t.Fatalf("event %d: actions %q, want %q", i, got, ev.want)
				}
				for _, a := range as {
					if r, ok := a.(GetReply); ok {
						reply = &r
					}
				}
			}
			if tt.values != nil {
				var got []string
				for _, v := range reply.Values {
					got = append(got, string(v))
				}
				if !slices.Equal(got, tt.values) {
					t.Fatalf("reply values %q, want %q", got, tt.values)
				}
			}
		})
	}
}
