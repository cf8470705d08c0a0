package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dynamokv/dynamo/node"
)

func runNode(args []string) error {
	d := node.DefaultConfig()
	var cfg node.Config
	var members string
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	fs.StringVar(&cfg.ID, "id", "", "node ID, unique in the cluster (required)")
	fs.StringVar(&cfg.Cluster, "cluster", d.Cluster, "cluster name; nodes refuse peers of another cluster")
	fs.StringVar(&cfg.Listen, "listen", d.Listen, "host:port for the peer transport")
	fs.StringVar(&cfg.Advertise, "advertise", "", "host:port peers dial (default: --listen)")
	fs.StringVar(&cfg.HTTP, "http", "", "host:port for the HTTP API (empty: none)")
	fs.StringVar(&cfg.HTTPAdvertise, "http-advertise", "", "host:port clients reach the HTTP API at (default: --http), e.g. a container's published port")
	fs.StringVar(&members, "members", "", "the members a new cluster starts with, in order: id=host:port,id=host:port,...")
	fs.StringVar(&cfg.Join, "join", "", "peer address of any member of a running cluster to join (a new node only; "+
		"once it has run, its store holds the membership)")
	fs.DurationVar(&cfg.JoinTimeout, "join-timeout", 10*time.Second, "how long to wait for the member asked to let this node in")
	fs.IntVar(&cfg.Partitions, "partitions", d.Partitions, "Q, fixed partitions (power of two)")
	fs.IntVar(&cfg.Replicas, "n", d.Replicas, "N, replicas per key")
	fs.IntVar(&cfg.ReadQuorum, "r", d.ReadQuorum, "default read quorum R")
	fs.IntVar(&cfg.WriteQuorum, "w", d.WriteQuorum, "default write quorum W")
	fs.DurationVar(&cfg.RequestTimeout, "timeout", d.RequestTimeout, "how long a coordinator waits for replicas")
	fs.DurationVar(&cfg.ReadHedge, "read-hedge", d.ReadHedge,
		"a read asks R replicas, and the others too when these have not answered within this (0: ask all N at once)")
	readDigests := fs.Bool("read-digests", true,
		"a read this node holds the key for takes the versions from its own replica and only a hash from the others (false: the versions from each)")
	fs.DurationVar(&cfg.TombstoneGrace, "tombstone-grace", d.TombstoneGrace,
		"age after which a deletion found on every replica is removed from the store (negative: never)")
	fs.DurationVar(&cfg.ClockOffset, "clock-offset", 0, "set this node's clock off by this much (for fault tests)")
	fs.DurationVar(&cfg.HintWindow, "hint-window", d.HintWindow, "hints kept for a home node that is down longer than this are dropped")
	fs.DurationVar(&cfg.AntiEntropyRound, "ae-round", d.AntiEntropyRound,
		"compare each partition with another replica once in this time (Merkle trees); negative: only on `dynamo repair`")
	fs.IntVar(&cfg.AntiEntropyRate, "ae-rate", d.AntiEntropyRate, "keys per second anti-entropy may compare and send")
	fs.IntVar(&cfg.HandoffRate, "handoff-rate", d.HandoffRate, "keys per second a partition moving to a new owner is sent at")
	fs.IntVar(&cfg.VnodeCacheBytes, "vnode-cache", d.VnodeCacheBytes, "bytes all vnodes together may keep of decoded sibling sets (filled as keys are used)")
	fs.IntVar(&cfg.Coordinators, "coordinators", d.Coordinators, "coordinator actors on this node: by default one per two processors, at most 4")
	fs.StringVar(&cfg.Storage, "storage", d.Storage, "log (every key indexed in memory), pebble (an LSM tree, for more keys than memory holds) or memory")
	fs.StringVar(&cfg.DataDir, "data", "", "data directory (log and pebble storage; default dynamo-data/ID under the working directory)")
	fs.BoolVar(&cfg.SyncWrites, "sync", false, "fsync every write batch (survives power loss)")
	fs.IntVar(&cfg.MaxKeySize, "max-key", d.MaxKeySize, "largest key in bytes")
	fs.IntVar(&cfg.MaxValueSize, "max-value", d.MaxValueSize, "largest value in bytes")
	fs.IntVar(&cfg.MaxFrameSize, "max-frame", d.MaxFrameSize, "largest message on the wire in bytes")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "node certificate (PEM) for mutual TLS between nodes")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "node private key (PEM)")
	fs.StringVar(&cfg.TLSCA, "tls-ca", "", "cluster CA certificate (PEM)")
	fs.StringVar(&cfg.LogLevel, "log-level", d.LogLevel, "debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", d.LogFormat, "console or json")
	pprofAddr := fs.String("pprof", "", "host:port to serve Go's profiles at /debug/pprof/ (empty: off); keep it on loopback")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	cfg.NoReadDigests = !*readDigests
	if cfg.ReadHedge == 0 {
		cfg.ReadHedge = -1 // the flag's 0 asks all at once; the config's 0 is the default
	}
	if members != "" {
		cfg.Members = strings.Split(members, ",")
	}
	// Signals are caught from before the node serves: one that comes while
	// it starts (clients may already be answered) then stops it cleanly.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	n, err := node.New(cfg, os.Stderr)
	if err != nil {
		return err
	}
	if *pprofAddr != "" {
		stopPprof, err := servePprof(*pprofAddr)
		if err != nil {
			n.Stop()
			return err
		}
		defer stopPprof()
		log := n.Logger()
		log.Info().Str("pprof", *pprofAddr).Msg("serving profiles at /debug/pprof/")
	}
	s := <-sig
	log := n.Logger()
	log.Info().Str("signal", s.String()).Msg("stopping; a second signal exits at once")
	go func() {
		s := <-sig
		log.Warn().Str("signal", s.String()).Msg("second signal: exiting without a clean stop")
		os.Exit(1)
	}()
	n.Stop()
	return nil
}
