package ycsb

import (
	"context"
	"errors"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestPickFollowsTheWorkloadsShares(t *testing.T) {
	for _, w := range []Workload{A, B, C, D, F} {
		r := rand.New(rand.NewPCG(1, 2))
		var got [numKinds]int
		const n = 100_000
		for range n {
			got[w.Pick(r)]++
		}
		for k := range numKinds {
			share := float64(got[k]) * 100 / n
			if d := share - float64(w.Percent[k]); d > 1 || d < -1 {
				t.Errorf("workload %s: %s %.1f%%, want %d%%", w.Name, k, share, w.Percent[k])
			}
		}
	}
}

func TestZipfianIsSkewedAndStaysInRange(t *testing.T) {
	const items = 20_000
	for _, scramble := range []bool{false, true} {
		z := NewZipfian(items, 0.99, scramble)
		r := rand.New(rand.NewPCG(3, 4))
		counts := make([]int, items)
		const n = 200_000
		for range n {
			k := z.Next(r, items)
			if k < 0 || k >= items {
				t.Fatalf("drew %d, outside [0, %d)", k, items)
			}
			counts[k]++
		}
		slices.Sort(counts)
		slices.Reverse(counts)
		top := 0
		for _, c := range counts[:items/100] {
			top += c
		}
		// Under theta 0.99 the top 1% of 20 000 items take zeta(200)/zeta(20 000),
		// about 56% of the draws; uniform would give them 1%.
		want := zeta(items/100, 0.99) / zeta(items, 0.99)
		if share := float64(top) / n; share < want-0.03 || share > want+0.03 {
			t.Errorf("scramble=%v: the top 1%% of items took %.1f%% of draws, want %.1f%%", scramble, share*100, want*100)
		}
	}
}

func TestLatestFavoursTheNewest(t *testing.T) {
	l := NewLatest(1000)
	r := rand.New(rand.NewPCG(5, 6))
	newest := 0
	for range 10_000 {
		k := l.Next(r, 5000)
		if k < 0 || k >= 5000 {
			t.Fatalf("drew %d of 5000", k)
		}
		if k >= 4990 {
			newest++
		}
	}
	if newest < 3000 {
		t.Errorf("the 10 newest of 5000 records got %d of 10000 draws, want most", newest)
	}
}

func TestParseWorkloadsAndDistribution(t *testing.T) {
	ws, err := ParseWorkloads("load, A,c,f")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range ws {
		names = append(names, w.Name)
	}
	if !slices.Equal(names, []string{"load", "a", "c", "f"}) {
		t.Errorf("parsed %v", names)
	}
	for _, bad := range []string{"", "e", "a,zz"} {
		if _, err := ParseWorkloads(bad); err == nil {
			t.Errorf("ParseWorkloads(%q) took it", bad)
		}
	}
	if _, err := ParseDistribution("Zipfian"); err != nil {
		t.Error(err)
	}
	if _, err := ParseDistribution("hotspot"); err == nil {
		t.Error("took hotspot")
	}
}

// memStore is a Store in a map, failing every write of a key it is told.
type memStore struct {
	mu     sync.Mutex
	m      map[string][]byte
	reads  int
	writes int
	failOn string
}

func (s *memStore) Read(_ context.Context, key []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	return s.m[string(key)], nil
}

func (s *memStore) Write(_ context.Context, key, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if string(key) == s.failOn {
		return errors.New("refused")
	}
	s.writes++
	s.m[string(key)] = slices.Clone(value)
	return nil
}

func (s *memStore) Close() error { return nil }

func TestRunnerLoadsEveryRecordThenRunsWorkloads(t *testing.T) {
	s := &memStore{m: map[string][]byte{}, failOn: string(Key(7))}
	r := NewRunner(Config{Clients: 4, Records: 500, ValueSize: 100, Duration: 200 * time.Millisecond,
		Interval: 50 * time.Millisecond, MaxOps: 5_000_000}, s)
	ctx := context.Background()
	res, err := r.Run(ctx, Load, DistUniform, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.m) != 499 || res.All.Ops != 499 || res.All.Errors != 1 {
		t.Fatalf("load stored %d records, counted %d ops and %d errors; want 499, 499 and 1 (record 7 refused)",
			len(s.m), res.All.Ops, res.All.Errors)
	}
	if len(res.FirstErrors) != 1 {
		t.Errorf("first errors %q, want the one refusal", res.FirstErrors)
	}
	if v := s.m[string(Key(3))]; len(v) != 100 {
		t.Errorf("value of %d bytes, want 100", len(v))
	}

	s.reads, s.writes = 0, 0
	var ticks int
	res, err = r.Run(ctx, C, DistZipfian, func(Tick) { ticks++ })
	if err != nil {
		t.Fatal(err)
	}
	if s.writes != 0 || s.reads == 0 || res.All.Ops == 0 || len(res.ByKind) != 1 || res.ByKind[0].Kind != "read" {
		t.Errorf("workload c: %d reads, %d writes, by kind %+v; want reads only", s.reads, s.writes, res.ByKind)
	}
	if ticks == 0 || len(res.Timeline) == 0 {
		t.Error("no progress ticks and no timeline")
	}

	before := len(s.m)
	if _, err := r.Run(ctx, D, DistUniform, nil); err != nil {
		t.Fatal(err)
	}
	if len(s.m) <= before {
		t.Errorf("workload d inserted nothing: %d records before and after", before)
	}
}

func TestRunnerStopsAtTheOperationBound(t *testing.T) {
	s := &memStore{m: map[string][]byte{}}
	r := NewRunner(Config{Clients: 3, Records: 100, Duration: time.Minute, MaxOps: 1000}, s)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := r.Run(context.Background(), A, DistUniform, nil); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("a run bounded to 1000 operations went on for 30 s")
	}
	if s.reads+s.writes > 1000 {
		t.Errorf("%d operations, bound 1000", s.reads+s.writes)
	}
}

func TestRunnerEndsWhenCancelled(t *testing.T) {
	s := &memStore{m: map[string][]byte{}}
	r := NewRunner(Config{Clients: 2, Records: 100, Duration: time.Hour}, s)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	_, err := r.Run(ctx, B, DistUniform, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want it to say the run was cancelled", err)
	}
}

func TestPlotDrawsAPicture(t *testing.T) {
	s := &memStore{m: map[string][]byte{}}
	r := NewRunner(Config{Clients: 2, Records: 200, Duration: 300 * time.Millisecond, Interval: 50 * time.Millisecond, MaxOps: 5_000_000}, s)
	var results []Result
	for _, w := range []Workload{Load, A, C} {
		res, err := r.Run(context.Background(), w, DistZipfian, nil)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	path := filepath.Join(t.TempDir(), "run.png")
	if err := Plot(path, "test", results); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the plot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 500 {
		t.Errorf("plot of %v, want a readable size", b)
	}
	if err := Plot(filepath.Join(t.TempDir(), "run.gif"), "test", results); err == nil {
		t.Error("Plot wrote a .gif it cannot draw")
	}
}
