package quorum

import (
	"slices"
	"testing"

	"github.com/dynamokv/dynamo/version"
)

func dot(node string, n uint64) version.Dot {
	return version.Dot{Node: node, Counter: n, Stamp: int64(n)}
}

func clock(entries ...version.Entry) version.Clock { return version.NewClock(entries...) }

func ent(node string, n uint64) version.Entry {
	return version.Entry{Node: node, Counter: n, Stamp: int64(n)}
}

var (
	// v1 is a blind write through a; v2 overwrites it through a; w1 is a
	// concurrent write through b that saw only v1; tomb deletes v2 and w1.
	v1   = version.Version{Dot: dot("a", 1), Value: []byte("v1")}
	v2   = version.Version{Dot: dot("a", 2), Context: clock(ent("a", 1)), Value: []byte("v2")}
	w1   = version.Version{Dot: dot("b", 1), Context: clock(ent("a", 1)), Value: []byte("w1")}
	tomb = version.Version{Dot: dot("c", 1), Context: clock(ent("a", 2), ent("b", 1)), Deleted: true}
)

func sibs(vs ...version.Version) version.Siblings { return version.Reconcile(vs) }

func TestRead(t *testing.T) {
	abc := []string{"a", "b", "c"}
	type answer struct {
		replica string
		vs      version.Siblings
		fail    bool
		want    Verdict
	}
	tests := []struct {
		name        string
		r           int
		answers     []answer
		timeout     bool
		wantVerdict Verdict
		wantResult  version.Siblings
		wantStale   []string
	}{
		{
			name: "all agree: no repair", r: 2,
			answers: []answer{
				{replica: "a", vs: sibs(v2), want: Pending},
				{replica: "b", vs: sibs(v2), want: Reached},
				{replica: "c", vs: sibs(v2), want: Pending},
			},
			wantVerdict: Reached, wantResult: sibs(v2),
		},
		{
			name: "stale and missing replicas are repaired", r: 2,
			answers: []answer{
				{replica: "a", vs: sibs(v2), want: Pending},
				{replica: "b", vs: sibs(v1), want: Reached},
				{replica: "c", vs: nil, want: Pending},
			},
			wantVerdict: Reached, wantResult: sibs(v2), wantStale: []string{"b", "c"},
		},
		{
			name: "a replica lacking a sibling is repaired", r: 3,
			answers: []answer{
				{replica: "a", vs: sibs(v2, w1), want: Pending},
				{replica: "b", vs: sibs(w1), want: Pending},
				{replica: "c", vs: sibs(v2, w1), want: Reached},
			},
			wantVerdict: Reached, wantResult: sibs(v2, w1), wantStale: []string{"b"},
		},
		{
			name: "concurrent answers merge into siblings", r: 2,
			answers: []answer{
				{replica: "b", vs: sibs(w1), want: Pending},
				{replica: "a", vs: sibs(v2), want: Reached},
			},
			wantVerdict: Reached, wantResult: sibs(v2, w1), wantStale: []string{"a", "b"},
		},
		{
			name: "a tombstone obsoletes what it saw and is repaired like a value", r: 2,
			answers: []answer{
				{replica: "a", vs: sibs(tomb), want: Pending},
				{replica: "b", vs: sibs(v2, w1), want: Reached},
			},
			wantVerdict: Reached, wantResult: sibs(tomb), wantStale: []string{"b"},
		},
		{
			name: "absent everywhere: empty result, nothing to repair", r: 2,
			answers: []answer{
				{replica: "a", want: Pending},
				{replica: "c", want: Reached},
			},
			wantVerdict: Reached,
		},
		{
			name: "failed replicas are neither reconciled nor repaired", r: 2,
			answers: []answer{
				{replica: "a", vs: sibs(v1), want: Pending},
				{replica: "b", fail: true, want: Pending},
				{replica: "c", vs: sibs(v2), want: Reached},
			},
			wantVerdict: Reached, wantResult: sibs(v2), wantStale: []string{"a"},
		},
		{
			name: "failures make R impossible", r: 2,
			answers: []answer{
				{replica: "a", fail: true, want: Pending},
				{replica: "b", fail: true, want: Failed},
				{replica: "c", vs: sibs(v1), want: Pending},
			},
			wantVerdict: Failed, wantResult: sibs(v1),
		},
		{
			name: "timeout below R still repairs among the answers", r: 3,
			answers: []answer{
				{replica: "a", vs: sibs(v1), want: Pending},
				{replica: "b", vs: sibs(v2), want: Pending},
			},
			timeout: true, wantVerdict: Failed, wantResult: sibs(v2), wantStale: []string{"a"},
		},
		{
			name: "a duplicate answer keeps the first", r: 3,
			answers: []answer{
				{replica: "a", vs: sibs(v1), want: Pending},
				{replica: "a", vs: sibs(v2), want: Pending},
			},
			timeout: true, wantVerdict: Failed, wantResult: sibs(v1),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := NewRead(abc, tc.r)
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range tc.answers {
				var got Verdict
				if a.fail {
					got = rd.Fail(a.replica, "store: closed")
				} else {
					got = rd.Answer(a.replica, a.vs)
				}
				if got != a.want {
					t.Fatalf("answer %d from %s = %v; want %v", i, a.replica, got, a.want)
				}
			}
			if tc.timeout {
				rd.Timeout()
			}
			if rd.Tally().Verdict() != tc.wantVerdict {
				t.Fatalf("verdict %v; want %v", rd.Tally().Verdict(), tc.wantVerdict)
			}
			final, stale := rd.Repairs()
			if !final.Equal(tc.wantResult) || !rd.Result().Equal(tc.wantResult) {
				t.Fatalf("result %v; want %v", final, tc.wantResult)
			}
			if !slices.Equal(stale, tc.wantStale) {
				t.Fatalf("stale %v; want %v", stale, tc.wantStale)
			}
			// Applying the repair to a stale replica must give it the final
			// set, or the next read would repair it again.
			for _, a := range tc.answers {
				if !slices.Contains(stale, a.replica) {
					continue
				}
				got := a.vs
				for _, v := range final {
					got = got.Add(v)
				}
				if !got.Equal(final) {
					t.Fatalf("replica %s after repair holds %v; want %v", a.replica, got, final)
				}
			}
		})
	}
}

func TestReadReapable(t *testing.T) {
	tomb := func(node string, c uint64, stamp int64) version.Version {
		return version.Version{Dot: version.Dot{Node: node, Counter: c, Stamp: stamp}, Deleted: true}
	}
	old, recent := tomb("a", 2, 10), tomb("b", 1, 90)
	live := version.Version{Dot: version.Dot{Node: "c", Counter: 1, Stamp: 5}, Value: []byte("v")}
	replicas := []string{"a", "b", "c"}
	tests := []struct {
		name    string
		answers []version.Siblings // by replica; nil entry = never answered
		fail    int                // replica index that failed, -1 none
		want    bool
	}{
		{"all hold the old tombstone", []version.Siblings{{old}, {old}, {old}}, -1, true},
		{"one replica missing it", []version.Siblings{{old}, {old}, {}}, -1, false},
		{"one replica never answered", []version.Siblings{{old}, {old}, nil}, -1, false},
		{"one replica failed", []version.Siblings{{old}, {old}, nil}, 2, false},
		{"a tombstone within the grace", []version.Siblings{{old, recent}, {old, recent}, {old, recent}}, -1, false},
		{"a live sibling", []version.Siblings{{old, live}, {old, live}, {old, live}}, -1, false},
		{"nothing stored", []version.Siblings{{}, {}, {}}, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRead(replicas, 2)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.answers {
				switch {
				case i == tt.fail:
					r.Fail(replicas[i], "down")
				case s != nil:
					r.Answer(replicas[i], s)
				}
			}
			got := r.Reapable(50)
			if (got != nil) != tt.want || (tt.want && !got.Equal(tt.answers[0])) {
				t.Fatalf("Reapable = %v, want reapable=%v", got, tt.want)
			}
		})
	}
}

// Result, with its cache and its shortcut for answers that are all one
// version, equals the reconciliation of every answer so far after each
// answer, whatever the answers and their order.
func TestReadResultIsReconcile(t *testing.T) {
	sets := []version.Siblings{nil, sibs(v1), sibs(v2), sibs(w1), sibs(v2, w1), sibs(tomb), {v2, v1}}
	replicas := []string{"a", "b", "c"}
	for i := range sets {
		for j := range sets {
			for k := range sets {
				answers := []version.Siblings{sets[i], sets[j], sets[k]}
				r, err := NewRead(replicas, 2)
				if err != nil {
					t.Fatal(err)
				}
				for n, id := range replicas {
					r.Answer(id, answers[n])
					r.Result() // the cached result must not outlive the next answer
					want := version.Reconcile(answers[:n+1]...)
					if got := r.Result(); !got.Equal(want) {
						t.Fatalf("answers %v: after %d, Result %v, want %v", answers, n+1, got, want)
					}
				}
			}
		}
	}
}
