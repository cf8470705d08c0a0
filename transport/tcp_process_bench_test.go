//go:build linux

package transport

import (
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// The same measurements as BenchmarkTCPSend and BenchmarkTCPRequest64,
// with the receiving engine in a node process of its own, as in
// production. The rates include the other process's work; cpu-ns counts
// this process only.

func startBenchSink(b *testing.B) (*TCP, *actor.Engine, *actor.PID) {
	tr, e := newTestNode(b, TCPConfig{Cluster: procCluster})
	h := startHelper(b, "sink", "sink", "127.0.0.1:0", 10*time.Minute)
	pid := actor.NewPID(h.addr, sinkPID)
	if _, err := e.Request(pid, &messages.Ping{}, 5*time.Second).Result(); err != nil {
		b.Fatal(err)
	}
	return tr, e, pid
}

func BenchmarkTCPSendProcess(b *testing.B) {
	tr, e, pid := startBenchSink(b)
	count := func() uint64 {
		res, err := e.Request(pid, &messages.Ping{}, 5*time.Second).Result()
		if err != nil {
			b.Fatal(err)
		}
		return res.(*messages.Pong).Seq
	}
	base := count()
	msg := &messages.Blob{Data: make([]byte, 100)}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := range b.N {
		msg.Seq = uint64(i)
		e.Send(pid, msg)
	}
	st := tr.Stats()
	lost := st.DroppedQueueFull + st.DroppedPeerDown
	deadline := time.Now().Add(60 * time.Second)
	got := count() - base
	for got+lost < uint64(b.N) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		got = count() - base
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(got)/el.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "sender-cpu-ns/msg")
	b.ReportMetric(float64(st.DroppedQueueFull), "dropped-full")
	b.ReportMetric(float64(st.DroppedPeerDown), "dropped-down")
}

func BenchmarkTCPRequest64Process(b *testing.B) {
	_, e, pid := startBenchSink(b)
	request64(b, e, pid)
}
