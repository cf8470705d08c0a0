package netlab

import (
	"fmt"
	"slices"
	"strings"
)

// tableName names the lab's tables: a bridge-family one in the switch
// namespace and an ip-family one in each host namespace. Both namespaces
// belong to the lab alone, so the name cannot clash.
const tableName = "dynlab"

// The switch table drops packets between hosts. "cut" holds (source,
// destination) pairs that never pass; "loss" holds the random-drop rules,
// which Heal flushes. Chain names avoid nft keywords such as "fwd". Only
// IPv4 is matched, so ARP still flows and a healed link works at once.
const switchTable = `table bridge dynlab {
	set hosts { type ipv4_addr; elements = { %s } }
	set cut { type ipv4_addr . ipv4_addr; }
	chain loss { }
	chain links {
		type filter hook forward priority 0; policy accept;
		ip saddr . ip daddr @cut drop
		jump loss
	}
}
`

// The host table drops what a one-way cut forbids: packets from the hosts
// in "oneway" that open something (the original direction of a
// connection), while answers to connections this host opened (the reply
// direction) still pass.
const hostTable = `table ip dynlab {
	set oneway { type ipv4_addr; }
	chain inbound {
		type filter hook input priority 0; policy accept;
		ip saddr @oneway ct direction original drop
	}
}
`

// installRules loads the switch table and every host's table. The host
// tables are loaded now, empty, rather than at the first Cut, because
// connection tracking must see a connection's first packet to know which
// end opened it.
func (l *Lab) installRules() error {
	addrs := make([]string, len(l.hosts))
	for i := range l.hosts {
		addrs[i] = l.hostAddr(i).String()
	}
	err := l.nft(l.sw, fmt.Sprintf(switchTable, strings.Join(addrs, ", ")))
	if err != nil {
		return unsupportedIf(fmt.Errorf("load the link table: %w", err),
			"the kernel lacks nf_tables bridge support", "Operation not supported", "Protocol not supported")
	}
	for i, ns := range l.hosts {
		if err := l.nft(ns, hostTable); err != nil {
			return unsupportedIf(fmt.Errorf("load the one-way table of host %d: %w", i, err),
				"the kernel lacks nf_tables connection tracking", "Operation not supported", "Protocol not supported")
		}
		l.made.hostTables++
	}
	return nil
}

// nft runs an nft script inside namespace ns; a script is one transaction,
// so a rule change applies whole or not at all.
func (l *Lab) nft(ns, script string) error {
	_, err := run(script, l.tools.ip, "netns", "exec", ns, l.tools.nft, "-f", "-")
	return err
}

// cutPairs adds (from, to) pairs to the switch's cut set.
func (l *Lab) cutPairs(pairs [][2]int) error {
	if len(pairs) == 0 {
		return nil
	}
	elems := make([]string, len(pairs))
	for k, p := range pairs {
		elems[k] = l.hostAddr(p[0]).String() + " . " + l.hostAddr(p[1]).String()
	}
	return l.nft(l.sw, "add element bridge dynlab cut { "+strings.Join(elems, ", ")+" }\n")
}

// begin takes the lock and checks that the lab is open and the hosts are
// in range; the caller unlocks.
func (l *Lab) begin(what string, hosts ...int) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return l.errClosed()
	}
	for _, h := range hosts {
		if h < 0 || h >= len(l.hosts) {
			l.mu.Unlock()
			return fmt.Errorf("netlab: %s: host %d out of range [0,%d)", what, h, len(l.hosts))
		}
	}
	return nil
}

// Partition splits the hosts into groups: hosts in different groups cannot
// exchange packets, and a host in no group is cut from every other host.
// A host may appear in one group only. Partition() with no groups cuts
// every host from every other.
func (l *Lab) Partition(groups ...[]int) error {
	group := make([]int, len(l.hosts))
	for i := range group {
		group[i] = -1
	}
	var all []int
	for _, g := range groups {
		all = append(all, g...)
	}
	if err := l.begin("partition", all...); err != nil {
		return err
	}
	defer l.mu.Unlock()
	for gi, g := range groups {
		for _, h := range g {
			if group[h] >= 0 && group[h] != gi {
				return fmt.Errorf("netlab: partition %v: host %d is in groups %d and %d", groups, h, group[h], gi)
			}
			group[h] = gi
		}
	}
	var pairs [][2]int
	for a := range l.hosts {
		for b := range l.hosts {
			if a != b && (group[a] < 0 || group[a] != group[b]) {
				pairs = append(pairs, [2]int{a, b})
			}
		}
	}
	if err := l.cutPairs(pairs); err != nil {
		return fmt.Errorf("netlab: partition %v: %w", groups, err)
	}
	return nil
}

// Isolate cuts host i from every other host, both ways.
func (l *Lab) Isolate(i int) error {
	if err := l.begin("isolate", i); err != nil {
		return err
	}
	defer l.mu.Unlock()
	var pairs [][2]int
	for j := range l.hosts {
		if j != i {
			pairs = append(pairs, [2]int{i, j}, [2]int{j, i})
		}
	}
	if err := l.cutPairs(pairs); err != nil {
		return fmt.Errorf("netlab: isolate host %d: %w", i, err)
	}
	return nil
}

// Cut cuts one way: from can no longer open connections to to, nor send it
// datagrams, and connections from opened earlier stop carrying from's
// packets. The reverse still flows: to can open connections to from and
// get answers on them. With the store's transport, where each node sends
// over connections it dialled itself, from's messages to to are lost while
// to's messages to from arrive.
func (l *Lab) Cut(from, to int) error {
	if err := l.begin("cut", from, to); err != nil {
		return err
	}
	defer l.mu.Unlock()
	if from == to {
		return fmt.Errorf("netlab: cut %d -> %d: a host's traffic to itself never crosses the bridge", from, to)
	}
	script := "add element ip dynlab oneway { " + l.hostAddr(from).String() + " }\n"
	if err := l.nft(l.hosts[to], script); err != nil {
		return fmt.Errorf("netlab: cut %d -> %d: %w", from, to, err)
	}
	l.oneway[to] = true
	return nil
}

// Loss drops each packet between host i and any other host, either way,
// with the given probability in percent (0..100; 0 adds nothing). Calls add
// up: two Loss calls on one host, or on both ends of a link, drop
// independently.
func (l *Lab) Loss(i int, percent int) error {
	if err := l.begin("loss", i); err != nil {
		return err
	}
	defer l.mu.Unlock()
	if percent < 0 || percent > 100 {
		return fmt.Errorf("netlab: loss on host %d: %d%% is not a percentage in 0..100", i, percent)
	}
	if percent == 0 {
		return nil
	}
	// numgen draws 0..99, and nft rejects "< 100" as out of range, so a
	// total loss is a plain drop.
	chance := fmt.Sprintf(" numgen random mod 100 < %d", percent)
	if percent == 100 {
		chance = ""
	}
	a := l.hostAddr(i).String()
	script := fmt.Sprintf("add rule bridge dynlab loss ip saddr %s ip daddr @hosts%s drop\n"+
		"add rule bridge dynlab loss ip daddr %s ip saddr @hosts%s drop\n",
		a, chance, a, chance)
	if err := l.nft(l.sw, script); err != nil {
		return fmt.Errorf("netlab: loss of %d%% on host %d: %w", percent, i, err)
	}
	return nil
}

// Heal removes every link rule: cuts, partitions, isolations and losses.
func (l *Lab) Heal() error {
	if err := l.begin("heal"); err != nil {
		return err
	}
	defer l.mu.Unlock()
	if err := l.nft(l.sw, "flush set bridge dynlab cut\nflush chain bridge dynlab loss\n"); err != nil {
		return fmt.Errorf("netlab: heal the links: %w", err)
	}
	for _, h := range l.onewayHosts() {
		if err := l.nft(l.hosts[h], "flush set ip dynlab oneway\n"); err != nil {
			return fmt.Errorf("netlab: heal the one-way cuts into host %d: %w", h, err)
		}
		delete(l.oneway, h)
	}
	return nil
}

func (l *Lab) onewayHosts() []int {
	var hs []int
	for h := range l.oneway {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs
}

// Rules returns the lab's current nft rules, for logs: which address is
// which host, the switch's table, and the table of every host that holds
// one-way cuts.
func (l *Lab) Rules() (string, error) {
	if err := l.begin("rules"); err != nil {
		return "", err
	}
	defer l.mu.Unlock()
	var b strings.Builder
	b.WriteString("# hosts:")
	for i := range l.hosts {
		fmt.Fprintf(&b, " %d=%s", i, l.hostAddr(i))
	}
	fmt.Fprintf(&b, " gateway=%s\n# links between hosts (namespace %s):\n", l.gatewayAddr(), l.sw)
	out, err := run("", l.tools.ip, "netns", "exec", l.sw, l.tools.nft, "list", "table", "bridge", tableName)
	if err != nil {
		return "", fmt.Errorf("netlab: list the link rules: %w", err)
	}
	b.WriteString(out)
	for _, h := range l.onewayHosts() {
		fmt.Fprintf(&b, "# one-way cuts into host %d (namespace %s):\n", h, l.hosts[h])
		out, err := run("", l.tools.ip, "netns", "exec", l.hosts[h], l.tools.nft, "list", "table", "ip", tableName)
		if err != nil {
			return "", fmt.Errorf("netlab: list the one-way rules of host %d: %w", h, err)
		}
		b.WriteString(out)
	}
	return b.String(), nil
}
