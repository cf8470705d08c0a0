package messages

// The static membership check. Every node starts with the same member list
// and ring parameters; each node's membership actor sends ClusterHello to
// every other member's membership actor until it has heard from all of
// them, and answers each ClusterHello it receives with its own. A node whose
// view differs is reported (logs, GET /status) and refused: the receiver
// answers but treats the sender as incompatible and serves no data with it.

// ClusterMember is one member as ClusterHello lists it.
type ClusterMember struct {
	ID   string `msgpack:"i"`
	Addr string `msgpack:"a"`
}

// ClusterHello is sent by a node's membership actor to another member's
// membership actor, and sent back as the answer.
type ClusterHello struct {
	Node       string          `msgpack:"n"`
	Cluster    string          `msgpack:"c"`
	Partitions int             `msgpack:"q"`
	Replicas   int             `msgpack:"r"`
	Members    []ClusterMember `msgpack:"m"` // in join order
	// Coordinators is how many coordinator actors each node runs: a node
	// forwards a put to coordinator CoordinatorFor(key, Coordinators) of
	// another node, so every node must run the same number.
	Coordinators int    `msgpack:"k"`
	HTTP         string `msgpack:"h"` // the sender's HTTP API address, "" when it serves none
	Reply        bool   `msgpack:"y"` // set on the answer, so answers are not answered
}
