package kv

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CPUSample is the CPU time consumed so far by the node processes, by this
// process (the clients), and by the whole machine, read from /proc.
type CPUSample struct {
	Nodes, Self, Machine time.Duration
}

// Sub returns the CPU spent between o and s.
func (s CPUSample) Sub(o CPUSample) CPUSample {
	return CPUSample{Nodes: s.Nodes - o.Nodes, Self: s.Self - o.Self, Machine: s.Machine - o.Machine}
}

// Others is the CPU the rest of the machine used: a busy neighbour makes
// every other figure of the run pessimistic, so it is reported.
func (s CPUSample) Others() time.Duration {
	return max(s.Machine-s.Nodes-s.Self, 0)
}

// SampleCPU reads the CPU time of the given processes, of this process and
// of the machine.
func SampleCPU(pids []int) (CPUSample, error) {
	var s CPUSample
	for _, pid := range pids {
		d, err := procCPU(strconv.Itoa(pid))
		if err != nil {
			return s, err
		}
		s.Nodes += d
	}
	d, err := procCPU("self")
	if err != nil {
		return s, err
	}
	s.Self = d
	s.Machine, err = machineBusy()
	return s, err
}

// procCPU returns utime+stime of /proc/<pid>/stat.
func procCPU(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: fields are counted
	// after its last ')'. utime and stime are fields 14 and 15, that is the
	// 12th and 13th after the name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%s/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: %d fields", pid, len(f))
	}
	var ticks uint64
	for _, x := range f[11:13] {
		v, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%s/stat: %w", pid, err)
		}
		ticks += v
	}
	return ticksToDuration(ticks), nil
}

// machineBusy returns the non-idle CPU time of all cores since boot.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var ticks uint64
	// user nice system idle iowait irq softirq steal: all but idle and iowait.
	for i, x := range f[1:min(len(f), 9)] {
		if i == 3 || i == 4 {
			continue
		}
		v, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		ticks += v
	}
	return ticksToDuration(ticks), nil
}

func ticksToDuration(ticks uint64) time.Duration {
	return time.Duration(ticks) * time.Second / time.Duration(clockTicks())
}

// clockTicks is sysconf(_SC_CLK_TCK), which the kernel also hands every
// process in its auxiliary vector (AT_CLKTCK), so no cgo is needed; 100 if
// that cannot be read.
var clockTicks = sync.OnceValue(func() uint64 {
	const atClkTck = 17
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil || strconv.IntSize != 64 { // pairs of 64-bit words below
		return 100
	}
	for i := 0; i+16 <= len(b); i += 16 {
		k, v := binary.NativeEndian.Uint64(b[i:]), binary.NativeEndian.Uint64(b[i+8:])
		if k == atClkTck && v > 0 {
			return v
		}
		if k == 0 {
			break
		}
	}
	return 100
})
