package netlab

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestConfigIsChecked(t *testing.T) {
	for _, c := range []Config{
		{Name: "", Hosts: 3},
		{Name: "Upper", Hosts: 3},
		{Name: "a-b", Hosts: 3},
		{Name: "ninechars", Hosts: 3},
		{Name: "ok", Hosts: 0},
		{Name: "ok", Hosts: MaxHosts + 1},
	} {
		l, err := New(c)
		if err == nil {
			l.Close()
			t.Errorf("New(%+v) succeeded, want an error", c)
			continue
		}
		if errors.Is(err, ErrUnsupported) {
			t.Errorf("New(%+v) = %v, want a config error before any machine check", c, err)
		}
	}
}

func TestAddressing(t *testing.T) {
	l := newTestLab(t, "addr", 3)
	if l.Hosts() != 3 {
		t.Fatalf("Hosts() = %d, want 3", l.Hosts())
	}
	gw := netip.MustParseAddr(l.GatewayIP())
	if !netip.MustParsePrefix("10.0.0.0/8").Contains(gw) {
		t.Errorf("gateway %s is not in 10.0.0.0/8", gw)
	}
	net24, _ := gw.Prefix(24)
	seen := map[string]bool{l.GatewayIP(): true}
	for i := range l.Hosts() {
		ip := l.HostIP(i)
		if !net24.Contains(netip.MustParseAddr(ip)) || seen[ip] {
			t.Errorf("host %d has address %s, want a fresh one in %s", i, ip, net24)
		}
		seen[ip] = true
		if ns := l.Namespace(i); !slices.Contains(namespaces(t, l.tools.ip), ns) || !strings.HasPrefix(ns, "dynlab-addr-") {
			t.Errorf("host %d namespace %q is not listed or not named after the lab", i, ns)
		}
	}
	used, err := usedPrefixes(l.tools.ip)
	if err != nil {
		t.Fatal(err)
	}
	if u, taken := overlaps(net24, used, l.veth); taken {
		t.Errorf("the lab's %s overlaps %s on %s of the root namespace", net24, u.prefix, u.dev)
	}
}

func TestLinkRules(t *testing.T) {
	l := newTestLab(t, "links", 3)
	e := startAgents(t, l)
	e.expect(t, "fresh lab: every host reaches every host, root and back", none)

	// Each step applies rules, checks what they block, heals and checks
	// that everything works again. A failed step still heals, so the next
	// one starts clean.
	step := func(name string, apply func() error, blocked func(from, to int) bool) {
		t.Run(name, func(t *testing.T) {
			t.Cleanup(func() {
				if err := l.Heal(); err != nil {
					t.Errorf("Heal: %v", err)
				}
			})
			if err := apply(); err != nil {
				t.Fatal(err)
			}
			e.expect(t, name, blocked)
			if err := l.Heal(); err != nil {
				t.Fatal(err)
			}
			e.expect(t, name+", healed", none)
		})
	}
	split := func(a, b int) bool { return (a == 0) != (b == 0) }
	step("partition [0] [1 2]", func() error { return l.Partition([]int{0}, []int{1, 2}) }, split)
	step("partition [0 1], host 2 in no group", func() error { return l.Partition([]int{0, 1}) },
		func(a, b int) bool { return a == 2 || b == 2 })
	// Host 1 can still dial host 0 and talk on that connection; host 0
	// cannot dial host 1.
	step("cut 0 -> 1", func() error { return l.Cut(0, 1) },
		func(a, b int) bool { return a == 0 && b == 1 })
	step("isolate 1", func() error { return l.Isolate(1) },
		func(a, b int) bool { return a == 1 || b == 1 })
	step("rules add up: cut 0 -> 1 then isolate 2", func() error {
		if err := l.Cut(0, 1); err != nil {
			return err
		}
		return l.Isolate(2)
	}, func(a, b int) bool { return a == 0 && b == 1 || a == 2 || b == 2 })
	step("loss 100% on 0", func() error { return l.Loss(0, 100) }, split)

	t.Run("loss 30% on 0", func(t *testing.T) {
		t.Cleanup(func() { _ = l.Heal() })
		if err := l.Loss(0, 30); err != nil {
			t.Fatal(err)
		}
		// A connect needs the SYN and the SYN-ACK, so about half of them
		// get through; none or all of 20 would take odds below 1e-5.
		const n = 20
		ok, err := e.connects(1, 0, n, false)
		if err != nil {
			t.Fatal(err)
		}
		if ok == 0 || ok == n {
			t.Errorf("%d of %d connects from host 1 to host 0 went through with 30%% loss, want some but not all", ok, n)
		}
		t.Logf("%d of %d connects went through", ok, n)
		if err := l.Heal(); err != nil {
			t.Fatal(err)
		}
		e.expect(t, "loss 30%, healed", none)
	})
}

func TestRulesShowWhatIsCut(t *testing.T) {
	l := newTestLab(t, "show", 3)
	pair := l.HostIP(0) + " . " + l.HostIP(1)
	if err := l.Partition([]int{0}, []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := l.Cut(2, 1); err != nil {
		t.Fatal(err)
	}
	rules, err := l.Rules()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{pair, "one-way cuts into host 1", "0=" + l.HostIP(0)} {
		if !strings.Contains(rules, want) {
			t.Errorf("Rules() lacks %q:\n%s", want, rules)
		}
	}
	if err := l.Heal(); err != nil {
		t.Fatal(err)
	}
	if rules, err = l.Rules(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rules, pair) || strings.Contains(rules, "one-way") {
		t.Errorf("Rules() after Heal still shows cuts:\n%s", rules)
	}
}

func TestBadArgumentsChangeNothing(t *testing.T) {
	l := newTestLab(t, "args", 3)
	before, err := l.Rules()
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"cut 0 -> 0":           l.Cut(0, 0),
		"cut 0 -> 3":           l.Cut(0, 3),
		"cut -1 -> 0":          l.Cut(-1, 0),
		"isolate 3":            l.Isolate(3),
		"loss 101%":            l.Loss(0, 101),
		"loss -1%":             l.Loss(0, -1),
		"partition [0] [0 1]":  l.Partition([]int{0}, []int{0, 1}),
		"partition [5]":        l.Partition([]int{5}),
		"partition [0] [1 -1]": l.Partition([]int{0}, []int{1, -1}),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	after, err := l.Rules()
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("rejected calls changed the rules:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestCloseRemovesEverythingButProcesses(t *testing.T) {
	l := newTestLab(t, "close", 2)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	node := startAgent(t, l, exe, 0, fmt.Sprintf("%s:%d", l.HostIP(0), listenPort)).cmd
	// Command execs, so the process started is the program itself.
	if got, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", node.Process.Pid)); err != nil || got != exe {
		t.Errorf("the process started by Command runs %q (%v), want %q", got, err, exe)
	}
	if !slices.Contains(links(t, l.tools.ip), l.veth) {
		t.Fatalf("root veth %s not listed by ip link while the lab runs", l.veth)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, l)
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.Heal(); err == nil {
		t.Error("Heal after Close succeeded, want an error")
	}
	if err := node.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the process running in host 0 did not survive Close: %v", err)
	}
}

func TestFailedSetupLeavesNothing(t *testing.T) {
	tl := requireTools(t)
	o := owner{pid: os.Getpid(), seq: labSeq.Add(1)}
	// Another namespace already has host 1's name, so New fails midway,
	// after the switch, the root veth and host 0 are made.
	blocker := fmt.Sprintf("%spartial-%d-%d-h1", namePrefix, o.pid, o.seq)
	cmdOut(t, tl.ip, "netns", "add", blocker)
	t.Cleanup(func() { cmdOut(t, tl.ip, "netns", "del", blocker) })

	l, err := newLab(Config{Name: "partial", Hosts: 3}, o)
	if err == nil {
		l.Close()
		t.Fatal("New succeeded although host 1's namespace name was taken")
	}
	if !strings.Contains(err.Error(), "host 1") || !strings.Contains(err.Error(), "File exists") {
		t.Errorf("error does not say which host failed and why: %v", err)
	}
	id := fmt.Sprintf("%spartial-%d-%d-", namePrefix, o.pid, o.seq)
	for _, ns := range namespaces(t, tl.ip) {
		if strings.HasPrefix(ns, id) && ns != blocker {
			t.Errorf("namespace %s left after the failed New", ns)
		}
	}
	if !slices.Contains(namespaces(t, tl.ip), blocker) {
		t.Errorf("the failed New removed namespace %s, which it did not make", blocker)
	}
	for alias, link := range rootVeths(t, tl.ip) {
		if strings.HasPrefix(alias+"-", id) {
			t.Errorf("root veth %s of %s left after the failed New", link, alias)
		}
	}
}

// deadPID returns the id of a process that has exited and been reaped.
func deadPID(t *testing.T, ipPath string) int {
	t.Helper()
	for range 5 {
		cmd := exec.Command(ipPath, "-V")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		if pid := cmd.Process.Pid; !running(pid) {
			return pid
		}
	}
	t.Fatal("could not find the id of a process that no longer runs")
	return 0
}

func TestCleanStaleRemovesLabsOfDeadProcesses(t *testing.T) {
	tl := requireTools(t)
	stale, err := newLab(Config{Name: "stale", Hosts: 2}, owner{pid: deadPID(t, tl.ip), seq: labSeq.Add(1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stale.Close() })
	// A lab of an earlier process that had this process's pid: built here,
	// then forgotten as if this process had never made it.
	mine := owner{pid: os.Getpid(), seq: labSeq.Add(1)}
	reused, err := newLab(Config{Name: "reused", Hosts: 1}, mine)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reused.Close() })
	setLive(mine, false)
	live := newTestLab(t, "live", 1)
	// A namespace of another program that merely shares the prefix.
	other := fmt.Sprintf("%snotalab-%d-sw", namePrefix, os.Getpid())
	cmdOut(t, tl.ip, "netns", "add", other)
	t.Cleanup(func() { cmdOut(t, tl.ip, "netns", "del", other) })

	if err := CleanStale(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, stale)
	assertGone(t, reused)
	nss := namespaces(t, tl.ip)
	if !slices.Contains(nss, live.sw) || !slices.Contains(nss, live.Namespace(0)) {
		t.Errorf("CleanStale removed namespaces of the live lab %s: %v", live.id, nss)
	}
	if !slices.Contains(links(t, tl.ip), live.veth) {
		t.Errorf("CleanStale removed the root veth %s of the live lab", live.veth)
	}
	if !slices.Contains(nss, other) {
		t.Errorf("CleanStale removed %s, which is no lab", other)
	}
	if err := stale.Close(); err != nil {
		t.Errorf("Close of a lab CleanStale already removed: %v", err)
	}
}

func TestFiftyHosts(t *testing.T) {
	l := newTestLab(t, "big", MaxHosts)
	e := startAgents(t, l)
	last := MaxHosts - 1
	for _, p := range [][2]int{{last, 0}, {0, last}, {root, last}, {last, root}} {
		if msg := e.probe(p[0], p[1], false); msg != "" {
			t.Error(msg)
		}
	}
	if err := l.Isolate(last); err != nil {
		t.Fatal(err)
	}
	if msg := e.probe(0, last, true); msg != "" {
		t.Error(msg)
	}
	if msg := e.probe(root, last, false); msg != "" {
		t.Error(msg)
	}
}
