package node

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/dynamokv/dynamo/actors"
	"github.com/dynamokv/dynamo/api"
	"github.com/prometheus/client_golang/prometheus"
)

// requestMetrics counts what the coordinators answer, for /metrics
// (counters and histograms) and for /status and the status page (rates
// and p99 over the last seconds).
type requestMetrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	quorum    *prometheus.CounterVec
	siblings  prometheus.Histogram
	repairs   prometheus.Counter
	hedges    prometheus.Counter
	forwarded prometheus.Counter

	mu     sync.Mutex
	window map[string]*opWindow
}

// rateWindow is how far back /status's request rates and p99 look.
const rateWindow = 10 * time.Second

// opWindow holds one operation's latencies over the current window and
// the one before it: rates and percentiles are read from the last full
// window together with the current one.
type opWindow struct {
	cur, prev           *hdrhistogram.Histogram
	curErrs, prevErrs   int64
	curStart, prevStart time.Time
}

func newRequestMetrics(reg *prometheus.Registry) *requestMetrics {
	ops := []string{"op"}
	m := &requestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dynamo_requests_total",
			Help: "Client requests answered by this node's coordinators, by operation and outcome " +
				"(ok, not_found, bad_request, too_large, unavailable: nothing stored, unknown: a write that may be stored)."},
			[]string{"op", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dynamo_request_duration_seconds",
			Help:    "Time from a request's arrival at its coordinator to its answer, by operation.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5}}, ops),
		quorum: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dynamo_quorum_failures_total",
			Help: "Requests answered 503 because too few replicas answered (R, W, PR or PW not met), by operation."}, ops),
		siblings: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "dynamo_read_siblings",
			Help: "Live values returned by a successful read (1: no conflict).", Buckets: []float64{1, 2, 3, 4, 6, 8, 16, 32}}),
		repairs: prometheus.NewCounter(prometheus.CounterOpts{Name: "dynamo_read_repairs_total",
			Help: "Replica writes sent by reads to replicas that answered stale."}),
		hedges: prometheus.NewCounter(prometheus.CounterOpts{Name: "dynamo_read_hedges_total",
			Help: "Reads whose first R replicas were slower than --read-hedge, so that the others were asked too."}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{Name: "dynamo_forwarded_requests_total",
			Help: "Puts this node sent on to a node among their targets."}),
		window: map[string]*opWindow{},
	}
	reg.MustRegister(m.requests, m.latency, m.quorum, m.siblings, m.repairs, m.hedges, m.forwarded)
	return m
}

var _ actors.RequestMetrics = (*requestMetrics)(nil)

// Answered implements actors.RequestMetrics.
func (m *requestMetrics) Answered(op, outcome string, took time.Duration, siblings int) {
	m.requests.WithLabelValues(op, outcome).Inc()
	m.latency.WithLabelValues(op).Observe(took.Seconds())
	failed := outcome == actors.OutcomeUnavailable || outcome == actors.OutcomeUnknown
	if failed {
		m.quorum.WithLabelValues(op).Inc()
	}
	if op == "get" && outcome == actors.OutcomeOK {
		m.siblings.Observe(float64(siblings))
	}
	m.mu.Lock()
	w := m.windowOf(op, time.Now())
	_ = w.cur.RecordValue(max(took.Microseconds(), 1))
	if failed {
		w.curErrs++
	}
	m.mu.Unlock()
}

// ReadRepair implements actors.RequestMetrics.
func (m *requestMetrics) ReadRepair() { m.repairs.Inc() }

// ReadHedged implements actors.RequestMetrics.
func (m *requestMetrics) ReadHedged() { m.hedges.Inc() }

// Forwarded implements actors.RequestMetrics.
func (m *requestMetrics) Forwarded() { m.forwarded.Inc() }

// windowOf returns op's window, rotated to now. m.mu is held.
func (m *requestMetrics) windowOf(op string, now time.Time) *opWindow {
	w := m.window[op]
	if w == nil {
		w = &opWindow{cur: newLatencyHistogram(), prev: newLatencyHistogram(), curStart: now, prevStart: now}
		m.window[op] = w
	}
	if now.Sub(w.curStart) >= rateWindow {
		w.prev, w.cur = w.cur, w.prev
		w.cur.Reset()
		w.prevErrs, w.curErrs = w.curErrs, 0
		w.prevStart = w.curStart
		if now.Sub(w.curStart) >= 2*rateWindow { // idle for a whole window
			w.prev.Reset()
			w.prevErrs = 0
			w.prevStart = now.Add(-rateWindow)
		}
		w.curStart = now
	}
	return w
}

func newLatencyHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 2)
}

// rates returns each operation's rate and p99 over the last window or so.
func (m *requestMetrics) rates() []api.RequestRate {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	var out []api.RequestRate
	for _, op := range []string{"get", "put", "delete"} {
		if m.window[op] == nil {
			continue
		}
		w := m.windowOf(op, now)
		h := newLatencyHistogram()
		h.Merge(w.prev)
		h.Merge(w.cur)
		secs := now.Sub(w.prevStart).Seconds()
		if secs <= 0 {
			continue
		}
		out = append(out, api.RequestRate{Op: op, PerSecond: float64(h.TotalCount()) / secs,
			FailedPerSecond: float64(w.prevErrs+w.curErrs) / secs,
			P50Ms:           float64(h.ValueAtQuantile(50)) / 1000, P99Ms: float64(h.ValueAtQuantile(99)) / 1000})
	}
	return out
}
