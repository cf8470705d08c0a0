package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// Behaviours of scans and whole partitions; the table is in store_test.go.

func testScanOrder(t *testing.T, s Store) {
	keys := []string{"b", "a", "\x00", "\xff", "\xff\xff", "a\x00", "ab", "B", "\x01\xff", "zz"}
	rand.New(rand.NewSource(1)).Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	b := NewBatch()
	for _, k := range keys {
		b.Put(5, []byte(k), []byte("v"+k))
	}
	if err := s.Apply(b); err != nil {
		t.Fatal(err)
	}
	got := scanAll(t, s, 5, 0)
	want := slices.Clone(keys)
	slices.SortFunc(want, func(a, b string) int { return bytes.Compare([]byte(a), []byte(b)) })
	if len(got) != len(want) {
		t.Fatalf("scan returned %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].k != want[i] || got[i].v != "v"+want[i] {
			t.Fatalf("entry %d = %q=%q, want %q", i, got[i].k, got[i].v, want[i])
		}
	}
}

func testScanPagination(t *testing.T, s Store) {
	b := NewBatch()
	for i := range 10 {
		b.Put(4, fmt.Appendf(nil, "k%d", i), []byte{byte(i)})
	}
	if err := s.Apply(b); err != nil {
		t.Fatal(err)
	}
	page := func(after string, afterNil bool, limit int) ([]string, []byte) {
		t.Helper()
		var a []byte
		if !afterNil {
			a = []byte(after)
		}
		var ks []string
		next, err := s.Scan(4, a, limit, func(k, _ []byte) error {
			ks = append(ks, string(k))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ks, next
	}
	cases := []struct {
		after    string
		afterNil bool
		limit    int
		want     []string
		next     string // "" means nil
	}{
		{"", true, 3, []string{"k0", "k1", "k2"}, "k2"},
		{"k2", false, 3, []string{"k3", "k4", "k5"}, "k5"},
		{"k5", false, 4, []string{"k6", "k7", "k8", "k9"}, ""}, // exact fit: exhausted
		{"k5", false, 10, []string{"k6", "k7", "k8", "k9"}, ""},
		{"k45", false, 2, []string{"k5", "k6"}, "k6"}, // after need not exist
		{"k9", false, 3, nil, ""},
		{"zzz", false, 0, nil, ""},
		{"", false, 2, []string{"k0", "k1"}, "k1"}, // empty after = from start
		{"k7", false, 0, []string{"k8", "k9"}, ""},
		{"k7", false, -1, []string{"k8", "k9"}, ""},
	}
	for _, c := range cases {
		got, next := page(c.after, c.afterNil, c.limit)
		if !slices.Equal(got, c.want) {
			t.Errorf("Scan(after=%q, limit=%d) = %q, want %q", c.after, c.limit, got, c.want)
		}
		if (c.next == "") != (next == nil) || string(next) != c.next {
			t.Errorf("Scan(after=%q, limit=%d) next = %q, want %q", c.after, c.limit, next, c.next)
		}
	}
	for _, limit := range []int{1, 2, 3, 9, 10, 11} {
		if got := scanAll(t, s, 4, limit); len(got) != 10 {
			t.Errorf("paging by %d saw %d entries, want 10", limit, len(got))
		}
	}
}

func testScanCallbackError(t *testing.T, s Store) {
	for _, k := range []string{"a", "b", "c"} {
		put(t, s, 1, k, "v")
	}
	stop := errors.New("stop")
	calls := 0
	next, err := s.Scan(1, nil, 0, func(k, _ []byte) error {
		calls++
		if string(k) == "b" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || next != nil || calls != 2 {
		t.Fatalf("Scan = %q, %v after %d calls; want the callback's error after 2", next, err, calls)
	}
	if _, err := s.Scan(1, nil, 0, nil); err == nil {
		t.Fatal("Scan with nil callback succeeded")
	}
}

func testScanCallbackMayWrite(t *testing.T, s Store) {
	put(t, s, 1, "a", "1")
	put(t, s, 1, "b", "2")
	_, err := s.Scan(1, nil, 0, func(k, v []byte) error {
		b := NewBatch()
		b.Put(2, k, v) // copy the partition elsewhere
		return s.Apply(b)
	})
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, 2, "a", "1")
	wantValue(t, s, 2, "b", "2")
}

func testPartitionIsolation(t *testing.T, s Store) {
	// Keys of p whose bytes look like p+1's prefix, and keys of p+1 that sort
	// first, must not leak across the boundary. Include both ends of the
	// partition space.
	for _, p := range []uint32{0, 9, 0xfffffffe, 0xffffffff} {
		b := NewBatch()
		b.Put(p, []byte{0xff}, []byte("p-ff"))
		b.Put(p, []byte{0xff, 0xff, 0xff, 0xff, 0xff}, []byte("p-ff5"))
		b.Put(p, []byte{0x00, 0x00, 0x00, 0x0a}, []byte("p-0a"))
		if p != 0xffffffff {
			b.Put(p+1, []byte{0x00}, []byte("next-00"))
			b.Put(p+1, []byte{0xff}, []byte("next-ff"))
		}
		if p != 0 {
			b.Put(p-1, []byte{0xff, 0xff}, []byte("prev-ffff"))
		}
		if err := s.Apply(b); err != nil {
			t.Fatal(err)
		}
		for _, e := range scanAll(t, s, p, 2) {
			if e.v[:2] != "p-" {
				t.Fatalf("scan of %#x saw %q=%q from another partition", p, e.k, e.v)
			}
		}
		if n, _, err := s.PartitionStats(p); err != nil || n != 3 {
			t.Fatalf("stats of %#x = %d, %v; want 3 keys", p, n, err)
		}
		if err := s.DropPartition(p); err != nil {
			t.Fatal(err)
		}
		if p != 0xffffffff {
			wantValue(t, s, p+1, "\xff", "next-ff")
			if err := s.DropPartition(p + 1); err != nil {
				t.Fatal(err)
			}
		}
		if p != 0 {
			wantValue(t, s, p-1, "\xff\xff", "prev-ffff")
			if err := s.DropPartition(p - 1); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func testDropPartition(t *testing.T, s Store) {
	for p := uint32(10); p < 13; p++ {
		for i := range 20 {
			put(t, s, p, fmt.Sprintf("k%d", i), "v")
		}
	}
	if err := s.DropPartition(11); err != nil {
		t.Fatal(err)
	}
	if err := s.DropPartition(99); err != nil { // empty partition
		t.Fatal(err)
	}
	wantAbsent(t, s, 11, "k3")
	if got := scanAll(t, s, 11, 0); len(got) != 0 {
		t.Fatalf("dropped partition still scans %d entries", len(got))
	}
	for _, p := range []uint32{10, 12} {
		if got := scanAll(t, s, p, 7); len(got) != 20 {
			t.Fatalf("neighbour %d lost entries: %d left", p, len(got))
		}
	}
	put(t, s, 11, "k3", "again") // a dropped partition is writable again
	wantValue(t, s, 11, "k3", "again")
}

func testStats(t *testing.T, s Store) {
	wantStats := func(p uint32, keys int, size int64) {
		t.Helper()
		n, b, err := s.PartitionStats(p)
		if err != nil || n != keys || b != size {
			t.Fatalf("stats of %d = %d keys %d bytes, %v; want %d keys %d bytes", p, n, b, err, keys, size)
		}
	}
	wantStats(1, 0, 0)
	put(t, s, 1, "ab", "xyz")   // 5
	put(t, s, 1, "c", "")       // 1
	put(t, s, 2, "other", "no") // different partition
	wantStats(1, 2, 6)
	put(t, s, 1, "ab", "x") // overwrite: 3
	wantStats(1, 2, 4)
	del(t, s, 1, "c")
	wantStats(1, 1, 3)
	if err := s.DropPartition(1); err != nil {
		t.Fatal(err)
	}
	wantStats(1, 0, 0)
	wantStats(2, 1, 7)
}
