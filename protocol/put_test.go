package protocol

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/version"
)

var set = version.Siblings{{Dot: version.Dot{Node: "a", Counter: 1}, Value: []byte("v")}}
var ctx = version.Clock{{Node: "a", Counter: 1}}

// kinds names the actions, for compact expectations.
func kinds(as []Action) string {
	var out []string
	for _, a := range as {
		switch a := a.(type) {
		case WriteLocal:
			out = append(out, "local("+a.Home+")")
		case Replicate:
			s := "replicate(" + a.Target.Node
			if a.Target.Home != "" {
				s += " for " + a.Target.Home
			}
			if a.NoAck {
				s += " noack"
			}
			out = append(out, s+")")
		case Read:
			if a.Digest {
				out = append(out, "digest("+a.Target.Node+")")
			} else {
				out = append(out, "read("+a.Target.Node+")")
			}
		case Repair:
			out = append(out, "repair("+a.Node+")")
		case Reap:
			out = append(out, "reap("+strings.Join(a.Nodes, ",")+")")
		case PutReply:
			s := "reply(" + strconv.Itoa(a.Status)
			if a.Unknown {
				s += " unknown"
			}
			out = append(out, s+")")
		case GetReply:
			out = append(out, "reply("+strconv.Itoa(a.Status)+")")
		case Unanswered:
			out = append(out, "unanswered("+strings.Join(a.Nodes, ",")+")")
		case Finish:
			out = append(out, "finish")
		case SendForward:
			out = append(out, "forward("+a.To+")")
		case Go:
			out = append(out, "go("+a.To+")")
		case Abort:
			out = append(out, "abort("+a.To+")")
		}
	}
	return strings.Join(out, " ")
}

func TestPut(t *testing.T) {
	home := []Target{{Node: "a"}, {Node: "b"}, {Node: "c"}}
	sloppy := []Target{{Node: "a"}, {Node: "d", Home: "b"}, {Node: "e", Home: "c"}}
	type event struct {
		local  *LocalResult
		ack    string // node
		fail   string // node
		expire bool
		want   string
	}
	ok := &LocalResult{Set: set, Reply: ctx}
	tests := []struct {
		name    string
		targets []Target
		w, pw   int
		events  []event
	}{
		{"quorum of home nodes", home, 2, 0, []event{
			{local: ok, want: "replicate(b) replicate(c)"},
			{ack: "b", want: "reply(200)"},
			{ack: "c", want: "finish"},
		}},
		{"stand-ins count toward W", sloppy, 2, 0, []event{
			{local: ok, want: "replicate(d for b) replicate(e for c)"},
			{ack: "e", want: "reply(200)"},
			{ack: "d", want: "finish"},
		}},
		{"stand-ins do not count toward PW", sloppy, 2, 1, []event{
			{local: ok, want: "replicate(d for b) replicate(e for c)"},
			{ack: "d", want: "reply(200)"}, // a is home: PW=1 met by the local write
			{ack: "e", want: "finish"},
		}},
		{"failures make it impossible: unknown, the local write stands", home, 3, 0, []event{
			{local: ok, want: "replicate(b) replicate(c)"},
			{fail: "b", want: "reply(503 unknown)"},
			{ack: "c", want: "finish"},
		}},
		{"timeout after the local write: unknown, the silent reported", home, 3, 0, []event{
			{local: ok, want: "replicate(b) replicate(c)"},
			{ack: "b"},
			{expire: true, want: "reply(503 unknown) unanswered(c) finish"},
		}},
		{"timeout before the local write: unknown, then sent on late", home, 2, 0, []event{
			{expire: true, want: "reply(503 unknown)"},
			{local: ok, want: "replicate(b noack) replicate(c noack) finish"},
		}},
		{"the local write never answers: the last deadline ends it", home, 2, 0, []event{
			{expire: true, want: "reply(503 unknown)"},
			{expire: true, want: "finish"},
		}},
		{"the local write failed: definite", home, 2, 0, []event{
			{local: &LocalResult{Err: "disk"}, want: "reply(503) finish"},
		}},
		{"the local store failed mid-write: unknown", home, 2, 0, []event{
			{local: &LocalResult{Err: "disk", MaybeStored: true}, want: "reply(503 unknown) finish"},
		}},
		{"too large: 413", home, 2, 0, []event{
			{local: &LocalResult{Err: "big", Status: StatusTooLarge}, want: "reply(413) finish"},
		}},
		{"W=1 on a single target", []Target{{Node: "a"}}, 1, 0, []event{
			{local: ok, want: "reply(200) finish"},
		}},
		{"late and repeated answers change nothing", home, 2, 0, []event{
			{ack: "b"}, // before the local write: not yet sent
			{local: ok, want: "replicate(b) replicate(c)"},
			{ack: "b", want: "reply(200)"},
			{ack: "b"},
			{ack: "x"},
			{fail: "c", want: "finish"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, first, err := NewPut(PutSpec{Self: "a", Targets: tt.targets, W: tt.w, PW: tt.pw, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if got := kinds(first); got != "local()" {
				t.Fatalf("start: %s", got)
			}
			for i, ev := range tt.events {
				var as []Action
				switch {
				case ev.local != nil:
					as = p.Local(*ev.local)
				case ev.ack != "":
					as = p.Ack(ev.ack, "")
				case ev.fail != "":
					as = p.Ack(ev.fail, "injected")
				case ev.expire:
					as = p.Expire()
				}
				if got := kinds(as); got != ev.want {
					t.Fatalf("event %d: actions %q, want %q", i, got, ev.want)
				}
			}
		})
	}
}

func TestPutReplyCarriesTheVnodesContext(t *testing.T) {
	p, _, _ := NewPut(PutSpec{Self: "a", Targets: []Target{{Node: "a"}}, W: 1})
	as := p.Local(LocalResult{Set: set, Reply: ctx})
	if r, ok := as[0].(PutReply); !ok || !reflect.DeepEqual(r.Context, ctx) {
		t.Fatalf("actions %v; want the vnode's reply context", as)
	}
}

func TestPutStandInWritesAsHint(t *testing.T) {
	_, first, err := NewPut(PutSpec{Self: "d", Targets: []Target{{Node: "d", Home: "a"}, {Node: "e", Home: "b"}}, W: 2})
	if err != nil || kinds(first) != "local(a)" {
		t.Fatalf("start: %s, %v; want the local hint buffer standing in for a", kinds(first), err)
	}
}

func TestPutRefusesWhatCannotBeMet(t *testing.T) {
	for _, tt := range []struct {
		spec PutSpec
		want string
	}{
		{PutSpec{Self: "a", Targets: []Target{{Node: "a"}}, W: 2}, "only 1 replicas are reachable and W=2"},
		{PutSpec{Self: "a", Targets: []Target{{Node: "a"}, {Node: "d", Home: "b"}}, W: 2, PW: 2}, "only 1 home replicas are up and PW=2"},
		{PutSpec{Self: "z", Targets: []Target{{Node: "a"}}, W: 1}, "not among the targets"},
	} {
		if _, _, err := NewPut(tt.spec); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("NewPut(%+v): %v; want %q", tt.spec, err, tt.want)
		}
	}
}

func TestPutStrictQuorumFailureSaysHowManyHomesAnswered(t *testing.T) {
	p, _, _ := NewPut(PutSpec{Self: "d", Targets: []Target{{Node: "d", Home: "a"}, {Node: "b"}, {Node: "c"}}, W: 2, PW: 2, Timeout: time.Second})
	p.Local(LocalResult{Set: set})
	p.Ack("b", "")
	as := p.Expire()
	r, ok := as[0].(PutReply)
	if !ok || !r.Unknown || !strings.Contains(r.Err, "strict quorum not reached: 1 of 2 home replicas answered within 1s") {
		t.Fatalf("actions %v", as)
	}
}
