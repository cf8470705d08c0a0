package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// ticksPerSecond is the kernel's fixed unit for process and system CPU times.
const ticksPerSecond = 100

// cpuMeter measures how much CPU other processes took while a test ran. On
// a shared machine that is the main source of noise, so every run reports it.
type cpuMeter struct {
	pids        []int
	busy0, our0 uint64
	t0          time.Time
}

func startMeter(pids ...int) *cpuMeter {
	m := &cpuMeter{pids: pids, t0: time.Now()}
	m.busy0, m.our0 = machineBusy(), m.ours()
	return m
}

// foreign returns the CPUs other processes used on average since start
// (steal included), or -1 when unknown.
func (m *cpuMeter) foreign() float64 {
	busy, ours := machineBusy(), m.ours()
	if busy == 0 || busy < m.busy0 {
		return -1
	}
	other := float64(busy-m.busy0) - float64(ours-m.our0)
	return max(other, 0) / ticksPerSecond / time.Since(m.t0).Seconds()
}

// machineBusy sums the non-idle ticks of all CPUs.
func machineBusy() uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	var busy uint64
	// user nice system idle iowait irq softirq steal
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		if i < len(f) {
			v, _ := strconv.ParseUint(f[i], 10, 64)
			busy += v
		}
	}
	return busy
}

func (m *cpuMeter) ours() uint64 {
	var sum uint64
	for _, pid := range m.pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		// The command name may hold spaces: fields count from its end.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 12 { // utime and stime are fields 14 and 15 of the line
			u, _ := strconv.ParseUint(f[11], 10, 64)
			s, _ := strconv.ParseUint(f[12], 10, 64)
			sum += u + s
		}
	}
	return sum
}
