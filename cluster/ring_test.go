package cluster

import (
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// letters returns members A, B, C, ... with distinct addresses.
func letters(s int) []Member {
	ms := make([]Member, s)
	for i := range ms {
		ms[i] = Member{ID: string(rune('A' + i)), Addr: fmt.Sprintf("10.0.0.%d:7000", i+1)}
	}
	return ms
}

func mustRing(t testing.TB, q, n int, ms []Member) *Ring {
	t.Helper()
	r, err := NewRing(q, n, ms)
	if err != nil {
		t.Fatalf("NewRing(%d, %d, %d members): %v", q, n, len(ms), err)
	}
	return r
}

func TestNewRingErrors(t *testing.T) {
	ok := letters(3)
	tests := []struct {
		name    string
		q, n    int
		members []Member
		target  error
		msg     string
	}{
		{"zero partitions", 0, 3, ok, ErrInvalidPartitions, "out of range"},
		{"negative partitions", -8, 3, ok, ErrInvalidPartitions, "out of range"},
		{"too many partitions", 1 << 17, 3, ok, ErrInvalidPartitions, "out of range"},
		{"not a power of two", 48, 3, ok, ErrInvalidPartitions, "partitions 48 is not a power of two"},
		{"zero replicas", 64, 0, ok, ErrInvalidReplicas, "replicas 0"},
		{"no members", 64, 3, nil, ErrInvalidMembers, "no members"},
		{"empty ID", 64, 3, []Member{{ID: "", Addr: "h:1"}}, ErrInvalidMembers, "empty ID"},
		{"empty addr", 64, 3, []Member{{ID: "a", Addr: ""}}, ErrInvalidMembers, "empty address"},
		{"duplicate ID", 64, 3, []Member{{"a", "h:1"}, {"a", "h:2"}}, ErrInvalidMembers, `duplicate member ID "a"`},
		{"duplicate addr", 64, 3, []Member{{"a", "h:1"}, {"b", "h:1"}}, ErrInvalidMembers, `share address "h:1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRing(tt.q, tt.n, tt.members)
			if err == nil {
				t.Fatalf("NewRing succeeded, want error (ring %v)", r)
			}
			if !errors.Is(err, tt.target) {
				t.Errorf("error %v does not wrap %v", err, tt.target)
			}
			if !strings.HasPrefix(err.Error(), "ring: ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q lacks %q", err, tt.msg)
			}
		})
	}
	for _, q := range []int{1, 2, 64, MaxPartitions} {
		if _, err := NewRing(q, 1, ok); err != nil {
			t.Errorf("NewRing(%d): %v", q, err)
		}
	}
}

func TestKnownRings(t *testing.T) {
	tests := []struct {
		q, s, n int
		owners  string // owner letter per partition
		prefs   []string
	}{
		{8, 1, 3, "AAAAAAAA", []string{"A", "A", "A", "A", "A", "A", "A", "A"}},
		{8, 2, 2, "BABABABA", []string{"BA", "AB", "BA", "AB", "BA", "AB", "BA", "AB"}},
		{8, 3, 3, "BACABCBA", []string{"BAC", "ACB", "CAB", "ABC", "BCA", "CBA", "BAC", "ABC"}},
		{16, 4, 3, "DCBADABCBDCADCBA", []string{
			"DCB", "CBA", "BAD", "ADB", "DAB", "ABC", "BCD", "CBD",
			"BDC", "DCA", "CAD", "ADC", "DCB", "CBA", "BAD", "ADC"}},
		// Fewer partitions than members: C and D own nothing but still
		// fill preference lists, in list order.
		{2, 4, 3, "AB", []string{"ABC", "BAC"}},
		{1, 3, 3, "A", []string{"ABC"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("Q%d_S%d_N%d", tt.q, tt.s, tt.n), func(t *testing.T) {
			r := mustRing(t, tt.q, tt.n, letters(tt.s))
			for p := 0; p < tt.q; p++ {
				if got, want := r.Owner(p), tt.owners[p:p+1]; got != want {
					t.Errorf("Owner(%d) = %s, want %s", p, got, want)
				}
				if got := strings.Join(r.PreferenceList(p), ""); got != tt.prefs[p] {
					t.Errorf("PreferenceList(%d) = %s, want %s", p, got, tt.prefs[p])
				}
			}
		})
	}
}

func TestPartitionOfGolden(t *testing.T) {
	// Pinned so that a change of hash or bit selection, which would move
	// every key, cannot slip through.
	tests := []struct {
		key  string
		want map[int]int // Q -> partition
	}{
		{"", map[int]int{1: 0, 2: 1, 8: 7, 64: 59, 1024: 957, 65536: 61254}},
		{"a", map[int]int{1: 0, 2: 1, 8: 6, 64: 52, 1024: 841, 65536: 53838}},
		{"abc", map[int]int{1: 0, 2: 0, 8: 2, 64: 17, 1024: 274, 65536: 17596}},
		{"user:42", map[int]int{1: 0, 2: 1, 8: 6, 64: 55, 1024: 880, 65536: 56351}},
	}
	for _, tt := range tests {
		for q, want := range tt.want {
			r := mustRing(t, q, 1, letters(1))
			if got := r.PartitionOf([]byte(tt.key)); got != want {
				t.Errorf("Q=%d PartitionOf(%q) = %d, want %d", q, tt.key, got, want)
			}
		}
	}
}

func TestAccessors(t *testing.T) {
	ms := letters(4)
	r := mustRing(t, DefaultPartitions, DefaultReplicas, ms)
	if r.Partitions() != 64 || r.Replicas() != 3 {
		t.Fatalf("Partitions, Replicas = %d, %d", r.Partitions(), r.Replicas())
	}

	ms[0].ID = "mutated" // the ring must have copied its input
	got := r.Members()
	if got[0].ID != "A" || len(got) != 4 {
		t.Fatalf("Members() = %v", got)
	}
	got[1].ID = "mutated" // and must hand out copies
	if m, ok := r.Member("B"); !ok || m.Addr != "10.0.0.2:7000" {
		t.Fatalf("Member(B) = %v, %v", m, ok)
	}
	if _, ok := r.Member("Z"); ok {
		t.Fatal("Member(Z) found")
	}

	pl := r.PreferenceList(0)
	_ = append(pl, "X") // must not write into the next partition's list
	if r.PreferenceList(1)[0] != r.Owner(1) {
		t.Fatal("append to a preference list clobbered the ring")
	}
	key := []byte("user:42")
	if !slices.Equal(r.KeyPreferenceList(key), r.PreferenceList(r.PartitionOf(key))) {
		t.Fatal("KeyPreferenceList disagrees with PreferenceList")
	}
	if r.InPreferenceList(-1, "A") || r.InPreferenceList(64, "A") || r.InPreferenceList(0, "Z") {
		t.Fatal("InPreferenceList accepted bad input")
	}
	if r.PartitionsOf("Z") != nil {
		t.Fatal("PartitionsOf(Z) not nil")
	}
	own := r.Ownership()
	if len(own) != 4 || own["A"]+own["B"]+own["C"]+own["D"] != 64 {
		t.Fatalf("Ownership() = %v", own)
	}

	defer func() {
		if recover() == nil {
			t.Fatal("Owner(64) did not panic")
		}
	}()
	r.Owner(64)
}

func TestEqualAndFingerprint(t *testing.T) {
	a := mustRing(t, 64, 3, letters(5))
	b := mustRing(t, 64, 3, letters(5))
	if !a.Equal(b) || a.Fingerprint() != b.Fingerprint() {
		t.Fatal("identical inputs gave different rings")
	}
	var nilRing *Ring
	if a.Equal(nil) || !nilRing.Equal(nil) {
		t.Fatal("Equal mishandles nil")
	}
	changed := map[string]*Ring{
		"Q":    mustRing(t, 128, 3, letters(5)),
		"N":    mustRing(t, 64, 2, letters(5)),
		"size": mustRing(t, 64, 3, letters(4)),
	}
	swapped := letters(5)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	changed["order"] = mustRing(t, 64, 3, swapped)
	moved := letters(5)
	moved[3].Addr = "10.9.9.9:7000"
	changed["addr"] = mustRing(t, 64, 3, moved)
	// Length prefixes keep these two apart.
	changed["split"] = mustRing(t, 64, 3, []Member{{"AB", "C"}, {"D", "E"}})
	split := mustRing(t, 64, 3, []Member{{"A", "BC"}, {"D", "E"}})
	if changed["split"].Fingerprint() == split.Fingerprint() {
		t.Error("fingerprint ignores field boundaries")
	}
	for name, c := range changed {
		if a.Equal(c) || a.Fingerprint() == c.Fingerprint() {
			t.Errorf("changing %s left the ring equal", name)
		}
	}
}

func BenchmarkPartitionOf(b *testing.B) {
	r := mustRing(b, 1024, 3, letters(10))
	key := []byte("user:1234567890:profile")
	b.ReportAllocs()
	for b.Loop() {
		_ = r.PartitionOf(key)
	}
}

func BenchmarkPreferenceList(b *testing.B) {
	r := mustRing(b, 1024, 3, letters(10))
	b.ReportAllocs()
	p := 0
	for b.Loop() {
		_ = r.PreferenceList(p)
		p = (p + 1) & 1023
	}
}

func BenchmarkKeyPreferenceList(b *testing.B) {
	r := mustRing(b, 1024, 3, letters(10))
	key := []byte("user:1234567890:profile")
	b.ReportAllocs()
	for b.Loop() {
		_ = r.KeyPreferenceList(key)
	}
}

func BenchmarkNewRing(b *testing.B) {
	ms := letters(20)
	b.ReportAllocs()
	for b.Loop() {
		mustRing(b, 1024, 3, ms)
	}
}

// randomMembers returns s members with random, unique IDs and addresses.
func randomMembers(rng *rand.Rand, s int) []Member {
	ms := make([]Member, s)
	for i := range ms {
		ms[i] = Member{
			ID:   fmt.Sprintf("node-%d-%08x", i, rng.Uint32()),
			Addr: fmt.Sprintf("10.%d.%d.%d:%d", i/256, i%256, rng.Intn(256), 7000+rng.Intn(1000)),
		}
	}
	return ms
}

var propertyQs = []int{8, 16, 64, 256, 1024}

func TestRingProperties(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 400; trial++ {
		q := propertyQs[rng.Intn(len(propertyQs))]
		s := 1 + rng.Intn(40)
		n := 1 + rng.Intn(5)
		ms := randomMembers(rng, s+1)
		name := fmt.Sprintf("trial %d Q=%d S=%d N=%d", trial, q, s, n)
		r := mustRing(t, q, n, ms[:s])
		checkPreferences(t, name, r)
		checkBalance(t, name, r)
		checkAppend(t, name, r, mustRing(t, q, n, ms))
		checkDeterminism(t, name, r, rng)
	}
}

func checkPreferences(t *testing.T, name string, r *Ring) {
	t.Helper()
	checkPreferencesSpread(t, name, r, true)
}

// checkPreferencesSpread checks preference lists and walks; spread also
// checks that nobody owns neighbouring partitions, which joins keep but a
// leave may have to give up to stay balanced.
func checkPreferencesSpread(t *testing.T, name string, r *Ring, spread bool) {
	t.Helper()
	q, s := r.Partitions(), len(r.Members())
	want := min(r.Replicas(), s)
	holds := map[string][]int{}
	for p := 0; p < q; p++ {
		pl := r.PreferenceList(p)
		if len(pl) != want {
			t.Fatalf("%s: PreferenceList(%d) has %d members, want %d", name, p, len(pl), want)
		}
		if pl[0] != r.Owner(p) {
			t.Fatalf("%s: PreferenceList(%d) starts with %s, owner is %s", name, p, pl[0], r.Owner(p))
		}
		seen := map[string]bool{}
		for _, id := range pl {
			if seen[id] {
				t.Fatalf("%s: PreferenceList(%d) = %v repeats %s", name, p, pl, id)
			}
			seen[id] = true
			holds[id] = append(holds[id], p)
			if !r.InPreferenceList(p, id) {
				t.Fatalf("%s: InPreferenceList(%d, %s) = false", name, p, id)
			}
		}
		walk := r.Walk(p)
		if len(walk) != min(2*r.Replicas(), s) || !slices.Equal(walk[:len(pl)], pl) {
			t.Fatalf("%s: Walk(%d) = %v: want min(2N, S) members starting with %v", name, p, walk, pl)
		}
		for _, id := range walk[len(pl):] {
			if seen[id] {
				t.Fatalf("%s: Walk(%d) = %v repeats %s", name, p, walk, id)
			}
			seen[id] = true
		}
		// Spreading: when there is more than one member, nobody owns two
		// neighbouring partitions.
		if spread && s > 1 && r.Owner(p) == r.Owner((p+1)%q) {
			t.Fatalf("%s: %s owns adjacent partitions %d and %d", name, r.Owner(p), p, (p+1)%q)
		}
	}
	for _, m := range r.Members() {
		if got := r.PartitionsOf(m.ID); !slices.Equal(got, holds[m.ID]) {
			t.Fatalf("%s: PartitionsOf(%s) = %v, want %v", name, m.ID, got, holds[m.ID])
		}
	}
}

func checkBalance(t *testing.T, name string, r *Ring) {
	t.Helper()
	q, s := r.Partitions(), len(r.Members())
	lo, hi := q/s, (q+s-1)/s
	total := 0
	for id, c := range r.Ownership() {
		total += c
		if c < lo || c > hi {
			t.Fatalf("%s: %s owns %d partitions, want %d..%d", name, id, c, lo, hi)
		}
	}
	if total != q {
		t.Fatalf("%s: ownership sums to %d, want %d", name, total, q)
	}
}

func checkAppend(t *testing.T, name string, before, after *Ring) {
	t.Helper()
	q, s := before.Partitions(), len(before.Members())
	limit := (q+s)/(s+1) + 1 // ceil(Q/(S+1)) + 1
	moved := 0
	for p := 0; p < q; p++ {
		if before.Owner(p) != after.Owner(p) {
			moved++
		}
	}
	if moved > limit {
		t.Fatalf("%s: appending a member moved %d partitions, limit %d", name, moved, limit)
	}
}

func checkDeterminism(t *testing.T, name string, r *Ring, rng *rand.Rand) {
	t.Helper()
	ms := r.Members()
	again := mustRing(t, r.Partitions(), r.Replicas(), ms)
	if !r.Equal(again) || r.Fingerprint() != again.Fingerprint() {
		t.Fatalf("%s: rebuilding gave a different ring", name)
	}
	for p := 0; p < r.Partitions(); p++ {
		if !slices.Equal(r.PreferenceList(p), again.PreferenceList(p)) {
			t.Fatalf("%s: rebuilt PreferenceList(%d) differs", name, p)
		}
	}
	if len(ms) > 1 {
		i := rng.Intn(len(ms) - 1)
		ms[i], ms[i+1] = ms[i+1], ms[i]
		other := mustRing(t, r.Partitions(), r.Replicas(), ms)
		if r.Equal(other) || r.Fingerprint() == other.Fingerprint() {
			t.Fatalf("%s: reordered members gave an equal ring", name)
		}
	}
	for range 50 {
		key := make([]byte, rng.Intn(32))
		rng.Read(key)
		if p := r.PartitionOf(key); p < 0 || p >= r.Partitions() || p != again.PartitionOf(key) {
			t.Fatalf("%s: PartitionOf(%x) = %d", name, key, p)
		}
	}
}

// A member leaving, wherever it joined, moves only what it held: primary
// ownership changes only where it owned, the replica set of a partition
// changes only if it was in it, and the remaining members stay balanced.
// A join after leaves still moves at most its share.
func TestLeaveMovesOnlyTheLeaversPartitions(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for trial := 0; trial < 400; trial++ {
		q := propertyQs[rng.Intn(len(propertyQs))]
		s := 2 + rng.Intn(30)
		n := 1 + rng.Intn(5)
		ms := randomMembers(rng, s+1)
		var events []Event
		for _, m := range ms[:s] {
			events = append(events, Event{Member: m})
		}
		before := mustReplay(t, q, n, events)
		gone := ms[rng.Intn(s)]
		events = append(events, Event{Member: gone, Leave: true})
		after := mustReplay(t, q, n, events)
		name := fmt.Sprintf("trial %d Q=%d S=%d N=%d leaver %s", trial, q, s, n, gone.ID)
		if _, ok := after.Member(gone.ID); ok || len(after.Members()) != s-1 {
			t.Fatalf("%s: the leaver is still a member", name)
		}
		for p := 0; p < q; p++ {
			if before.Owner(p) != gone.ID && before.Owner(p) != after.Owner(p) {
				t.Fatalf("%s: partition %d moved from %s to %s", name, p, before.Owner(p), after.Owner(p))
			}
			b, a := before.PreferenceList(p), after.PreferenceList(p)
			if !slices.Contains(b, gone.ID) {
				if !sameSet(a, b) {
					t.Fatalf("%s: partition %d without the leaver changed from %v to %v", name, p, b, a)
				}
				continue
			}
			if slices.Contains(a, gone.ID) || len(a) != min(n, s-1) {
				t.Fatalf("%s: partition %d went from %v to %v", name, p, b, a)
			}
		}
		checkBalance(t, name, after)
		checkPreferencesSpread(t, name, after, false)
		// A join after the leave moves at most its share.
		events = append(events, Event{Member: ms[s]})
		checkAppend(t, name, after, mustReplay(t, q, n, events))
	}
}

func TestReplayRefusesBadHistories(t *testing.T) {
	a, b := Member{ID: "a", Addr: "a:1"}, Member{ID: "b", Addr: "b:1"}
	for _, tt := range []struct {
		name   string
		events []Event
		want   string
	}{
		{"leave of a stranger", []Event{{Member: a}, {Member: b, Leave: true}}, "not a member"},
		{"rejoin after leaving", []Event{{Member: a}, {Member: b}, {Member: b, Leave: true}, {Member: b}}, "joins again"},
		{"everyone left", []Event{{Member: a}, {Member: a, Leave: true}}, "no members"},
		{"duplicate", []Event{{Member: a}, {Member: a}}, "duplicate"},
	} {
		if _, err := Replay(16, 3, tt.events); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("%s: %v; want %q", tt.name, err, tt.want)
		}
	}
	// The address of a member that left may be taken by a new one.
	c := Member{ID: "c", Addr: "b:1"}
	if _, err := Replay(16, 3, []Event{{Member: a}, {Member: b}, {Member: b, Leave: true}, {Member: c}}); err != nil {
		t.Fatal(err)
	}
}

func mustReplay(t *testing.T, q, n int, events []Event) *Ring {
	t.Helper()
	r, err := Replay(q, n, events)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
