package quorum

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name                string
		requested, def, n   int
		want                int
		wantErr, wantSubstr string
	}{
		{name: "default", requested: 0, def: 2, n: 3, want: 2},
		{name: "explicit", requested: 3, def: 2, n: 3, want: 3},
		{name: "one", requested: 1, def: 2, n: 3, want: 1},
		{name: "above N", requested: 4, def: 2, n: 3, wantErr: "W=4 out of range 1..3"},
		{name: "negative", requested: -1, def: 2, n: 3, wantErr: "W=-1 out of range 1..3"},
		{name: "default above a short list", requested: 0, def: 2, n: 1, wantErr: "default W=2 out of range 1..1"},
		{name: "zero default", requested: 0, def: 0, n: 3, wantErr: "default W=0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve("W", tc.requested, tc.def, tc.n)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrOutOfRange) {
					t.Fatalf("Resolve = %d, %v; want error containing %q wrapping ErrOutOfRange", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Resolve = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestNewTallyRejectsImpossibleQuorums(t *testing.T) {
	for _, tc := range []struct {
		replicas []string
		need     int
	}{
		{nil, 1},
		{[]string{"a"}, 0},
		{[]string{"a", "b"}, 3},
	} {
		if _, err := NewTally(tc.replicas, tc.need); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("NewTally(%v, %d) error = %v; want ErrOutOfRange", tc.replicas, tc.need, err)
		}
	}
}

// step is one input to a tally: an ack, a failure or the timeout.
type step struct {
	kind    byte // 'a' ack, 'f' fail, 't' timeout
	replica string
	want    Verdict
}

func ack(r string, v Verdict) step  { return step{'a', r, v} }
func fail(r string, v Verdict) step { return step{'f', r, v} }
func timeout(v Verdict) step        { return step{'t', "", v} }

func TestTally(t *testing.T) {
	abc := []string{"a", "b", "c"}
	tests := []struct {
		name          string
		replicas      []string
		need          int
		steps         []step
		wantVerdict   Verdict
		wantComplete  bool
		wantAcks      int
		wantFails     int
		wantWaiting   []string
		wantErrSubstr string // of FailureError, when set
	}{
		{
			name: "W=2 reached on the second ack, third ack changes nothing", replicas: abc, need: 2,
			steps:       []step{ack("a", Pending), ack("b", Reached), ack("c", Pending)},
			wantVerdict: Reached, wantComplete: true, wantAcks: 3,
		},
		{
			name: "W=1 reached on the first ack", replicas: abc, need: 1,
			steps:       []step{ack("b", Reached)},
			wantVerdict: Reached, wantAcks: 1, wantWaiting: []string{"a", "c"},
		},
		{
			name: "duplicate acks count once", replicas: abc, need: 2,
			steps:       []step{ack("a", Pending), ack("a", Pending), ack("a", Pending)},
			wantVerdict: Pending, wantAcks: 1, wantWaiting: []string{"b", "c"},
		},
		{
			name: "unknown replicas are ignored", replicas: abc, need: 2,
			steps:       []step{ack("a", Pending), ack("z", Pending), fail("y", Pending)},
			wantVerdict: Pending, wantAcks: 1, wantWaiting: []string{"b", "c"},
		},
		{
			name: "a replica that failed cannot ack afterwards", replicas: abc, need: 2,
			steps:       []step{fail("a", Pending), ack("a", Pending), ack("b", Pending)},
			wantVerdict: Pending, wantAcks: 1, wantFails: 1, wantWaiting: []string{"c"},
		},
		{
			name: "failures decide at once when W becomes impossible", replicas: abc, need: 2,
			steps:       []step{ack("a", Pending), fail("b", Pending), fail("c", Failed)},
			wantVerdict: Failed, wantComplete: true, wantAcks: 1, wantFails: 2,
			wantErrSubstr: "2 of 3 replicas failed and 2 of them are needed; first failure, b: disk",
		},
		{
			name: "W=3 fails on the first failure", replicas: abc, need: 3,
			steps:       []step{fail("c", Failed), ack("a", Pending), ack("b", Pending)},
			wantVerdict: Failed, wantComplete: true, wantAcks: 2, wantFails: 1,
		},
		{
			name: "one failure leaves W=2 possible", replicas: abc, need: 2,
			steps:       []step{fail("a", Pending), ack("b", Pending), ack("c", Reached)},
			wantVerdict: Reached, wantComplete: true, wantAcks: 2, wantFails: 1,
		},
		{
			name: "timeout before the quorum fails", replicas: abc, need: 2,
			steps:       []step{ack("a", Pending), timeout(Failed), ack("b", Pending)},
			wantVerdict: Failed, wantAcks: 2, wantWaiting: []string{"c"},
		},
		{
			name: "timeout after the quorum changes nothing", replicas: abc, need: 2,
			steps:       []step{ack("a", Pending), ack("b", Reached), timeout(Pending)},
			wantVerdict: Reached, wantAcks: 2, wantWaiting: []string{"c"},
		},
		{
			name: "failure after the quorum changes nothing", replicas: abc, need: 1,
			steps:       []step{ack("a", Reached), fail("b", Pending), fail("c", Pending)},
			wantVerdict: Reached, wantComplete: true, wantAcks: 1, wantFails: 2,
		},
		{
			name: "second timeout is Pending", replicas: abc, need: 3,
			steps:       []step{timeout(Failed), timeout(Pending)},
			wantVerdict: Failed, wantWaiting: abc,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ty, err := NewTally(tc.replicas, tc.need)
			if err != nil {
				t.Fatal(err)
			}
			decided := 0
			for i, s := range tc.steps {
				var got Verdict
				switch s.kind {
				case 'a':
					got = ty.Ack(s.replica)
				case 'f':
					got = ty.Fail(s.replica, "disk")
				case 't':
					got = ty.Timeout()
				}
				if got != s.want {
					t.Fatalf("step %d (%c %s) = %v; want %v", i, s.kind, s.replica, got, s.want)
				}
				if got != Pending {
					decided++
				}
			}
			if decided > 1 {
				t.Fatalf("decided %d times; a tally decides at most once", decided)
			}
			if ty.Verdict() != tc.wantVerdict || ty.Complete() != tc.wantComplete ||
				ty.Acks() != tc.wantAcks || ty.Failures() != tc.wantFails ||
				!slices.Equal(ty.Waiting(), tc.wantWaiting) {
				t.Fatalf("verdict %v complete %v acks %d fails %d waiting %v; want %v %v %d %d %v",
					ty.Verdict(), ty.Complete(), ty.Acks(), ty.Failures(), ty.Waiting(),
					tc.wantVerdict, tc.wantComplete, tc.wantAcks, tc.wantFails, tc.wantWaiting)
			}
			if tc.wantErrSubstr != "" && !strings.Contains(ty.FailureError(), tc.wantErrSubstr) {
				t.Fatalf("FailureError = %q; want it to contain %q", ty.FailureError(), tc.wantErrSubstr)
			}
		})
	}
}

func TestTimeoutErrorWording(t *testing.T) {
	tests := []struct {
		acks, need int
		within     time.Duration
		want       string
	}{
		{1, 2, time.Second, "quorum not reached: 1 of 2 replicas answered within 1s"},
		{0, 3, 250 * time.Millisecond, "quorum not reached: 0 of 3 replicas answered within 250ms"},
		{2, 3, 1500 * time.Millisecond, "quorum not reached: 2 of 3 replicas answered within 1.5s"},
	}
	for _, tc := range tests {
		ty, err := NewTally([]string{"a", "b", "c"}, tc.need)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"a", "b", "c"}[:tc.acks] {
			ty.Ack(r)
		}
		// A failed answer is not an answer within the quorum's meaning.
		if tc.acks < 3 {
			ty.Fail([]string{"a", "b", "c"}[tc.acks], "x")
		}
		if got := ty.TimeoutError(tc.within); got != tc.want {
			t.Errorf("TimeoutError = %q; want %q", got, tc.want)
		}
	}
}
