package kv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/dynamokv/dynamo/client"
)

// Mix is a workload: which share of the operations are reads.
type Mix struct {
	Name       string
	GetPercent int
}

// The workloads, in the order they run.
var (
	Mixed   = Mix{Name: "50% get / 50% put", GetPercent: 50}
	PutOnly = Mix{Name: "put only", GetPercent: 0}
	GetOnly = Mix{Name: "get only", GetPercent: 100}
)

// Config is the load a run applies.
type Config struct {
	Clients, Keys, ValueSize int
	Warmup, Duration         time.Duration
}

// maxOpsPerClient bounds a client's loop by count as well as by time.
const maxOpsPerClient = 100_000_000

// Keyspace holds the keys and, per key, the context of the last reply any
// client got for it: the next writer of the key sends it, as an
// application that reads before it writes would.
type Keyspace struct {
	keys   [][]byte
	shards [64]ctxShard
}

// ctxShard is one lock's worth of the context map, so that 64 clients
// rarely wait on one another.
type ctxShard struct {
	mu  sync.Mutex
	ctx map[int]string
}

// NewKeyspace makes n keys of 16 bytes.
func NewKeyspace(n int) *Keyspace {
	ks := &Keyspace{keys: make([][]byte, n)}
	for i := range ks.keys {
		ks.keys[i] = fmt.Appendf(nil, "key-%012d", i)
	}
	for i := range ks.shards {
		ks.shards[i].ctx = make(map[int]string, n/len(ks.shards)+1)
	}
	return ks
}

func (ks *Keyspace) context(k int) string {
	s := &ks.shards[k%len(ks.shards)]
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx[k]
}

func (ks *Keyspace) setContext(k int, c string) {
	s := &ks.shards[k%len(ks.shards)]
	s.mu.Lock()
	s.ctx[k] = c
	s.mu.Unlock()
}

// Result is what one run measured. Only operations started inside the
// measured window count.
type Result struct {
	Mode, Workload string
	Ops            int64 // successful operations
	Elapsed        time.Duration
	Latency        *hdrhistogram.Histogram // µs, successful operations
	Reads          int64                   // successful gets
	SiblingReads   int64                   // gets that returned more than one value
	Errors         map[string]int64        // by kind
	FirstError     map[string]string       // an example message per kind
	CPU            CPUSample               // spent during the measured window
}

// OpsPerSec is the throughput of successful operations.
func (r *Result) OpsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// perOp divides a CPU time by the successful operations.
func (r *Result) perOp(d time.Duration) float64 {
	if r.Ops == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(r.Ops)
}

// ServerCPUPerOp is the node processes' CPU per operation, in µs.
func (r *Result) ServerCPUPerOp() float64 { return r.perOp(r.CPU.Nodes) }

// ClientCPUPerOp is this process's CPU per operation, in µs.
func (r *Result) ClientCPUPerOp() float64 { return r.perOp(r.CPU.Self) }

// ErrorCount is the number of failed operations of every kind.
func (r *Result) ErrorCount() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// Percentile returns the latency at q (0-100) in milliseconds.
func (r *Result) Percentile(q float64) float64 {
	return float64(r.Latency.ValueAtQuantile(q)) / 1000
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }

// clientStats is one client goroutine's share of a Result.
type clientStats struct {
	hist                 *hdrhistogram.Histogram
	ops, reads, siblings int64
	errors               map[string]int64
	first                map[string]string
}

// Preload writes every key once, from clients goroutines, so that reads
// find values and writes carry contexts from the start.
func Preload(ctx context.Context, c *client.Client, ks *Keyspace, clients, valueSize int) error {
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for g := 0; g < clients; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			value := make([]byte, valueSize)
			for ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= len(ks.keys) {
					return
				}
				nc, err := c.Put(ctx, ks.keys[k], value, client.PutOptions{Context: ks.context(k)})
				if err != nil {
					if failed.Add(1) == 1 {
						firstErr.Store(err)
					}
					continue
				}
				ks.setContext(k, nc)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	// A few failures leave a few keys unwritten, which the runs tolerate;
	// many mean the cluster is not healthy.
	if n := failed.Load(); n*1000 > int64(len(ks.keys)) {
		return fmt.Errorf("preload: %d of %d puts failed; first: %v", n, len(ks.keys), firstErr.Load())
	}
	return nil
}

// Run applies mix through c for cfg.Warmup and then cfg.Duration, and
// measures the second part. pids are the node processes whose CPU is
// counted.
func Run(ctx context.Context, c *client.Client, ks *Keyspace, mix Mix, cfg Config, pids []int) (*Result, error) {
	start := time.Now().Add(cfg.Warmup)
	end := start.Add(cfg.Duration)
	stats := make([]*clientStats, cfg.Clients)
	var wg sync.WaitGroup
	for g := range stats {
		st := &clientStats{hist: newHist(), errors: map[string]int64{}, first: map[string]string{}}
		stats[g] = st
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			runClient(ctx, c, ks, mix, cfg.ValueSize, seed, start, end, st)
		}(uint64(g))
	}

	// The CPU counters are read at the start of the window and after the
	// last operation, so the warm-up is not charged to the measured ops.
	var before CPUSample
	var beforeErr error
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		select {
		case <-time.After(time.Until(start)):
			before, beforeErr = SampleCPU(pids)
		case <-ctx.Done():
			beforeErr = ctx.Err()
		}
	}()
	wg.Wait()
	<-sampled
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	after, err := SampleCPU(pids)
	if err != nil || beforeErr != nil {
		return nil, fmt.Errorf("read CPU times: %w", errors.Join(err, beforeErr))
	}

	r := &Result{Workload: mix.Name, Elapsed: elapsed, Latency: newHist(), CPU: after.Sub(before),
		Errors: map[string]int64{}, FirstError: map[string]string{}}
	for _, st := range stats {
		r.Latency.Merge(st.hist)
		r.Ops += st.ops
		r.Reads += st.reads
		r.SiblingReads += st.siblings
		for k, v := range st.errors {
			r.Errors[k] += v
			if _, ok := r.FirstError[k]; !ok {
				r.FirstError[k] = st.first[k]
			}
		}
	}
	return r, nil
}

// runClient is one application thread: one request at a time until end.
func runClient(ctx context.Context, c *client.Client, ks *Keyspace, mix Mix, valueSize int,
	seed uint64, start, end time.Time, st *clientStats) {
	rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
	value := make([]byte, valueSize)
	for i := range value {
		value[i] = byte(rng.Uint32())
	}
	for i := 0; i < maxOpsPerClient && ctx.Err() == nil; i++ {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		k := rng.IntN(len(ks.keys))
		var err error
		var siblings bool
		isGet := rng.IntN(100) < mix.GetPercent
		if isGet {
			var res client.Result
			res, err = c.Get(ctx, ks.keys[k], client.GetOptions{})
			if err == nil {
				ks.setContext(k, res.Context)
				siblings = len(res.Values) > 1
			}
		} else {
			if len(value) >= 8 { // every write a distinct value
				binary.LittleEndian.PutUint64(value, uint64(i))
			}
			var nc string
			nc, err = c.Put(ctx, ks.keys[k], value, client.PutOptions{Context: ks.context(k)})
			if err == nil {
				ks.setContext(k, nc)
			}
		}
		lat := time.Since(t0)
		if t0.Before(start) {
			continue // warm-up
		}
		if err != nil {
			kind := errKind(err)
			if st.errors[kind]++; st.errors[kind] == 1 {
				st.first[kind] = err.Error()
			}
			continue
		}
		st.ops++
		_ = st.hist.RecordValue(max(lat.Microseconds(), 1))
		if isGet {
			st.reads++
		}
		if siblings {
			st.siblings++
		}
	}
}

// errKind names the kind of a failed operation: the HTTP-style status a
// node answered, or why no answer came.
func errKind(err error) string {
	var ce *client.Error
	switch {
	case errors.As(err, &ce):
		return strconv.Itoa(ce.Status)
	case errors.Is(err, client.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "other"
}
