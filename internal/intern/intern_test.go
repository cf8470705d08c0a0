package intern

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestBytesSharesShortStrings(t *testing.T) {
	a := Bytes([]byte("node-7"))
	b := Bytes([]byte("node-7"))
	if a != "node-7" || b != "node-7" {
		t.Fatalf("Bytes: %q %q", a, b)
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = Bytes([]byte("node-7")) }); allocs != 0 {
		t.Fatalf("a string already interned cost %v allocations", allocs)
	}
	long := strings.Repeat("x", MaxLen+1)
	if got := Bytes([]byte(long)); got != long {
		t.Fatalf("long string %q", got)
	}
}

// Strings that collide on a slot, and concurrent callers, still each get
// their own value back.
func TestBytesIsExactUnderChurn(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20000; i++ {
				want := fmt.Sprintf("n%d", (i*7+g)%3000)
				if got := Bytes([]byte(want)); got != want {
					t.Errorf("Bytes(%q) = %q", want, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
