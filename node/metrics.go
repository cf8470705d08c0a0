package node

import (
	"net/http"
	"regexp"
	"strconv"

	"github.com/dynamokv/dynamo/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the node's Prometheus metrics, on its own registry so that
// several nodes in one test process do not collide.
type metrics struct {
	reg      *prometheus.Registry
	panics   *prometheus.CounterVec
	requests *requestMetrics
}

func newMetrics(n *Node) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.panics = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dynamo_actor_panics_total",
		Help: "Panics recovered in actors, by actor kind and message type.",
	}, []string{"kind", "message"})
	// Besides the usual Go metrics: goroutines created (hollywood starts one
	// each time an idle actor gets a message, so per operation it counts
	// actor wake-ups) and objects allocated, which the benchmarks divide by
	// operations.
	goMetrics := collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
		collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/sched/goroutines-created:goroutines$|^/gc/heap/allocs:(objects|bytes)$`)}))
	m.reg.MustRegister(m.panics, goMetrics, newViewCollector(n))
	m.requests = newRequestMetrics(m.reg)
	counter := func(name, help string, get func() uint64) {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(get()) }))
	}
	counter("dynamo_transport_sent_total", "Frames written to peers.", func() uint64 { return n.transport.Stats().Sent })
	counter("dynamo_transport_received_total", "Frames received from peers.", func() uint64 { return n.transport.Stats().Received })
	counter("dynamo_transport_sent_bytes_total", "Bytes written to peers (native clients included), length prefixes included.",
		func() uint64 { return n.transport.Stats().BytesSent })
	counter("dynamo_transport_received_bytes_total", "Bytes of frames read from peers (native clients included).",
		func() uint64 { return n.transport.Stats().BytesReceived })
	counter("dynamo_transport_dropped_queue_full_total", "Frames dropped because a peer's queue was full.",
		func() uint64 { return n.transport.Stats().DroppedQueueFull })
	counter("dynamo_transport_dropped_peer_down_total", "Frames dropped because their peer was down.",
		func() uint64 { return n.transport.Stats().DroppedPeerDown })
	counter("dynamo_transport_refused_too_large_total", "Frames refused at the sender for their size.",
		func() uint64 { return n.transport.Stats().RefusedTooLarge })
	counter("dynamo_vnode_quarantined_total", "Stored sibling sets found corrupt and moved aside.",
		func() uint64 { return n.vnodeCounters.Quarantined.Load() })
	counter("dynamo_vnode_refused_too_large_total", "Replica writes refused because the merged siblings would outgrow one message.",
		func() uint64 { return n.vnodeCounters.RefusedTooLarge.Load() })
	counter("dynamo_vnode_reaped_tombstones_total", "Deleted keys removed from the store once every replica held their tombstones past the grace.",
		func() uint64 { return n.vnodeCounters.Reaped.Load() })
	counter("dynamo_antientropy_exchanges_total", "Anti-entropy exchanges of a partition with a peer.",
		func() uint64 { return n.syncView.Exchanges.Load() })
	counter("dynamo_antientropy_keys_repaired_total", "Keys whose set an exchange changed, here or on the peer.",
		func() uint64 { return n.syncView.KeysRepaired.Load() })
	counter("dynamo_antientropy_bytes_total", "Bytes of hashes, keys and sets exchanges carried.",
		func() uint64 { return n.syncView.Bytes.Load() })
	counter("dynamo_merkle_tree_builds_total", "Merkle trees built from stored keys (at start, or after a write whose outcome was unknown).",
		func() uint64 { return n.vnodeCounters.TreeBuilds.Load() })
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "dynamo_merkle_tree_build_seconds_total",
		Help: "Time spent building Merkle trees from the store."},
		func() float64 { return float64(n.vnodeCounters.TreeBuildNanos.Load()) / 1e9 }))
	counter("dynamo_transport_bad_frames_total", "Received frames dropped as oversized or undecodable.",
		func() uint64 { return n.transport.Stats().BadFrames })
	counter("dynamo_partitions_dropped_total", "Partitions handed over to their new owners and dropped here.",
		func() uint64 { return n.partView.Dropped.Load() })
	gauge := func(name, help string, get func() float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, get))
	}
	gauge("dynamo_vnodes", "Partitions this node runs a vnode for (owned, and on their way out).",
		func() float64 { return float64(len(n.partView.Held())) })
	gauge("dynamo_partitions_filling", "Vnodes new to their partition, not filled yet: their reads do not count.",
		func() float64 { return float64(n.vnodeCounters.Filling.Load()) })
	gauge("dynamo_handoffs", "Partitions this node is handing over to their new owners.",
		func() float64 { return float64(len(n.partView.Handoffs())) })
	gauge("dynamo_membership_version", "Version of the membership this node routes by.",
		func() float64 { return float64(n.ringView.Version()) })
	gauge("dynamo_store_keys", "Keys the partitions held here store (counted every few seconds).",
		func() float64 { k, _, _ := n.countStore(); return float64(k) })
	gauge("dynamo_store_bytes", "Bytes of keys and sibling sets the partitions held here store (counted every few seconds).",
		func() float64 { _, b, _ := n.countStore(); return float64(b) })
	m.reg.MustRegister(vnodeStoreCollector{n})
	if ls, ok := n.store.(store.LogStatser); ok {
		gauge("dynamo_store_segments", "Segment files of the log store.",
			func() float64 { return float64(ls.LogStats().Segments) })
		gauge("dynamo_store_disk_bytes", "Bytes of records in the log store's segments, live and dead.",
			func() float64 { return float64(ls.LogStats().DiskBytes) })
		gauge("dynamo_store_live_bytes", "Bytes of the log store's records its index still points at; a merge reclaims the rest.",
			func() float64 { return float64(ls.LogStats().LiveBytes) })
		counter("dynamo_store_merges_total", "Merges of the log store's segments.",
			func() uint64 { return uint64(ls.LogStats().Merges) })
		counter("dynamo_store_merge_failures_total", "Merges of the log store's segments that failed (retried after 10 s).",
			func() uint64 { return uint64(ls.LogStats().MergeFailures) })
		counter("dynamo_store_appended_bytes_total", "Bytes of records writes appended to the log store.",
			func() uint64 { return uint64(ls.LogStats().AppendedBytes) })
		counter("dynamo_store_merge_copied_bytes_total", "Bytes of live records merges copied; against the appended bytes, what merging adds to each byte written.",
			func() uint64 { return uint64(ls.LogStats().CopiedBytes) })
	}
	return m
}

// vnodeStoreCollector reports each vnode's store size, by partition.
type vnodeStoreCollector struct{ n *Node }

var (
	vnodeKeysDesc = prometheus.NewDesc("dynamo_vnode_keys",
		"Keys the vnode of each partition held here stores (counted every few seconds).", []string{"partition"}, nil)
	vnodeBytesDesc = prometheus.NewDesc("dynamo_vnode_bytes",
		"Bytes of keys and sibling sets the vnode of each partition held here stores (counted every few seconds).", []string{"partition"}, nil)
)

func (c vnodeStoreCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- vnodeKeysDesc
	ch <- vnodeBytesDesc
}

func (c vnodeStoreCollector) Collect(ch chan<- prometheus.Metric) {
	for p, pc := range c.n.countByPartition() {
		label := strconv.FormatUint(uint64(p), 10)
		ch <- prometheus.MustNewConstMetric(vnodeKeysDesc, prometheus.GaugeValue, float64(pc.keys), label)
		ch <- prometheus.MustNewConstMetric(vnodeBytesDesc, prometheus.GaugeValue, float64(pc.bytes), label)
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
