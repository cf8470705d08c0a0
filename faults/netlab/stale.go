package netlab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// CleanStale removes what labs of processes that no longer run left behind:
// their root veths, switch namespaces and host namespaces (their nft tables
// live in those namespaces and go with them). It recognises them by the
// "dynlab-" prefix and the process id in the name, and leaves alone the
// labs of running processes and the open labs of this one. Processes still
// running in a stale host namespace are not killed. Call it before New.
func CleanStale() error {
	t, err := findTools()
	if err != nil {
		return err
	}
	var errs []error

	// Root veths first, found by their alias: deleting one is immediate,
	// while a deleted namespace's devices are freed in the background.
	out, err := run("", t.ip, "-j", "link", "show")
	if err != nil {
		return fmt.Errorf("netlab: clean stale labs: list links: %w", err)
	}
	var links []struct {
		Ifname  string `json:"ifname"`
		Ifalias string `json:"ifalias"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		return fmt.Errorf("netlab: clean stale labs: parse the output of ip -j link show: %w", err)
	}
	for _, l := range links {
		if o, ok := parseID(l.Ifalias); ok && isStale(o) {
			if _, err := run("", t.ip, "link", "del", "dev", l.Ifname); err != nil && !isGone(err) {
				errs = append(errs, fmt.Errorf("remove the root veth %s of dead lab %s: %w", l.Ifname, l.Ifalias, err))
			}
		}
	}

	out, err = run("", t.ip, "netns", "list")
	if err != nil {
		return fmt.Errorf("netlab: clean stale labs: list namespaces: %w", err)
	}
	var switches, hosts []string
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		ns := f[0]
		i := strings.LastIndexByte(ns, '-')
		if i < 0 {
			continue
		}
		o, ok := parseID(ns[:i])
		if !ok || !isStale(o) {
			continue
		}
		switch role := ns[i+1:]; {
		case role == "sw":
			switches = append(switches, ns)
		case len(role) > 1 && role[0] == 'h' && isDigits(role[1:]):
			hosts = append(hosts, ns)
		}
	}
	// Switches first: a switch has no processes, so it goes at once with
	// the host ends of its links, and a host namespace that lingers because
	// something still runs in it is left without a network.
	for _, ns := range append(switches, hosts...) {
		if _, err := run("", t.ip, "netns", "del", ns); err != nil && !isGone(err) {
			errs = append(errs, fmt.Errorf("remove namespace %s of a dead lab: %w", ns, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("netlab: clean stale labs: %w", err)
	}
	return nil
}

// live holds the labs of this process that are not closed. A lab id with
// this process's pid that is not here was left by an earlier process that
// had the same pid, which CleanStale must remove although the pid runs.
var live = struct {
	sync.Mutex
	m map[owner]bool
}{m: map[owner]bool{}}

func setLive(o owner, on bool) {
	live.Lock()
	defer live.Unlock()
	if on {
		live.m[o] = true
	} else {
		delete(live.m, o)
	}
}

func isLive(o owner) bool {
	live.Lock()
	defer live.Unlock()
	return live.m[o]
}

// parseID reads a lab id, "dynlab-<name>-<pid>-<seq>". Anything else,
// including names of other programs that happen to share the prefix, is
// not a lab.
func parseID(id string) (owner, bool) {
	rest, ok := strings.CutPrefix(id, namePrefix)
	if !ok {
		return owner{}, false
	}
	f := strings.Split(rest, "-")
	if len(f) != 3 || !validName.MatchString(f[0]) || !isDigits(f[1]) || !isDigits(f[2]) {
		return owner{}, false
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil || pid <= 0 {
		return owner{}, false
	}
	seq, err := strconv.ParseUint(f[2], 10, 64)
	if err != nil {
		return owner{}, false
	}
	return owner{pid: pid, seq: seq}, true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isStale reports whether the lab o no longer has a process behind it. A
// lab with this process's pid that this process does not run is a
// predecessor's: pids are reused.
func isStale(o owner) bool {
	if o.pid == os.Getpid() {
		return !isLive(o)
	}
	return !running(o.pid)
}

// running reports whether a process with that id exists and has not
// exited: a killed process can stay a zombie for a while until it is
// reaped, and its labs are as dead as it is. A process id reused by an
// unrelated program keeps a stale lab until that program ends; it is left
// rather than risk tearing down a live lab.
func running(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no procfs to ask: trust the signal check
	}
	// The state follows the command name, which is in parentheses and may
	// itself hold spaces and parentheses.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}
