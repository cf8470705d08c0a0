package store

import (
	"fmt"
	"testing"
)

var benchValue = make([]byte, 256) // a typical small sibling set

func BenchmarkApply(b *testing.B) {
	for _, c := range []struct {
		name string
		open func(testing.TB) Store
	}{
		{"pebble/sync=false", func(t testing.TB) Store { return openPebble(t, Options{Dir: t.TempDir()}) }},
		{"pebble/sync=true", func(t testing.TB) Store { return openPebble(t, Options{Dir: t.TempDir(), Sync: true}) }},
		{"memory", func(testing.TB) Store { return NewMemory() }},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := c.open(b)
			defer s.Close()
			b.SetBytes(int64(len(benchValue)))
			i := 0
			for b.Loop() {
				batch := NewBatch()
				batch.Put(uint32(i%64), fmt.Appendf(nil, "key-%d", i), benchValue)
				if err := s.Apply(batch); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	const n = 10_000
	for _, c := range []struct {
		name string
		open func(testing.TB) Store
	}{
		{"pebble", func(t testing.TB) Store { return openPebble(t, Options{Dir: t.TempDir()}) }},
		{"memory", func(testing.TB) Store { return NewMemory() }},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := c.open(b)
			defer s.Close()
			batch := NewBatch()
			for i := range n {
				batch.Put(uint32(i%64), fmt.Appendf(nil, "key-%d", i), benchValue)
			}
			if err := s.Apply(batch); err != nil {
				b.Fatal(err)
			}
			keys := make([][]byte, n)
			for i := range keys {
				keys[i] = fmt.Appendf(nil, "key-%d", i)
			}
			i := 0
			for b.Loop() {
				j := i % n
				if _, err := s.Get(uint32(j%64), keys[j]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
