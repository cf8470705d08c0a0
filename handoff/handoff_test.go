package handoff

import (
	"slices"
	"testing"
)

func TestPlan(t *testing.T) {
	none := func(uint32) bool { return false }
	for _, tc := range []struct {
		name            string
		owned, held     []uint32
		dropping        func(uint32) bool
		start, handOver []uint32
	}{
		{"nothing changed", []uint32{1, 2}, []uint32{2, 1}, none, nil, nil},
		{"a join takes one", []uint32{1}, []uint32{1, 2}, none, nil, []uint32{2}},
		{"a leave gives one", []uint32{3, 1, 2}, []uint32{1, 2}, none, []uint32{3}, nil},
		{"both", []uint32{4, 1}, []uint32{2, 1}, none, []uint32{4}, []uint32{2}},
		{"owned again while its data is dropped: wait", []uint32{1, 2}, []uint32{1}, func(p uint32) bool { return p == 2 }, nil, nil},
		{"a new node", []uint32{5, 0}, nil, none, []uint32{0, 5}, nil},
	} {
		start, handOver := Plan(tc.owned, tc.held, tc.dropping)
		if !slices.Equal(start, tc.start) || !slices.Equal(handOver, tc.handOver) {
			t.Errorf("%s: start %v, hand over %v; want %v, %v", tc.name, start, handOver, tc.start, tc.handOver)
		}
	}
}

func TestRounds(t *testing.T) {
	type round struct {
		complete bool
		keys     int
		err      string
		want     Step
	}
	for _, tc := range []struct {
		name   string
		rounds []round
		keys   int
	}{
		{"everything there already", []round{{true, 0, "", Retire}, {true, 0, "", Drop}}, 0},
		{"sent, then nothing to send", []round{{false, 40, "", Again}, {false, 2, "", Again}, {true, 0, "", Retire}, {true, 0, "", Drop}}, 42},
		{"a write came in before the vnode retired", []round{{true, 0, "", Retire}, {false, 1, "", Again}, {true, 0, "", Drop}}, 1},
		{"a home node is down", []round{{false, 10, "n4: down", Wait}, {false, 0, "n4: down", Wait}, {false, 5, "", Again}, {true, 0, "", Retire}, {true, 0, "", Drop}}, 15},
	} {
		var s State
		for i, r := range tc.rounds {
			if got := s.Round(r.complete, r.keys, r.err); got != r.want {
				t.Fatalf("%s: round %d: %v, want %v", tc.name, i+1, got, r.want)
			}
		}
		if s.Rounds != len(tc.rounds) || s.Keys != tc.keys {
			t.Errorf("%s: %d rounds, %d keys; want %d, %d", tc.name, s.Rounds, s.Keys, len(tc.rounds), tc.keys)
		}
	}
}
