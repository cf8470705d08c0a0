package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// impls lists every Store implementation; each behaviour runs against all.
func impls() []struct {
	name string
	open func(t testing.TB) Store
} {
	return []struct {
		name string
		open func(t testing.TB) Store
	}{
		{"memory", func(testing.TB) Store { return NewMemory() }},
		{"pebble", func(t testing.TB) Store { return openPebble(t, Options{Dir: t.TempDir()}) }},
		{"pebble-sync", func(t testing.TB) Store { return openPebble(t, Options{Dir: t.TempDir(), Sync: true}) }},
		{"log", func(t testing.TB) Store { return openLogStore(t, Options{Dir: t.TempDir()}) }},
		{"log-sync", func(t testing.TB) Store { return openLogStore(t, Options{Dir: t.TempDir(), Sync: true}) }},
	}
}

func openPebble(t testing.TB, opts Options) Store {
	t.Helper()
	s, err := OpenPebble(opts)
	if err != nil {
		t.Fatalf("OpenPebble: %v", err)
	}
	return s
}

func openLogStore(t testing.TB, opts Options) Store {
	t.Helper()
	s, err := OpenLog(opts)
	if err != nil {
		t.Fatalf("OpenLog: %v", err)
	}
	return s
}

var behaviours = []struct {
	name string
	run  func(t *testing.T, s Store)
}{
	{"PutGetOverwriteDelete", testPutGetOverwriteDelete},
	{"NotFound", testNotFound},
	{"EmptyKeyRejected", testEmptyKey},
	{"EmptyValue", testEmptyValue},
	{"CallerOwnsSlices", testCallerOwnsSlices},
	{"BatchAtomicity", testBatchAtomicity},
	{"ConcurrentBatchesSeenWhole", testConcurrentBatchesSeenWhole},
	{"ScanOrder", testScanOrder},
	{"ScanPagination", testScanPagination},
	{"ScanCallbackError", testScanCallbackError},
	{"ScanCallbackMayWrite", testScanCallbackMayWrite},
	{"PartitionIsolation", testPartitionIsolation},
	{"DropPartition", testDropPartition},
	{"Stats", testStats},
	{"Closed", testClosed},
	{"CloseWhileBusy", testCloseWhileBusy},
}

func TestStore(t *testing.T) {
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			for _, b := range behaviours {
				t.Run(b.name, func(t *testing.T) {
					s := im.open(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil && !errors.Is(err, ErrClosed) {
							t.Errorf("Close: %v", err)
						}
					})
					b.run(t, s)
				})
			}
		})
	}
}

func put(t *testing.T, s Store, p uint32, k, v string) {
	t.Helper()
	b := NewBatch()
	b.Put(p, []byte(k), []byte(v))
	if err := s.Apply(b); err != nil {
		t.Fatalf("Apply put %d/%q: %v", p, k, err)
	}
}

func del(t *testing.T, s Store, p uint32, k string) {
	t.Helper()
	b := NewBatch()
	b.Delete(p, []byte(k))
	if err := s.Apply(b); err != nil {
		t.Fatalf("Apply delete %d/%q: %v", p, k, err)
	}
}

func wantValue(t *testing.T, s Store, p uint32, k, want string) {
	t.Helper()
	got, err := s.Get(p, []byte(k))
	if err != nil {
		t.Fatalf("Get %d/%q: %v", p, k, err)
	}
	if string(got) != want {
		t.Fatalf("Get %d/%q = %q, want %q", p, k, got, want)
	}
}

func wantAbsent(t *testing.T, s Store, p uint32, k string) {
	t.Helper()
	if v, err := s.Get(p, []byte(k)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get %d/%q = %q, %v; want ErrNotFound", p, k, v, err)
	}
}

type kv struct{ k, v string }

// scanAll pages through a partition with the given page size.
func scanAll(t *testing.T, s Store, p uint32, limit int) []kv {
	t.Helper()
	var out []kv
	var after []byte
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("scan does not terminate")
		}
		next, err := s.Scan(p, after, limit, func(k, v []byte) error {
			out = append(out, kv{string(k), string(v)})
			return nil
		})
		if err != nil {
			t.Fatalf("Scan %d after %q: %v", p, after, err)
		}
		if next == nil {
			return out
		}
		after = next
	}
}

func testPutGetOverwriteDelete(t *testing.T, s Store) {
	put(t, s, 1, "a", "1")
	wantValue(t, s, 1, "a", "1")
	put(t, s, 1, "a", "2")
	wantValue(t, s, 1, "a", "2")
	del(t, s, 1, "a")
	wantAbsent(t, s, 1, "a")
	del(t, s, 1, "never-written") // deleting an absent key is fine
	put(t, s, 1, "a", "3")
	wantValue(t, s, 1, "a", "3")
}

func testNotFound(t *testing.T, s Store) {
	wantAbsent(t, s, 7, "x")
	put(t, s, 7, "x", "v")
	wantAbsent(t, s, 8, "x")
	wantAbsent(t, s, 7, "x\x00")
}

func testEmptyKey(t *testing.T, s Store) {
	b := NewBatch()
	b.Put(1, []byte("ok"), []byte("v"))
	b.Put(1, nil, []byte("v"))
	b.Delete(1, []byte{})
	if err := s.Apply(b); !errors.Is(err, ErrEmptyKey) {
		t.Fatalf("Apply with empty key: %v, want ErrEmptyKey", err)
	}
	wantAbsent(t, s, 1, "ok") // the whole batch is refused
	if _, err := s.Get(1, nil); !errors.Is(err, ErrEmptyKey) {
		t.Fatalf("Get empty key: %v, want ErrEmptyKey", err)
	}
}

func testEmptyValue(t *testing.T, s Store) {
	put(t, s, 1, "k", "")
	got, err := s.Get(1, []byte("k"))
	if err != nil || len(got) != 0 {
		t.Fatalf("Get = %q, %v; want empty value", got, err)
	}
}

func testCallerOwnsSlices(t *testing.T, s Store) {
	key, val := []byte("key"), []byte("value")
	b := NewBatch()
	b.Put(1, key, val)
	copy(key, "XXX") // the batch must have copied
	copy(val, "XXXXX")
	if err := s.Apply(b); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(1, []byte("key"))
	if err != nil || string(got) != "value" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	copy(got, "YYYYY")
	wantValue(t, s, 1, "key", "value")
	next, err := s.Scan(1, nil, 1, func(k, v []byte) error { return nil })
	if err != nil || next != nil {
		t.Fatalf("Scan = %q, %v", next, err)
	}
}

func testBatchAtomicity(t *testing.T, s Store) {
	put(t, s, 2, "gone", "x")
	b := NewBatch()
	for i := range 50 {
		b.Put(uint32(i%3), fmt.Appendf(nil, "k%02d", i), fmt.Appendf(nil, "v%d", i))
	}
	b.Delete(2, []byte("gone"))
	b.Put(0, []byte("k00"), []byte("last-wins")) // later ops in a batch win
	if b.Len() != 52 {
		t.Fatalf("Len = %d, want 52", b.Len())
	}
	if err := s.Apply(b); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, 0, "k00", "last-wins")
	for i := 1; i < 50; i++ {
		wantValue(t, s, uint32(i%3), fmt.Sprintf("k%02d", i), fmt.Sprintf("v%d", i))
	}
	wantAbsent(t, s, 2, "gone")
	if err := s.Apply(NewBatch()); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
}

// testConcurrentBatchesSeenWhole checks that readers never observe half a
// batch: every batch sets all keys to one value, so a scan must see one value.
func testConcurrentBatchesSeenWhole(t *testing.T, s Store) {
	const keys, rounds = 8, 200
	write := func(r int) {
		b := NewBatch()
		for k := range keys {
			b.Put(3, fmt.Appendf(nil, "k%d", k), fmt.Appendf(nil, "r%d", r))
		}
		if err := s.Apply(b); err != nil {
			t.Error(err)
		}
	}
	write(0)
	var wg sync.WaitGroup
	wg.Go(func() {
		for r := 1; r <= rounds; r++ {
			write(r)
		}
	})
	for range 2 {
		wg.Go(func() {
			for range rounds {
				var seen []string
				if _, err := s.Scan(3, nil, 0, func(_, v []byte) error {
					seen = append(seen, string(v))
					return nil
				}); err != nil {
					t.Error(err)
					return
				}
				if len(seen) != keys || slices.ContainsFunc(seen, func(v string) bool { return v != seen[0] }) {
					t.Errorf("scan saw a partial batch: %q", seen)
					return
				}
			}
		})
	}
	wg.Wait()
}

func testClosed(t *testing.T, s Store) {
	put(t, s, 1, "a", "1")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", what, err)
		}
	}
	_, err := s.Get(1, []byte("a"))
	check("Get", err)
	b := NewBatch()
	b.Put(1, []byte("b"), nil)
	check("Apply", s.Apply(b))
	_, err = s.Scan(1, nil, 0, func(_, _ []byte) error { return nil })
	check("Scan", err)
	check("DropPartition", s.DropPartition(1))
	_, _, err = s.PartitionStats(1)
	check("PartitionStats", err)
	check("Close", s.Close())
}

// testCloseWhileBusy closes the store under concurrent load: calls must
// either succeed or return ErrClosed, never panic or fail otherwise.
func testCloseWhileBusy(t *testing.T, s Store) {
	var wg sync.WaitGroup
	started := make(chan struct{}, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				if i == 10 {
					started <- struct{}{}
				}
				b := NewBatch()
				b.Put(uint32(w), fmt.Appendf(nil, "k%d", i), []byte("v"))
				err := s.Apply(b)
				if err == nil {
					_, err = s.Get(uint32(w), fmt.Appendf(nil, "k%d", i))
				}
				if err == nil {
					_, err = s.Scan(uint32(w), nil, 5, func(_, _ []byte) error { return nil })
				}
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
			}
		})
	}
	for range 4 {
		<-started
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
}

func TestKeyLayout(t *testing.T) {
	k := EncodeKey(NamespaceData, 0x01020304, []byte("user"))
	if want := []byte("d\x01\x02\x03\x04user"); !bytes.Equal(k, want) {
		t.Fatalf("EncodeKey = %q, want %q", k, want)
	}
	ns, p, key, err := DecodeKey(k)
	if err != nil || ns != NamespaceData || p != 0x01020304 || string(key) != "user" {
		t.Fatalf("DecodeKey = %c %#x %q %v", ns, p, key, err)
	}
	if _, _, _, err := DecodeKey([]byte("d\x00")); err == nil {
		t.Fatal("DecodeKey accepted a short key")
	}
	for _, p := range []uint32{0, 1, 0xff, 0x00ffffff, 0xfffffffe, 0xffffffff} {
		lo, hi := PartitionBounds(NamespaceData, p)
		inside := EncodeKey(NamespaceData, p, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		if bytes.Compare(lo, inside) > 0 || bytes.Compare(inside, hi) >= 0 {
			t.Fatalf("partition %#x: %q not within [%q, %q)", p, inside, lo, hi)
		}
		if p != 0xffffffff {
			if next := EncodeKey(NamespaceData, p+1, []byte{0}); bytes.Compare(next, hi) < 0 {
				t.Fatalf("partition %#x: upper bound %q admits %q", p, hi, next)
			}
		}
		if h := PartitionPrefix(NamespaceHints, 0); bytes.Compare(h, hi) < 0 {
			t.Fatalf("partition %#x: upper bound %q reaches the hints namespace", p, hi)
		}
	}
}

// A batch reused after Reset leaves what earlier batches stored intact,
// whatever store it went to.
func TestBatchReuse(t *testing.T) {
	for _, impl := range impls() {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.open(t)
			b := NewBatch()
			for i := 0; i < 100; i++ {
				b.Reset()
				b.Put(1, []byte(fmt.Sprintf("k%03d", i)), bytes.Repeat([]byte{byte(i)}, i*997%5000))
				if err := s.Apply(b); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 100; i++ {
				got, err := s.Get(1, []byte(fmt.Sprintf("k%03d", i)))
				if want := bytes.Repeat([]byte{byte(i)}, i*997%5000); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("k%03d: %d bytes, %v; want %d bytes", i, len(got), err, len(want))
				}
			}
		})
	}
}
