package detector

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// step is one input at a time in milliseconds, then the verdict expected
// for peer "b" after a Tick at that time.
type step struct {
	ms        int
	link      *linkInput
	unanswer  bool
	suspected bool
	why       string // a prefix of the reason, when suspected
}

type linkInput struct {
	up      bool
	heardMs int // -1: never heard
	reason  string
}

func up(heardMs int) *linkInput { return &linkInput{up: true, heardMs: heardMs} }
func down(reason string) *linkInput {
	return &linkInput{up: false, heardMs: -1, reason: reason}
}

func TestDetector(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"never reported is up", []step{{ms: 0}, {ms: 5000}}},
		{"refused at once", []step{
			{ms: 0, link: up(0)},
			{ms: 10, link: down("connection refused"), suspected: true, why: "connection down: connection refused"},
		}},
		{"heartbeats keep it up", []step{
			{ms: 0, link: up(0)}, {ms: 250, link: up(250)}, {ms: 500, link: up(500)}, {ms: 1400, link: up(1250)},
		}},
		{"hung: silent past the bound", []step{
			{ms: 0, link: up(0)}, {ms: 250, link: up(250)},
			{ms: 1200, link: up(250)},
			{ms: 1300, link: up(250), suspected: true, why: "silent"},
		}},
		{"cleared when heard again", []step{
			{ms: 0, link: up(0)},
			{ms: 1100, link: up(0), suspected: true, why: "silent"},
			{ms: 2000, link: down("no heartbeat from peer"), suspected: true, why: "connection down"},
			{ms: 3000, link: up(2990)},
		}},
		{"a silence older than what was heard is ignored", []step{
			{ms: 0, link: up(900)}, {ms: 1000, link: up(100)},
		}},
		{"unanswered request: probation", []step{
			{ms: 0, link: up(0)},
			{ms: 100, link: up(100), unanswer: true, suspected: true, why: "requests unanswered"},
			{ms: 1099, link: up(1000), suspected: true},
			{ms: 1100, link: up(1100)},
		}},
		{"failing again doubles the probation", []step{
			{ms: 0, link: up(0), unanswer: true, suspected: true},
			{ms: 1000, link: up(1000)},
			{ms: 1500, link: up(1500), unanswer: true, suspected: true},
			{ms: 3400, link: up(3400), suspected: true}, // 2 s probation from 1500
			{ms: 3500, link: up(3500)},
		}},
		{"unanswered within a probation does not extend it", []step{
			{ms: 0, link: up(0), unanswer: true, suspected: true},
			{ms: 900, link: up(900), unanswer: true, suspected: true},
			{ms: 1000, link: up(1000)},
		}},
		{"a clear spell resets the probation", []step{
			{ms: 0, link: up(0), unanswer: true, suspected: true},
			{ms: 1000, link: up(1000)},
			{ms: 5000, link: up(5000), unanswer: true, suspected: true},
			{ms: 6000, link: up(6000)}, // 1 s again
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New(Config{})
			for _, s := range tt.steps {
				now := at(s.ms)
				if s.link != nil {
					var heard time.Time
					if s.link.heardMs >= 0 {
						heard = at(s.link.heardMs)
					}
					d.Link("b", s.link.up, heard, s.link.reason)
				}
				if s.unanswer {
					d.Unanswered("b", now)
				}
				d.Tick(now)
				if got := d.Suspected("b"); got != s.suspected {
					t.Fatalf("at %d ms: suspected=%v, want %v (%+v)", s.ms, got, s.suspected, d.Peers())
				}
				if s.suspected && s.why != "" {
					if ps := d.Peers(); len(ps) != 1 || len(ps[0].Why) < len(s.why) || ps[0].Why[:len(s.why)] != s.why {
						t.Fatalf("at %d ms: why %q, want it to start %q", s.ms, ps[0].Why, s.why)
					}
				}
			}
		})
	}
}

// Tick reports each turn once, with its time, and counts suspicions.
func TestDetectorChanges(t *testing.T) {
	d := New(Config{Silence: 500 * time.Millisecond})
	d.Link("a", true, at(0), "")
	d.Link("b", true, at(0), "")
	if ch := d.Tick(at(100)); len(ch) != 0 {
		t.Fatalf("changes %v with everyone up", ch)
	}
	d.Link("b", false, time.Time{}, "connection reset")
	ch := d.Tick(at(200))
	if len(ch) != 1 || ch[0] != (Change{Peer: "b", Suspected: true, Why: "connection down: connection reset"}) {
		t.Fatalf("changes %v; want b suspected", ch)
	}
	// a was last heard at 0: 300 ms of silence is within the bound.
	if ch := d.Tick(at(300)); len(ch) != 0 {
		t.Fatalf("changes %v at 300 ms; want none", ch)
	}
	if ch := d.Tick(at(600)); len(ch) != 1 || ch[0].Peer != "a" {
		t.Fatalf("changes %v at 600 ms; want a suspected for silence", ch)
	}
	d.Link("a", true, at(650), "")
	d.Link("b", true, at(650), "")
	ch = d.Tick(at(700))
	if len(ch) != 2 || ch[0].Suspected || ch[1].Suspected {
		t.Fatalf("changes %v; want a and b cleared", ch)
	}
	for _, p := range d.Peers() {
		if p.Suspicions != 1 || !p.Since.Equal(at(700)) || !p.LastHeard.Equal(at(650)) {
			t.Fatalf("peer %+v: want 1 suspicion, cleared at 700 ms, heard at 650 ms", p)
		}
	}
}

func TestProbationIsBounded(t *testing.T) {
	d := New(Config{Probation: time.Second, MaxProbation: 4 * time.Second})
	now := at(0)
	for i := 0; i < 10; i++ {
		d.Unanswered("b", now)
		d.Tick(now)
		p := d.peers["b"]
		if p.probation > 4*time.Second {
			t.Fatalf("probation %v past the bound", p.probation)
		}
		now = p.until.Add(time.Millisecond)
	}
	if d.peers["b"].probation != 4*time.Second {
		t.Fatalf("probation %v; want it to reach the bound", d.peers["b"].probation)
	}
}
