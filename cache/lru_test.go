package cache

import (
	"fmt"
	"slices"
	"testing"
)

// op is one step of a scenario: a put (size >= 0 unless remove or get is
// set), a get, a remove or a clear.
type op struct {
	put, get, remove, clear bool
	key                     string
	val                     *string // nil: a negative entry
	size                    int
	// For get: whether the key is expected, and its value.
	hit  bool
	want *string
}

func str(s string) *string { return &s }

func put(k, v string, size int) op            { return op{put: true, key: k, val: str(v), size: size} }
func putAbsent(k string, size int) op         { return op{put: true, key: k, size: size} }
func get(k string, hit bool, want *string) op { return op{get: true, key: k, hit: hit, want: want} }
func remove(k string) op                      { return op{remove: true, key: k} }

func TestLRU(t *testing.T) {
	tests := []struct {
		name string
		max  int
		ops  []op
		// After the ops: keys from most to least recent, and their total size.
		keys []string
		size int
	}{
		{
			name: "evicts the least recently put",
			max:  30,
			ops:  []op{put("a", "1", 10), put("b", "2", 10), put("c", "3", 10), put("d", "4", 10)},
			keys: []string{"d", "c", "b"}, size: 30,
		},
		{
			name: "a get protects an entry from eviction",
			max:  30,
			ops: []op{put("a", "1", 10), put("b", "2", 10), put("c", "3", 10),
				get("a", true, str("1")), put("d", "4", 10), get("b", false, nil)},
			keys: []string{"d", "a", "c"}, size: 30,
		},
		{
			name: "a large entry evicts several",
			max:  30,
			ops:  []op{put("a", "1", 10), put("b", "2", 10), put("c", "3", 10), put("d", "4", 25)},
			keys: []string{"d"}, size: 25,
		},
		{
			name: "an entry exactly the bound fits",
			max:  30,
			ops:  []op{put("a", "1", 10), put("b", "2", 30)},
			keys: []string{"b"}, size: 30,
		},
		{
			name: "an entry over the bound is not kept, nor the value it replaces",
			max:  30,
			ops:  []op{put("a", "1", 10), put("b", "2", 10), put("a", "big", 31), get("a", false, nil)},
			keys: []string{"b"}, size: 10,
		},
		{
			name: "overwrite replaces the value and its size and refreshes it",
			max:  30,
			ops: []op{put("a", "1", 10), put("b", "2", 10), put("a", "1b", 5),
				get("a", true, str("1b"))},
			keys: []string{"a", "b"}, size: 15,
		},
		{
			name: "a growing overwrite evicts others, never itself",
			max:  30,
			ops:  []op{put("a", "1", 10), put("b", "2", 10), put("c", "3", 10), put("a", "1b", 25)},
			keys: []string{"a"}, size: 25,
		},
		{
			name: "negative entries are cached and counted",
			max:  30,
			ops: []op{putAbsent("a", 4), put("b", "2", 10), get("a", true, nil),
				put("a", "1", 10), get("a", true, str("1"))},
			keys: []string{"a", "b"}, size: 20,
		},
		{
			name: "remove forgets a key; removing an absent key is harmless",
			max:  30,
			ops: []op{put("a", "1", 10), put("b", "2", 10), remove("a"), remove("zz"),
				get("a", false, nil), put("c", "3", 10), put("d", "4", 10)},
			keys: []string{"d", "c", "b"}, size: 30,
		},
		{
			name: "clear empties the cache, which then fills again",
			max:  30,
			ops:  []op{put("a", "1", 10), put("b", "2", 10), {clear: true}, get("a", false, nil), put("c", "3", 10)},
			keys: []string{"c"}, size: 10,
		},
		{
			name: "a zero bound holds nothing",
			max:  0,
			ops:  []op{put("a", "1", 1), get("a", false, nil), putAbsent("b", 0)},
			keys: []string{}, size: 0,
		},
		{
			name: "a negative bound holds nothing",
			max:  -5,
			ops:  []op{put("a", "1", 1), get("a", false, nil)},
			keys: []string{}, size: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewLRU[*string](tt.max)
			for i, o := range tt.ops {
				switch {
				case o.put:
					c.Put([]byte(o.key), o.val, o.size)
				case o.remove:
					c.Remove([]byte(o.key))
				case o.clear:
					c.Clear()
				case o.get:
					v, ok := c.Get([]byte(o.key))
					if ok != o.hit {
						t.Fatalf("op %d: get %q hit %v; want %v", i, o.key, ok, o.hit)
					}
					if ok && (v == nil) != (o.want == nil) || v != nil && o.want != nil && *v != *o.want {
						t.Fatalf("op %d: get %q = %v; want %v", i, o.key, deref(v), deref(o.want))
					}
				}
				if c.Size() > max(tt.max, 0) {
					t.Fatalf("op %d: size %d over the bound %d", i, c.Size(), tt.max)
				}
			}
			if got := c.Keys(); !slices.Equal(got, tt.keys) {
				t.Errorf("keys %q; want %q", got, tt.keys)
			}
			if c.Size() != tt.size || c.Len() != len(tt.keys) {
				t.Errorf("size %d, len %d; want %d, %d", c.Size(), c.Len(), tt.size, len(tt.keys))
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<absent>"
	}
	return *s
}

// The cache keeps its own copy of a key: the caller may reuse its buffer.
func TestLRUCopiesKeys(t *testing.T) {
	c := NewLRU[int](100)
	buf := []byte("k1")
	c.Put(buf, 1, 1)
	buf[1] = '2'
	if _, ok := c.Get([]byte("k2")); ok {
		t.Fatal("the cache saw a change to the caller's key buffer")
	}
	if v, ok := c.Get([]byte("k1")); !ok || v != 1 {
		t.Fatalf("k1 = %d, %v; want 1", v, ok)
	}
}

// A long run of random operations keeps the bound, the size sum and the
// list consistent with the map.
func TestLRUChurn(t *testing.T) {
	const bound = 1000
	c := NewLRU[int](bound)
	seed := uint32(1)
	next := func(n int) int {
		seed = seed*1664525 + 1013904223
		return int(seed>>8) % n
	}
	for i := range 20000 {
		k := []byte(fmt.Sprint(next(200)))
		switch next(10) {
		case 0:
			c.Remove(k)
		case 1, 2, 3:
			c.Get(k)
		default:
			c.Put(k, i, next(120))
		}
		if c.Size() > bound {
			t.Fatalf("step %d: size %d over %d", i, c.Size(), bound)
		}
	}
	sum := 0
	for _, k := range c.Keys() {
		e := c.items[k]
		if e == nil || e.key != k {
			t.Fatalf("listed key %q missing from the map", k)
		}
		sum += e.size
	}
	if sum != c.Size() || len(c.Keys()) != c.Len() {
		t.Fatalf("list sums to %d over %d keys; cache says %d over %d", sum, len(c.Keys()), c.Size(), c.Len())
	}
}

func BenchmarkLRU(b *testing.B) {
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%d", i)
	}
	b.Run("hit", func(b *testing.B) {
		c := NewLRU[int](1 << 30)
		for i, k := range keys {
			c.Put(k, i, 100)
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c.Get(keys[i%len(keys)])
		}
	})
	b.Run("overwrite", func(b *testing.B) {
		c := NewLRU[int](1 << 30)
		for i, k := range keys {
			c.Put(k, i, 100)
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c.Put(keys[i%len(keys)], i, 100)
		}
	})
}
