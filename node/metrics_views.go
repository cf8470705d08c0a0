package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// viewCollector exports, at each scrape, what the failure detector thinks
// of each peer and what the hint buffer holds for each home node.
type viewCollector struct {
	n                                 *Node
	suspected, stateFor, suspicions   *prometheus.Desc
	held, bytes, replayed, refused, x *prometheus.Desc
}

func newViewCollector(n *Node) *viewCollector {
	peer, home := []string{"peer"}, []string{"home"}
	return &viewCollector{n: n,
		suspected:  prometheus.NewDesc("dynamo_peer_suspected", "1 while this node's failure detector suspects the peer.", peer, nil),
		stateFor:   prometheus.NewDesc("dynamo_peer_state_seconds", "How long the detector's verdict on the peer has held.", peer, nil),
		suspicions: prometheus.NewDesc("dynamo_peer_suspicions_total", "Times the detector turned to suspect the peer.", peer, nil),
		held:       prometheus.NewDesc("dynamo_hints_held", "Hints held for the home node.", home, nil),
		bytes:      prometheus.NewDesc("dynamo_hints_bytes", "Bytes of hints held for the home node.", home, nil),
		replayed:   prometheus.NewDesc("dynamo_hints_replayed_total", "Hints handed over to the home node and acknowledged.", home, nil),
		refused:    prometheus.NewDesc("dynamo_hints_refused_total", "Hints refused: the home node's bounds were reached.", home, nil),
		x:          prometheus.NewDesc("dynamo_hints_expired_total", "Hints dropped past the hint window.", home, nil),
	}
}

func (c *viewCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.suspected, c.stateFor, c.suspicions, c.held, c.bytes, c.replayed, c.refused, c.x} {
		ch <- d
	}
}

func (c *viewCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	for id, p := range c.n.peers.Peers() {
		v := 0.0
		if p.Suspected {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.suspected, prometheus.GaugeValue, v, id)
		if !p.Since.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.stateFor, prometheus.GaugeValue, now.Sub(p.Since).Seconds(), id)
		}
		ch <- prometheus.MustNewConstMetric(c.suspicions, prometheus.CounterValue, float64(p.Suspicions), id)
	}
	for _, h := range c.n.hintView.Homes() {
		ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, float64(h.Held), h.Home)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(h.Bytes), h.Home)
		ch <- prometheus.MustNewConstMetric(c.replayed, prometheus.CounterValue, float64(h.Replayed), h.Home)
		ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(h.Refused), h.Home)
		ch <- prometheus.MustNewConstMetric(c.x, prometheus.CounterValue, float64(h.Expired), h.Home)
	}
}
