// Package netlab makes a small network of "hosts" on one Linux machine for
// fault-injection runs: each host is a network namespace with its own IP
// address, the hosts are joined by a bridge, and nft rules cut, split or
// thin the links between them while the store's node processes run inside.
//
// # Layout
//
// The bridge lives in a namespace of its own, the switch namespace, rather
// than in the root namespace. On a machine running Docker, br_netfilter is
// on and the root namespace's iptables FORWARD policy is DROP, so a bridge
// there would pass nothing between hosts; a fresh namespace starts with an
// empty netfilter, so its bridge forwards. The root namespace, where the
// test process and its clients run, joins the bridge through one more veth
// that carries the gateway address. Traffic between the root namespace and
// a host is never cut, so an observer always sees every node.
//
// Every name the lab makes starts with "dynlab-<name>-<pid>-<seq>": the
// namespaces are "...-sw" and "...-h<i>", and the root veth, whose name must
// be short, carries that prefix as its alias. CleanStale recognises what a
// dead process left behind by it.
//
// # Rules
//
// Partition, Isolate and Loss are stateless drops in a bridge-family table
// of the switch namespace, matching both addresses so that only traffic
// between two hosts is affected. Cut is one-way at the level of
// connections: the host that is cut off cannot open connections (or send
// datagrams) to the other, while the other can still open connections to it
// and get answers. That needs connection tracking, which bridge-family rules
// lack on most kernels, so it lives in an ip-family table in the receiving
// host's own namespace, installed when the lab is built so that every
// connection is tracked from its first packet. A stateless one-way drop
// would break every TCP connection both ways, which a partition already
// covers.
//
// Lab needs root and the ip (iproute2) and nft commands. Close tears down
// everything the lab made but never kills processes: the caller started
// them inside the hosts and stops them.
package netlab
