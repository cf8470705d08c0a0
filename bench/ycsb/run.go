package ycsb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Config is the load a Runner applies.
type Config struct {
	Clients   int           // goroutines, one operation in flight each
	Records   int           // records the load inserts and the others draw from
	ValueSize int           // bytes per value
	Duration  time.Duration // measured time of each workload but load
	Warmup    time.Duration // unmeasured time before it
	// MaxOps bounds the operations of one workload (load included), so that
	// a run ends by count even on a machine faster than expected.
	MaxOps   int
	Interval time.Duration // progress ticks and the timeline's resolution
	Seed     uint64
}

func (c Config) withDefaults() Config {
	if c.Clients <= 0 {
		c.Clients = 64
	}
	if c.Records <= 0 {
		c.Records = 20_000
	}
	if c.ValueSize <= 0 {
		c.ValueSize = 100
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.MaxOps <= 0 {
		c.MaxOps = 50_000_000
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	return c
}

// Tick is one interval of a run, as progress and the timeline show it.
type Tick struct {
	Elapsed         time.Duration // since measuring began
	Ops, Errors     int64         // in this interval
	OpsPerSec       float64
	P50, P99, P999  time.Duration
	TotalOps        int64 // since measuring began
	TotalErrors     int64
	Warmup          bool
	WorkloadName    string
	MeasureDuration time.Duration // how long measuring lasts (0: until every record is loaded)
}

// Stats are the latencies of one kind of operation, or of all.
type Stats struct {
	Kind           string
	Ops, Errors    int64
	Mean           time.Duration
	P50, P99, P999 time.Duration
	Max            time.Duration
}

// Result is what one workload measured.
type Result struct {
	Workload     string
	Distribution Distribution
	Clients      int
	ValueSize    int
	Elapsed      time.Duration
	OpsPerSec    float64
	All          Stats
	ByKind       []Stats
	Timeline     []Tick
	// FirstErrors are the first few distinct errors, to say what failed.
	FirstErrors []string
}

// Runner drives one Store through workloads in turn; it remembers how
// many records exist, which load and inserts grow.
type Runner struct {
	cfg     Config
	store   Store
	records atomic.Int64
}

// NewRunner prepares runs of cfg against s. A store already loaded is
// taken to hold cfg.Records records.
func NewRunner(cfg Config, s Store) *Runner {
	r := &Runner{cfg: cfg.withDefaults(), store: s}
	r.records.Store(int64(r.cfg.Records))
	return r
}

// Config is the runner's configuration, defaults filled in.
func (r *Runner) Config() Config { return r.cfg }

// recorder is one client's share of the measurements; the ticker reads
// the interval's histogram under its lock.
type recorder struct {
	mu     sync.Mutex
	kinds  [numKinds]*hdrhistogram.Histogram
	errs   [numKinds]int64
	tick   *hdrhistogram.Histogram
	tickEr int64
	first  []string
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) } // µs, up to 60 s

func newRecorder() *recorder {
	r := &recorder{tick: newHist()}
	for k := range r.kinds {
		r.kinds[k] = newHist()
	}
	return r
}

func (r *recorder) record(k Kind, took time.Duration, err error) {
	us := max(took.Microseconds(), 1)
	r.mu.Lock()
	if err != nil {
		r.errs[k]++
		r.tickEr++
		if len(r.first) < 3 {
			r.first = append(r.first, fmt.Sprintf("%s: %v", k, err))
		}
	} else {
		_ = r.kinds[k].RecordValue(us)
		_ = r.tick.RecordValue(us)
	}
	r.mu.Unlock()
}

// Run runs one workload: load inserts every record once; the others run
// for the warmup, then for the duration, drawing records by d. progress,
// if not nil, is called once per interval from one goroutine.
func (r *Runner) Run(ctx context.Context, w Workload, d Distribution, progress func(Tick)) (Result, error) {
	cfg := r.cfg
	if w.Load {
		r.records.Store(0)
	}
	chooser := w.Chooser(d, cfg.Records)
	recs := make([]*recorder, cfg.Clients)
	for i := range recs {
		recs[i] = newRecorder()
	}
	var (
		measuring atomic.Bool
		stop      atomic.Bool
		opsDone   atomic.Int64
		loadNext  atomic.Int64
		wg        sync.WaitGroup
	)
	if w.Load || cfg.Warmup <= 0 {
		measuring.Store(true)
	}
	for c := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(cfg.Seed, uint64(c)+1))
			value := make([]byte, cfg.ValueSize)
			for i := range value {
				value[i] = byte(rnd.UintN(256))
			}
			for !stop.Load() && ctx.Err() == nil {
				if opsDone.Add(1) > int64(cfg.MaxOps) {
					return
				}
				binary.LittleEndian.PutUint64(value[:min(8, len(value))], rnd.Uint64()) // every write differs
				var kind Kind
				var key []byte
				if w.Load {
					i := loadNext.Add(1) - 1
					if i >= int64(cfg.Records) {
						return
					}
					kind, key = OpInsert, Key(int(i))
				} else {
					kind = w.Pick(rnd)
					if kind == OpInsert {
						key = Key(int(r.records.Add(1) - 1))
					} else {
						key = Key(chooser.Next(rnd, int(r.records.Load())))
					}
				}
				start := time.Now()
				err := r.do(ctx, kind, key, value)
				if kind == OpInsert && w.Load && err == nil {
					r.records.Add(1)
				}
				if measuring.Load() && !(ctx.Err() != nil && errors.Is(err, ctx.Err())) {
					recs[c].record(kind, time.Since(start), err)
				}
			}
		}()
	}

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	res := Result{Workload: w.Name, Distribution: d, Clients: cfg.Clients, ValueSize: cfg.ValueSize}
	if w.Load {
		res.Distribution = ""
	}
	// Measuring begins when the warmup ends and, but for load, ends after
	// the duration; the ticker only reports.
	began := time.Now()
	measureFrom := began
	warm := time.NewTimer(cfg.Warmup)
	defer warm.Stop()
	if measuring.Load() {
		warm.Stop()
	}
	var endC <-chan time.Time
	if !w.Load {
		end := time.NewTimer(cfg.Warmup + cfg.Duration)
		defer end.Stop()
		endC = end.C
	}
	ticker := time.NewTicker(cfg.Interval)
	defer ticker.Stop()
	var totalOps, totalErrs int64
	lastTick := measureFrom
	addTick := func(now time.Time) Tick {
		t := collectTick(recs, now.Sub(lastTick))
		lastTick = now
		totalOps += t.Ops
		totalErrs += t.Errors
		t.Elapsed, t.TotalOps, t.TotalErrors = now.Sub(measureFrom), totalOps, totalErrs
		t.WorkloadName = w.Name
		if !w.Load {
			t.MeasureDuration = cfg.Duration
		}
		return t
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		case <-ctx.Done():
			stop.Store(true)
			<-done
			finished = true
		case now := <-warm.C:
			measuring.Store(true)
			measureFrom, lastTick = now, now
			ticker.Reset(cfg.Interval)
		case <-endC:
			// What is still in flight completes, and counts.
			stop.Store(true)
			<-done
			finished = true
		case now := <-ticker.C:
			if !measuring.Load() {
				if progress != nil {
					progress(Tick{Warmup: true, WorkloadName: w.Name, Elapsed: now.Sub(began)})
				}
				continue
			}
			t := addTick(now)
			res.Timeline = append(res.Timeline, t)
			if progress != nil {
				progress(t)
			}
		}
	}
	end := time.Now()
	// The last stretch is shorter than an interval: it counts in the
	// totals, and is drawn only if it is long enough to say something.
	if measuring.Load() {
		span := end.Sub(lastTick)
		if t := addTick(end); span >= cfg.Interval/2 && t.Ops+t.Errors > 0 {
			res.Timeline = append(res.Timeline, t)
		}
	}
	res.Elapsed = end.Sub(measureFrom)
	res.summarize(recs)
	if ctx.Err() != nil {
		return res, fmt.Errorf("workload %s interrupted: %w", w.Name, ctx.Err())
	}
	return res, nil
}

func (r *Runner) do(ctx context.Context, kind Kind, key, value []byte) error {
	switch kind {
	case OpRead:
		_, err := r.store.Read(ctx, key)
		return err
	case OpRMW:
		if _, err := r.store.Read(ctx, key); err != nil {
			return err
		}
	}
	return r.store.Write(ctx, key, value)
}

// collectTick takes and resets every client's interval histogram.
func collectTick(recs []*recorder, span time.Duration) Tick {
	h := newHist()
	var errs int64
	for _, rc := range recs {
		rc.mu.Lock()
		h.Merge(rc.tick)
		rc.tick.Reset()
		errs += rc.tickEr
		rc.tickEr = 0
		rc.mu.Unlock()
	}
	t := Tick{Ops: h.TotalCount(), Errors: errs}
	if span > 0 {
		t.OpsPerSec = float64(t.Ops) / span.Seconds()
	}
	t.P50, t.P99, t.P999 = us(h.ValueAtQuantile(50)), us(h.ValueAtQuantile(99)), us(h.ValueAtQuantile(99.9))
	return t
}

func us(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

func stats(name string, h *hdrhistogram.Histogram, errs int64) Stats {
	s := Stats{Kind: name, Ops: h.TotalCount(), Errors: errs,
		Mean: time.Duration(h.Mean() * float64(time.Microsecond)),
		P50:  us(h.ValueAtQuantile(50)), P99: us(h.ValueAtQuantile(99)), P999: us(h.ValueAtQuantile(99.9)), Max: us(h.Max())}
	return s
}

func (res *Result) summarize(recs []*recorder) {
	all := newHist()
	var allErrs int64
	for k := range numKinds {
		h := newHist()
		var errs int64
		for _, rc := range recs {
			h.Merge(rc.kinds[k])
			errs += rc.errs[k]
		}
		if h.TotalCount()+errs == 0 {
			continue
		}
		res.ByKind = append(res.ByKind, stats(k.String(), h, errs))
		all.Merge(h)
		allErrs += errs
	}
	res.All = stats("all", all, allErrs)
	if res.Elapsed > 0 {
		res.OpsPerSec = float64(res.All.Ops) / res.Elapsed.Seconds()
	}
	seen := map[string]bool{}
	for _, rc := range recs {
		for _, e := range rc.first {
			if !seen[e] && len(res.FirstErrors) < 5 {
				seen[e] = true
				res.FirstErrors = append(res.FirstErrors, e)
			}
		}
	}
}
