//go:build unix

package transport

import (
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/dynamokv/dynamo/messages"
)

// The benchmarks run both engines in this process: they share its cores,
// so CPU time per message is reported next to the rate, which is steadier
// on a busy machine.

// cpuTime is the process's user plus system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkTCPSend(b *testing.B) {
	trA, ea := newTestNode(b, TCPConfig{})
	_, eb := newTestNode(b, TCPConfig{})
	var got atomic.Int64
	pid := spawnCounter(eb, &got)
	msg := &messages.Blob{Data: make([]byte, 100)}
	ea.Send(pid, msg) // connect before timing
	for got.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	got.Store(0)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := range b.N {
		msg.Seq = uint64(i)
		ea.Send(pid, msg)
	}
	st := trA.Stats()
	lost := int64(st.DroppedQueueFull + st.DroppedPeerDown)
	deadline := time.Now().Add(30 * time.Second)
	for got.Load()+lost < int64(b.N) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(got.Load())/el.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/msg")
	b.ReportMetric(float64(st.DroppedQueueFull), "dropped-full")
	b.ReportMetric(float64(st.DroppedPeerDown), "dropped-down")
}

func BenchmarkTCPRequest64(b *testing.B) {
	_, ea := newTestNode(b, TCPConfig{})
	_, eb := newTestNode(b, TCPConfig{})
	echo := spawnEcho(eb)
	if _, err := ea.Request(echo, &messages.Echo{}, 2*time.Second).Result(); err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	request64(b, ea, echo)
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/req")
}

// request64 runs b.N echo requests from e to pid with 64 in flight (one
// goroutine each, blocking on Result: fine outside actors) and reports
// requests per second.
func request64(b *testing.B, e *actor.Engine, pid *actor.PID) {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := &messages.Echo{Data: make([]byte, 100)}
			for next.Add(1) <= int64(b.N) {
				if _, err := e.Request(pid, msg, 5*time.Second).Result(); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
}
