package version

import "testing"

// typical is a key written through three replicas with a 100-byte value.
func typical() (Siblings, Version) {
	ctx := Clock{{"node-1", 41, 1700000000000000000}, {"node-2", 17, 1700000000000000001}, {"node-3", 9, 1700000000000000002}}
	cur := Siblings{{Dot: Dot{"node-1", 42, 1700000000000000003}, Context: ctx, Value: make([]byte, 100)}}
	next := NewDotSource("node-2").NewVersion(cur, cur.Context(), nil, make([]byte, 100), false, 1700000000000000004, MaxClockEntries)
	return cur, next
}

func BenchmarkAdd(b *testing.B) {
	cur, next := typical()
	b.ReportAllocs()
	for b.Loop() {
		_ = cur.Add(next)
	}
}

func BenchmarkAddConcurrent(b *testing.B) {
	cur, _ := typical()
	sib := NewDotSource("node-1").NewVersion(cur, cur[0].Context, nil, make([]byte, 100), false, 1700000000000000004, MaxClockEntries)
	b.ReportAllocs()
	for b.Loop() {
		_ = cur.Add(sib)
	}
}

func BenchmarkMarshalBinary(b *testing.B) {
	cur, _ := typical()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cur.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalSiblings(b *testing.B) {
	cur, _ := typical()
	data, err := cur.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := UnmarshalSiblings(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeContext(b *testing.B) {
	cur, _ := typical()
	s := EncodeContext(cur.Context(), nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeContext(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMergeContexts(b *testing.B) {
	a := EncodeContext(cl("n1.7f3a:1021@5 n2.81bc:17@6 n3.0042:5@7"), nil)
	c := EncodeContext(cl("n1.7f3a:1017@5 n2.81bc:17@6 n3.0042:5@7"), Dots{{Node: "n1.7f3a", Counter: 1024}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MergeContexts(a, c); err != nil {
			b.Fatal(err)
		}
	}
}
