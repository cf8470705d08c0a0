// Command olricnode runs one embedded olric member, so the benchmarks can
// compare the store with olric member by member: one process each, as the
// store's own nodes run.
//
// It prints "ready" on stdout once olric reports the member started and
// shuts the member down on SIGINT or SIGTERM.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/olric-data/olric"
	"github.com/olric-data/olric/config"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "olricnode:", err)
		os.Exit(1)
	}
}

func run() error {
	bind := flag.String("bind", "127.0.0.1", "address to bind olric's client port and memberlist to")
	port := flag.Int("port", config.DefaultPort, "olric client (RESP) port")
	mlPort := flag.Int("memberlist-port", config.DefaultDiscoveryPort, "memberlist (gossip) port, TCP and UDP")
	peers := flag.String("peers", "", "comma-separated memberlist host:port of the other members")
	replicas := flag.Int("replicas", 3, "copies of each key (olric ReplicaCount)")
	readQuorum := flag.Int("read-quorum", 2, "replies a read waits for (olric ReadQuorum)")
	writeQuorum := flag.Int("write-quorum", 2, "acks a write needs (olric WriteQuorum)")
	memberQuorum := flag.Int("member-count-quorum", 1, "members this member must see before it serves (olric MemberCountQuorum)")
	flag.Parse()
	if flag.NArg() != 0 {
		return fmt.Errorf("unexpected arguments: %q", flag.Args())
	}

	var err error
	// "lan" is olric's stock memberlist profile; the benchmark runs on
	// loopback, but we keep the defaults olric ships rather than tune them.
	c := config.New("lan")
	c.BindAddr = *bind
	c.BindPort = *port
	c.MemberlistConfig.BindAddr = *bind
	c.MemberlistConfig.BindPort = *mlPort
	// config.New sets the advertised port to olric's default 3322; without
	// this, peers would be told to gossip with the wrong port.
	c.MemberlistConfig.AdvertiseAddr = *bind
	c.MemberlistConfig.AdvertisePort = *mlPort
	c.Peers, err = splitPeers(*peers)
	if err != nil {
		return err
	}
	c.ReplicaCount = *replicas
	c.ReadQuorum = *readQuorum
	c.WriteQuorum = *writeQuorum
	c.MemberCountQuorum = int32(*memberQuorum)
	// Sync mode: the member that owns a key writes to every backup owner
	// before it answers, and fails the write unless WriteQuorum copies took it.
	c.ReplicationMode = config.SyncReplicationMode
	// Quiet: errors only, on stderr, where the launcher keeps a tail of them
	// to explain a failed start. memberlist logs through the same logger.
	// LogLevel alone does not do it: olric orders its levels DEBUG, WARN,
	// ERROR, INFO, so "ERROR" still lets every [INFO] line through.
	c.LogLevel = config.LogLevelError
	c.Logger = log.New(dropInfo{os.Stderr}, "", log.LstdFlags)
	// The launcher kills a member 5 s after SIGTERM; leave the cluster
	// well within that.
	c.LeaveTimeout = 2 * time.Second
	c.Started = func() { fmt.Println("ready") }

	db, err := olric.New(c)
	if err != nil {
		return err
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)

	startErr := make(chan error, 1)
	go func() { startErr <- db.Start() }()

	var runErr error
	select {
	case <-sigs:
	case runErr = <-startErr:
		// Start returns only when the member's server stops; unasked, that is
		// a failure.
		if runErr == nil {
			runErr = fmt.Errorf("olric stopped by itself")
		}
	}

	// olric asks for Shutdown even after Start failed.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if err := db.Shutdown(ctx); err != nil && runErr == nil {
		runErr = fmt.Errorf("shutdown: %w", err)
	}
	return runErr
}

// splitPeers turns "a:1, b:2" into its host:port items, dropping empties so
// a member started alone may pass --peers "". A malformed peer is an error
// here because olric would only log the failed join and form a cluster of
// one.
func splitPeers(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(p); err != nil {
			return nil, fmt.Errorf("--peers %q: %w", p, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// dropInfo drops [INFO] and [DEBUG] log lines. A log.Logger writes each
// line in one Write, so looking at one Write is looking at one line.
type dropInfo struct{ w io.Writer }

func (d dropInfo) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("[INFO]")) || bytes.Contains(p, []byte("[DEBUG]")) {
		return len(p), nil
	}
	return d.w.Write(p)
}
