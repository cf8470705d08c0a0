package node

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

// Config describes one node process. Zero fields take the defaults of
// DefaultConfig when passed through WithDefaults; Validate says what is
// wrong with a Config in words an operator can act on.
type Config struct {
	// ID names the node in the cluster; unique among members. Required.
	ID string
	// Cluster is the cluster's name; nodes refuse peers of another cluster.
	Cluster string
	// Listen is the host:port the node's peer transport listens on.
	Listen string
	// Advertise is the host:port peers use to reach this node; default Listen.
	// It must be concrete (no port 0, no unspecified host): actor PIDs carry it.
	Advertise string
	// HTTP is the host:port of the client API; "" serves no HTTP.
	HTTP string
	// HTTPAdvertise is the host:port clients reach the HTTP API at, as the
	// node tells the members and, through /status, clients: behind a NAT
	// or a container's published port it differs from HTTP. Default: the
	// address HTTP listens on.
	HTTPAdvertise string

	// Members is the member list a new cluster starts with, in join order,
	// as "id=host:port" (peer addresses); every first member is given the
	// same list. Empty (and no Join) means a cluster of this node alone.
	// Once a node has run, its store holds the membership, which changes
	// only by join, leave and remove, and this list is not read again.
	Members []string
	// Join is the peer address of any member of a running cluster: a new
	// node asks it to be let in and learns the membership from it.
	Join string
	// JoinTimeout bounds the wait for the member's answer. Default 10s.
	JoinTimeout time.Duration
	// Partitions is Q, the fixed number of partitions (a power of two).
	Partitions int
	// Replicas is N, the number of replicas of each key.
	Replicas int
	// ReadQuorum and WriteQuorum are the default R and W.
	ReadQuorum, WriteQuorum int
	// RequestTimeout ends a coordinator's wait for replicas.
	RequestTimeout time.Duration
	// ReadHedge is how long a read waits for the R replicas it asks first
	// before it asks the others too; negative asks all N at once.
	// Default 10ms.
	ReadHedge time.Duration
	// NoReadDigests has a read that this node coordinates and holds the
	// key for ask the other replicas for their versions, not only for
	// their hash (the default, which sends the versions once).
	NoReadDigests bool
	// TombstoneGrace is how old a deletion must be before the first read
	// that finds it on every replica, alone, removes the key from the
	// store. It must outlast any outage after which an older copy of a
	// key could come back; negative keeps tombstones for good.
	TombstoneGrace time.Duration
	// Coordinators is how many coordinator actors the node runs; requests
	// are spread over them by key hash.
	Coordinators int

	// Storage is "log" (the default: a log of batches on disk under
	// DataDir, with an index of every key in memory), "pebble" (Pebble's
	// LSM tree under DataDir, for more keys than memory holds) or
	// "memory" (lost on exit).
	Storage string
	// DataDir holds the node's store (log or pebble); default DefaultDataDir(ID).
	DataDir string
	// SyncWrites fsyncs every write batch, so acknowledged writes survive
	// power loss, not only a crash of the process.
	SyncWrites bool
	// MaxKeySize and MaxValueSize bound what a client may store, in bytes.
	MaxKeySize, MaxValueSize int

	// TLSCert, TLSKey and TLSCA turn on mutual TLS between nodes: the node's
	// certificate and key, and the CA that signs every member's certificate.
	TLSCert, TLSKey, TLSCA string
	// MaxFrameSize bounds one message on the wire, in bytes.
	MaxFrameSize int
	// PeerQueueBytes bounds what waits for one peer; overflow is dropped.
	PeerQueueBytes int
	// DialTimeout bounds one connection attempt to a peer.
	DialTimeout time.Duration

	// LogLevel is debug, info, warn or error; LogFormat is json or console.
	LogLevel, LogFormat string

	// ClockOffset sets the node's wall clock off from the machine's, for
	// fault tests: the stamps of the versions it coordinates move with it.
	ClockOffset time.Duration

	// HintWindow: a hint kept for a home node that is down longer than
	// this is dropped (anti-entropy must repair its key). Default 3h.
	HintWindow time.Duration
	// AntiEntropyRound is the time in which each local partition is
	// compared once with another replica (Merkle trees); default 10s,
	// negative for repairs on demand only.
	AntiEntropyRound time.Duration
	// AntiEntropyRate bounds the keys per second whose sets anti-entropy
	// compares and sends, so a large repair leaves clients their latency.
	AntiEntropyRate int
	// HandoffRate is the same bound for partitions on their way to a new
	// owner (after a join, leave or remove), in both directions.
	HandoffRate int
	// VnodeCacheBytes is the memory all of the node's vnodes together may
	// spend on keeping decoded sibling sets, shared out among them: a
	// cached key costs a read neither a store lookup nor a decode. 0 means
	// the default, 64 MiB; it is spent only as keys are read or written.
	VnodeCacheBytes int

	// Behaviours are actor behaviours to run beside the node's own (see
	// Behaviour); they start after the failure detector and hint buffer.
	Behaviours []Behaviour
}

// DefaultDataDir is where a node keeps its store when given no directory:
// named after the node, under the working directory, so that several
// nodes started in one place keep apart.
func DefaultDataDir(id string) string { return filepath.Join("dynamo-data", id) }

// DefaultConfig returns the defaults every unset field takes.
func DefaultConfig() Config {
	return Config{
		Cluster:          "dynamo",
		Listen:           "127.0.0.1:7001",
		Partitions:       64,
		Replicas:         3,
		ReadQuorum:       2,
		WriteQuorum:      2,
		RequestTimeout:   time.Second,
		ReadHedge:        10 * time.Millisecond,
		TombstoneGrace:   24 * time.Hour,
		HintWindow:       3 * time.Hour,
		AntiEntropyRound: 10 * time.Second,
		AntiEntropyRate:  1000,
		HandoffRate:      10000,
		VnodeCacheBytes:  64 << 20,
		Coordinators:     defaultCoordinators(),
		Storage:          "log",
		MaxKeySize:       1 << 10,
		MaxValueSize:     1 << 20,
		MaxFrameSize:     4 << 20,
		PeerQueueBytes:   64 << 20,
		DialTimeout:      time.Second,
		LogLevel:         "info",
		LogFormat:        "console",
	}
}

// defaultCoordinators is one coordinator per two processors the node may
// use, at least 1 and at most 4. An idle actor's first message starts a
// goroutine that then takes whatever else has queued, and a coordinator's
// share of a request is small beside its vnodes': more coordinators only
// split the batches one would take at each wake-up. With 2 processors, 1
// coordinator took 3% less CPU per operation than 2, and 2 took 3-6%
// less than 4.
func defaultCoordinators() int { return min(4, max(1, runtime.GOMAXPROCS(0)/2)) }

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	setS := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	setI := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setS(&c.Cluster, d.Cluster)
	setS(&c.Listen, d.Listen)
	setS(&c.Advertise, c.Listen)
	setS(&c.Storage, d.Storage)
	setS(&c.LogLevel, d.LogLevel)
	setS(&c.LogFormat, d.LogFormat)
	setI(&c.Partitions, d.Partitions)
	setI(&c.Replicas, d.Replicas)
	setI(&c.ReadQuorum, d.ReadQuorum)
	setI(&c.WriteQuorum, d.WriteQuorum)
	setI(&c.Coordinators, d.Coordinators)
	setI(&c.MaxKeySize, d.MaxKeySize)
	setI(&c.MaxValueSize, d.MaxValueSize)
	setI(&c.MaxFrameSize, d.MaxFrameSize)
	setI(&c.PeerQueueBytes, d.PeerQueueBytes)
	if c.RequestTimeout == 0 {
		c.RequestTimeout = d.RequestTimeout
	}
	if c.ReadHedge == 0 {
		c.ReadHedge = d.ReadHedge
	}
	if c.TombstoneGrace == 0 {
		c.TombstoneGrace = d.TombstoneGrace
	}
	if c.HintWindow == 0 {
		c.HintWindow = d.HintWindow
	}
	if c.AntiEntropyRound == 0 {
		c.AntiEntropyRound = d.AntiEntropyRound
	}
	if c.HandoffRate <= 0 {
		c.HandoffRate = d.HandoffRate
	}
	if c.VnodeCacheBytes <= 0 {
		c.VnodeCacheBytes = d.VnodeCacheBytes
	}
	if c.AntiEntropyRate <= 0 {
		c.AntiEntropyRate = d.AntiEntropyRate
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = d.DialTimeout
	}
	if (c.Storage == "pebble" || c.Storage == "log") && c.DataDir == "" && c.ID != "" {
		c.DataDir = DefaultDataDir(c.ID)
	}
	if c.JoinTimeout == 0 {
		c.JoinTimeout = 10 * time.Second
	}
	return c
}

// Validate reports every problem with c, joined, or nil.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.ID == "" {
		bad("id: required (a name unique in the cluster, e.g. n1)")
	}
	if err := checkHostPort(c.Listen, true); err != nil {
		bad("listen %q: %v", c.Listen, err)
	}
	if err := checkHostPort(c.Advertise, false); err != nil {
		bad("advertise %q: %v", c.Advertise, err)
	}
	if c.HTTP != "" {
		if err := checkHostPort(c.HTTP, true); err != nil {
			bad("http %q: %v", c.HTTP, err)
		}
	}
	if c.Partitions < 1 || c.Partitions > 1<<16 || c.Partitions&(c.Partitions-1) != 0 {
		bad("partitions %d: want a power of two from 1 to 65536", c.Partitions)
	}
	if c.Replicas < 1 {
		bad("replicas %d: want at least 1", c.Replicas)
	}
	if c.ReadQuorum < 1 || c.ReadQuorum > c.Replicas {
		bad("read quorum %d: want 1..replicas (%d)", c.ReadQuorum, c.Replicas)
	}
	if c.WriteQuorum < 1 || c.WriteQuorum > c.Replicas {
		bad("write quorum %d: want 1..replicas (%d)", c.WriteQuorum, c.Replicas)
	}
	if c.Coordinators < 1 || c.Coordinators > 256 {
		bad("coordinators %d: want 1 to 256", c.Coordinators)
	}
	if c.RequestTimeout <= 0 {
		bad("request timeout %v: want a positive duration", c.RequestTimeout)
	}
	switch c.Storage {
	case "pebble", "log":
		if c.DataDir == "" {
			bad("data dir: required for %s storage (or use memory storage)", c.Storage)
		}
	case "memory":
	default:
		bad("storage %q: want log, pebble or memory", c.Storage)
	}
	if c.MaxKeySize < 1 {
		bad("max key size %d: want at least 1", c.MaxKeySize)
	}
	if c.MaxValueSize < 0 {
		bad("max value size %d: want at least 0", c.MaxValueSize)
	}
	if c.MaxFrameSize < 1024 {
		bad("max frame size %d: want at least 1024", c.MaxFrameSize)
	} else if c.MaxValueSize+c.MaxKeySize+64<<10 > c.MaxFrameSize {
		bad("max frame size %d: must exceed max key + value size (%d) by 64 KiB for headers and clocks",
			c.MaxFrameSize, c.MaxKeySize+c.MaxValueSize)
	}
	if c.PeerQueueBytes < c.MaxFrameSize {
		bad("peer queue %d bytes: must hold at least one frame (%d)", c.PeerQueueBytes, c.MaxFrameSize)
	}
	if c.DialTimeout <= 0 {
		bad("dial timeout %v: want a positive duration", c.DialTimeout)
	}
	tls := 0
	for _, f := range []string{c.TLSCert, c.TLSKey, c.TLSCA} {
		if f != "" {
			tls++
		}
	}
	if tls != 0 && tls != 3 {
		bad("tls: give all of cert, key and CA, or none")
	}
	if _, err := ParseMembers(c.Members); err != nil {
		bad("members: %v", err)
	}
	if c.HTTPAdvertise != "" {
		if c.HTTP == "" {
			bad("http advertise %s: the node serves no HTTP (give --http)", c.HTTPAdvertise)
		} else if err := checkHostPort(c.HTTPAdvertise, false); err != nil {
			bad("http advertise %s: %v", c.HTTPAdvertise, err)
		}
	}
	if c.Join != "" {
		if len(c.Members) > 0 {
			bad("join %s: give either a member list or a member to join, not both", c.Join)
		}
		if err := checkHostPort(c.Join, false); err != nil {
			bad("join %q: %v", c.Join, err)
		}
	}
	return errors.Join(errs...)
}

func checkHostPort(addr string, listen bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if !listen {
		if p == 0 {
			return fmt.Errorf("port 0 cannot be advertised: peers must know the real port")
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			return fmt.Errorf("host %q cannot be advertised: give the address peers dial", host)
		}
	}
	return nil
}
