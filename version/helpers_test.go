package version

import (
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// cl parses "a:1 b:2@7" into a clock; "@7" sets the stamp.
func cl(s string) Clock {
	var entries []Entry
	for _, f := range strings.Fields(s) {
		entries = append(entries, entry(f))
	}
	return NewClock(entries...)
}

func entry(f string) Entry {
	var stamp int64
	if at := strings.IndexByte(f, '@'); at >= 0 {
		n, err := strconv.ParseInt(f[at+1:], 10, 64)
		if err != nil {
			panic(err)
		}
		stamp, f = n, f[:at]
	}
	colon := strings.IndexByte(f, ':')
	n, err := strconv.ParseUint(f[colon+1:], 10, 64)
	if err != nil {
		panic(err)
	}
	return Entry{Node: f[:colon], Counter: n, Stamp: stamp}
}

func dot(f string) Dot {
	e := entry(f)
	return Dot(e)
}

// ver builds a version from a dot like "a:2", a context like "a:1 b:1"
// and a value.
func ver(d, ctx, val string) Version {
	return Version{Dot: dot(d), Context: cl(ctx), Value: []byte(val)}
}

func tomb(d, ctx string) Version {
	return Version{Dot: dot(d), Context: cl(ctx), Deleted: true}
}

// dots lists the dots of a set in order, for compact failure messages.
func dots(s Siblings) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = v.Dot.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

var nodes = []string{"a", "b", "c", "d", "e", "f"}

// randClock draws a clock over a few nodes with small counters and stamps
// so that equal counters, equal stamps and missing nodes all occur often.
func randClock(r *rand.Rand) Clock {
	var entries []Entry
	for _, n := range nodes {
		if r.Intn(3) == 0 {
			continue
		}
		entries = append(entries, Entry{Node: n, Counter: uint64(1 + r.Intn(4)), Stamp: int64(r.Intn(3))})
	}
	return NewClock(entries...)
}

// below returns a clock that o descends: some entries lowered or removed.
func below(r *rand.Rand, o Clock) Clock {
	var entries []Entry
	for _, e := range o {
		switch r.Intn(3) {
		case 0:
			continue
		case 1:
			e.Counter = uint64(1 + r.Int63n(int64(e.Counter)))
		}
		entries = append(entries, e)
	}
	return NewClock(entries...)
}

func sameCounters(a, b Clock) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Node != b[i].Node || a[i].Counter != b[i].Counter {
			return false
		}
	}
	return true
}

func sorted(t *testing.T, c Clock) {
	t.Helper()
	for i := 1; i < len(c); i++ {
		if c[i-1].Node >= c[i].Node {
			t.Fatalf("clock %v not strictly sorted", c)
		}
	}
}
