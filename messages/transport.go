package messages

// Hello is the first frame a transport writes on every connection it dials:
// the dialer → the listener. It carries the address the dialer advertises,
// so the listener knows which peer a connection belongs to and can reply
// over its own connection to that address. The listener answers it with a
// Heartbeat. The target of a hello frame is the listener's transport, not an
// actor.
type Hello struct {
	Addr    string `msgpack:"a"` // the dialer's advertised address (host:port)
	Cluster string `msgpack:"c"` // the cluster name; a listener refuses another cluster's nodes
	// Beat is the heartbeat interval, in nanoseconds, the dialer wants: its
	// silence timeout is set from it, so the listener's own setting must
	// not decide it. Zero leaves it to the listener.
	Beat int64 `msgpack:"b,omitempty"`
}

// Heartbeat is what a listener writes back on a connection it accepted: the
// first, with Ack set, answers the Hello; then one per heartbeat interval.
// The dialer counts its peer up only once the ack arrived and down when
// nothing arrives for a while, which catches a hung process whose kernel
// still accepts connections and bytes. Its target is the dialer's
// transport, not an actor.
type Heartbeat struct {
	Ack bool `msgpack:"k,omitempty"` // answers the hello
	// Refused, instead of the ack, says why the listener closes the
	// connection (another cluster), so the dialer can tell its operator.
	Refused string `msgpack:"r,omitempty"`
}
