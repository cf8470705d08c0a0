package ports

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeGivesDistinctListenablePortsBelowTheEphemeralRange(t *testing.T) {
	ps, err := Free("127.0.0.1", 20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ps {
		if p < Low || p >= High || seen[p] {
			t.Fatalf("port %d: want distinct ports in [%d, %d)", p, Low, High)
		}
		seen[p] = true
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		l.Close()
	}
}

func TestFreeRunSkipsTakenPorts(t *testing.T) {
	base, err := FreeRun("127.0.0.1", 5)
	if err != nil {
		t.Fatal(err)
	}
	// Hold the run's first port: the next run found must avoid it.
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+1))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := 0; i < 50; i++ {
		b, err := FreeRun("127.0.0.1", 5)
		if err != nil {
			t.Fatal(err)
		}
		if b < base+1 && base+1 <= b+5 {
			t.Fatalf("run from %d includes the taken port %d", b+1, base+1)
		}
	}
}
