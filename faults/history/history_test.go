package history

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

func ok(key, elem string) Op { return Op{Kind: Add, Key: key, Element: elem, Outcome: OK} }
func failed(key, elem string) Op {
	return Op{Kind: Add, Key: key, Element: elem, Outcome: Failed, Err: "400 bad request"}
}
func unknown(key, elem string) Op {
	return Op{Kind: Add, Key: key, Element: elem, Outcome: Unknown, Err: "timeout"}
}

func read(node, key string, elems ...string) FinalRead {
	return FinalRead{Node: node, Key: key, Elements: elems}
}

func readErr(node, key string) FinalRead {
	return FinalRead{Node: node, Key: key, Err: "503 unavailable"}
}

// verdictOf drops the phase figures, which TestPhases covers, so the
// cases below state only the verdict.
func verdictOf(r Report) Report {
	r.Phases, r.OutsidePhases = nil, 0
	return r
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		in       Input
		want     Report
		wantPass bool
	}{
		{
			name:     "no ops",
			in:       Input{},
			want:     Report{},
			wantPass: true,
		},
		{
			name: "copies the run's identity and the differing keys",
			in:   Input{Label: "run-1", Nemesis: "partition", Nodes: 5, DifferingKeys: 2},
			want: Report{Label: "run-1", Nemesis: "partition", Nodes: 5, DifferingKeys: 2},

			wantPass: true,
		},
		{
			name: "all acknowledged and present",
			in: Input{
				Ops: []Op{ok("s1", "a"), ok("s1", "b"), {Kind: Write, Key: "w1", Element: "v1", Outcome: OK}},
				Finals: []FinalRead{
					read("n1", "s1", "a", "b"), read("n2", "s1", "b", "a", "b"), // siblings repeat b
					read("n1", "w1", "v1"), read("n2", "w1", "v1"),
				},
			},
			want:     Report{Attempted: 3, Acknowledged: 3},
			wantPass: true,
		},
		{
			name: "acknowledged but missing everywhere is lost",
			in: Input{
				Ops:    []Op{ok("s1", "a"), ok("s1", "b")},
				Finals: []FinalRead{read("n1", "s1", "a"), read("n2", "s1", "a")},
			},
			want: Report{Attempted: 2, Acknowledged: 2, Lost: []string{"b"}},
		},
		{
			name: "present on one node, missing on another's read, is stale not lost",
			in: Input{
				Ops:    []Op{ok("s1", "a")},
				Finals: []FinalRead{read("n1", "s1", "a"), read("n2", "s1")},
			},
			want:     Report{Attempted: 1, Acknowledged: 1, Stale: []string{"a"}},
			wantPass: true,
		},
		{
			name: "a failed read does not make an element stale",
			in: Input{
				Ops:    []Op{ok("s1", "a")},
				Finals: []FinalRead{read("n1", "s1", "a"), readErr("n2", "s1")},
			},
			want:     Report{Attempted: 1, Acknowledged: 1, FinalReadErrors: 1},
			wantPass: true,
		},
		{
			name: "every read of the key failed: unverified, not lost",
			in: Input{
				Ops:    []Op{ok("s1", "a"), ok("s2", "b")},
				Finals: []FinalRead{readErr("n1", "s1"), readErr("n2", "s1"), read("n1", "s2", "b")},
			},
			want: Report{Attempted: 2, Acknowledged: 2, Unverified: []string{"a"}, FinalReadErrors: 2},
		},
		{
			name: "a key never read is unverified",
			in: Input{
				Ops: []Op{ok("s1", "a")},
			},
			want: Report{Attempted: 1, Acknowledged: 1, Unverified: []string{"a"}},
		},
		{
			name: "an element never attempted is unexpected",
			in: Input{
				Ops:    []Op{ok("s1", "a")},
				Finals: []FinalRead{read("n1", "s1", "a", "zz"), read("n2", "s1", "a", "zz"), read("n1", "other", "yy")},
			},
			want: Report{Attempted: 1, Acknowledged: 1, Unexpected: []string{"yy", "zz"}},
		},
		{
			name: "an element under the wrong key is unexpected, and lost from its own",
			in: Input{
				Ops:    []Op{ok("s1", "a"), ok("s2", "b")},
				Finals: []FinalRead{read("n1", "s1", "b"), read("n1", "s2", "b")},
			},
			want: Report{Attempted: 2, Acknowledged: 2, Lost: []string{"a"}, Unexpected: []string{"b"}},
		},
		{
			name: "an unknown element moved to another key is unexpected but not lost",
			in: Input{
				Ops:    []Op{unknown("s1", "a"), ok("s2", "b")},
				Finals: []FinalRead{read("n1", "s1"), read("n1", "s2", "a", "b")},
			},
			want: Report{Attempted: 2, Acknowledged: 1, Unknown: 1, Unexpected: []string{"a"}},
		},
		{
			name: "unknown present is recovered, unknown absent is fine",
			in: Input{
				Ops:    []Op{unknown("s1", "a"), unknown("s1", "b"), unknown("s1", "c")},
				Finals: []FinalRead{read("n1", "s1", "a"), read("n2", "s1", "a", "c")}, // c on one node only: not stale
			},
			want:     Report{Attempted: 3, Unknown: 3, RecoveredUnknown: 2},
			wantPass: true,
		},
		{
			name: "failed but present",
			in: Input{
				Ops:    []Op{failed("s1", "a"), failed("s1", "b")},
				Finals: []FinalRead{read("n1", "s1"), read("n2", "s1", "a")},
			},
			want: Report{Attempted: 2, Failed: 2, FailedButPresent: []string{"a"}},
		},
		{
			name: "elements of a failed read are not evidence",
			in: Input{
				Ops:    []Op{failed("s1", "a"), ok("s1", "b")},
				Finals: []FinalRead{read("n1", "s1", "b"), {Node: "n2", Key: "s1", Elements: []string{"a", "zz"}, Err: "timeout"}},
			},
			want:     Report{Attempted: 2, Acknowledged: 1, Failed: 1, FinalReadErrors: 1},
			wantPass: true,
		},
		{
			name: "an element attempted twice is a duplicate",
			in: Input{
				Ops:    []Op{ok("s1", "a"), failed("s2", "a"), ok("s1", "b"), ok("s1", "b")},
				Finals: []FinalRead{read("n1", "s1", "a", "b"), read("n1", "s2")},
			},
			want: Report{Attempted: 4, Acknowledged: 3, Failed: 1, Duplicates: []string{"a", "b"}},
		},
		{
			name: "an out-of-range outcome is held to OK",
			in: Input{
				Ops:    []Op{{Key: "s1", Element: "a", Outcome: Outcome(7)}},
				Finals: []FinalRead{read("n1", "s1")},
			},
			want: Report{Attempted: 1, Acknowledged: 1, Lost: []string{"a"}},
		},
		{
			name: "lists are sorted and deduplicated",
			in: Input{
				Ops:    []Op{ok("s1", "c"), ok("s1", "a"), ok("s1", "b")},
				Finals: []FinalRead{read("n1", "s1", "zz", "yy", "zz"), read("n2", "s1", "yy")},
			},
			want: Report{Attempted: 3, Acknowledged: 3, Lost: []string{"a", "b", "c"}, Unexpected: []string{"yy", "zz"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Check(tc.in)
			if v := verdictOf(got); !reflect.DeepEqual(v, tc.want) {
				t.Errorf("Check =\n %+v\nwant\n %+v", v, tc.want)
			}
			if got.Pass() != tc.wantPass {
				t.Errorf("Pass = %v, want %v", got.Pass(), tc.wantPass)
			}
		})
	}
}

func TestCheckDoesNotModifyInput(t *testing.T) {
	in := Input{
		Ops:    []Op{ok("s1", "b"), ok("s1", "a")},
		Finals: []FinalRead{read("n1", "s1", "z", "y")},
	}
	Check(in)
	if got := in.Finals[0].Elements; !slices.Equal(got, []string{"z", "y"}) {
		t.Errorf("final read's elements became %q", got)
	}
}

func at(start, end time.Duration, o Outcome) Op {
	return Op{Key: "k", Element: fmt.Sprint(start, end, o), Start: start, End: end, Outcome: o}
}

func TestPhases(t *testing.T) {
	s := time.Second
	phases := []Phase{{"baseline", 0, 10 * s}, {"partition", 10 * s, 20 * s}, {"heal", 30 * s, 40 * s}, {"idle", 40 * s, 50 * s}}
	ops := []Op{
		at(0, 100*time.Millisecond, OK),             // baseline: Start == phase Start
		at(10*s-1, 10*s+300*time.Millisecond, OK),   // baseline: just before the boundary
		at(10*s, 11*s, OK),                          // partition: Start == previous End
		at(12*s, 14*s, Unknown),                     // partition
		at(13*s, 13*s+time.Millisecond, Failed),     // partition
		at(20*s, 21*s, OK),                          // gap: Start == partition End, before heal
		at(25*s, 26*s, OK),                          // gap
		at(-time.Second, 0, OK),                     // before every phase
		at(35*s, 35*s+20*time.Millisecond, Unknown), // heal, no OK ops
		at(50*s, 51*s, OK),                          // after every phase
	}
	r := Check(Input{Ops: ops, Phases: phases})
	want := []PhaseStats{
		{Name: "baseline", Ops: 2, OK: 2, Availability: 1, P50: 100 * time.Millisecond, P99: 300*time.Millisecond + 1, Max: 300*time.Millisecond + 1},
		{Name: "partition", Ops: 3, OK: 1, Failed: 1, Unknown: 1, Availability: 1.0 / 3, P50: s, P99: s, Max: s},
		{Name: "heal", Ops: 1, Unknown: 1},
		{Name: "idle"},
	}
	if !reflect.DeepEqual(r.Phases, want) {
		t.Errorf("Phases =\n %+v\nwant\n %+v", r.Phases, want)
	}
	if r.OutsidePhases != 4 {
		t.Errorf("OutsidePhases = %d, want 4", r.OutsidePhases)
	}
}

func TestPhasesNone(t *testing.T) {
	r := Check(Input{Ops: []Op{at(0, 1, OK), at(1, 2, OK)}})
	if r.Phases != nil || r.OutsidePhases != 2 {
		t.Errorf("Phases = %v, OutsidePhases = %d; want none and 2", r.Phases, r.OutsidePhases)
	}
}

// TestCheckRandomHistories builds histories whose final reads hold exactly
// the acknowledged elements plus a random subset of the unknown ones, on
// every node, and checks that they pass with that subset recovered.
func TestCheckRandomHistories(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for c := range 300 {
		nodes := 1 + rng.IntN(5)
		setKeys := 1 + rng.IntN(4)
		nops := rng.IntN(80)

		var ops []Op
		present := map[string][]string{} // key -> elements the final reads hold
		keys := map[string]bool{}
		for i := range setKeys {
			keys[fmt.Sprintf("set-%d", i)] = true
		}
		recovered := 0
		for i := range nops {
			op := Op{Element: fmt.Sprintf("c%d-e%d", c, i), Start: time.Duration(rng.IntN(1000)) * time.Millisecond}
			op.End = op.Start + time.Duration(rng.IntN(500))*time.Millisecond
			if rng.IntN(2) == 0 {
				op.Kind, op.Key = Add, fmt.Sprintf("set-%d", rng.IntN(setKeys))
			} else {
				op.Kind, op.Key = Write, fmt.Sprintf("c%d-w%d", c, i)
				keys[op.Key] = true
			}
			op.Outcome = Outcome(rng.IntN(3))
			switch op.Outcome {
			case OK:
				present[op.Key] = append(present[op.Key], op.Element)
			case Unknown:
				if rng.IntN(2) == 0 {
					present[op.Key] = append(present[op.Key], op.Element)
					recovered++
				}
			}
			ops = append(ops, op)
		}

		var finals []FinalRead
		for _, key := range slices.Sorted(func(yield func(string) bool) {
			for k := range keys {
				if !yield(k) {
					return
				}
			}
		}) {
			for n := range nodes {
				elems := slices.Clone(present[key])
				if len(elems) > 0 && rng.IntN(3) == 0 { // a repeated sibling
					elems = append(elems, elems[rng.IntN(len(elems))])
				}
				rng.Shuffle(len(elems), func(i, j int) { elems[i], elems[j] = elems[j], elems[i] })
				finals = append(finals, FinalRead{Node: fmt.Sprintf("n%d", n), Key: key, Elements: elems})
			}
			if rng.IntN(4) == 0 { // an extra read that failed, holding junk
				finals = append(finals, FinalRead{Node: "n0", Key: key, Elements: []string{"junk"}, Err: "timeout"})
			}
		}
		rng.Shuffle(len(finals), func(i, j int) { finals[i], finals[j] = finals[j], finals[i] })

		phases := []Phase{{"a", 0, 300 * time.Millisecond}, {"b", 300 * time.Millisecond, 600 * time.Millisecond}, {"c", 700 * time.Millisecond, 1000 * time.Millisecond}}
		r := Check(Input{Ops: ops, Finals: finals, Phases: phases})

		if !r.Pass() || len(r.Stale) != 0 {
			t.Fatalf("case %d: did not pass cleanly:\n%s", c, r.Table())
		}
		if r.RecoveredUnknown != recovered {
			t.Fatalf("case %d: RecoveredUnknown = %d, want %d", c, r.RecoveredUnknown, recovered)
		}
		if r.Acknowledged+r.Failed+r.Unknown != r.Attempted || r.Attempted != nops {
			t.Fatalf("case %d: outcome counts %d+%d+%d do not add up to %d attempted of %d", c, r.Acknowledged, r.Failed, r.Unknown, r.Attempted, nops)
		}
		inPhases := r.OutsidePhases
		for _, p := range r.Phases {
			inPhases += p.Ops
			if p.OK+p.Failed+p.Unknown != p.Ops {
				t.Fatalf("case %d: phase %s counts do not add up: %+v", c, p.Name, p)
			}
			if p.P50 > p.P99 || p.P99 > p.Max {
				t.Fatalf("case %d: phase %s latencies out of order: %+v", c, p.Name, p)
			}
		}
		if inPhases != nops {
			t.Fatalf("case %d: %d ops bucketed, want %d", c, inPhases, nops)
		}
	}
}
