package messages

// Hello is the first frame a transport writes on every connection it dials:
// the dialer → the listener. It carries the address the dialer advertises,
// so the listener knows which peer a connection belongs to and can reply
// over its own connection to that address. Nothing answers it. The target of
// a hello frame is the listener's transport, not an actor.
type Hello struct {
	Addr    string `msgpack:"a"` // the dialer's advertised address (host:port)
	Cluster string `msgpack:"c"` // the cluster name; a listener refuses another cluster's nodes
}
