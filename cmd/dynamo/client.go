package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dynamokv/dynamo/api"
	"github.com/dynamokv/dynamo/client"
)

// errNotFound makes `dynamo get` exit with status 1 and say so.
var errNotFound = errors.New("not found")

func runClient(cmd string, args []string) error {
	err := runClientTo(os.Stdout, cmd, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the flag package printed the usage
	}
	if err != nil && strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("%w\n(is a node running there? `make run` starts a local cluster; --node picks another node)", err)
	}
	if errors.Is(err, client.ErrUnavailable) && strings.Contains(err.Error(), "peer down: dial") {
		// Native mode dials the peer addresses the nodes advertise, which a
		// container network or a firewall can hide from this machine.
		return fmt.Errorf("%w\n(the nodes' peer addresses are not reachable from here, as behind a container network: "+
			"--mode http goes through the HTTP API instead)", err)
	}
	return err
}

// clientFlags are the flags every client command takes.
type clientFlags struct {
	fs      *flag.FlagSet
	node    *string
	mode    *string
	timeout *time.Duration
	cluster *string
}

func newClientFlags(cmd string) *clientFlags {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	return &clientFlags{
		fs:      fs,
		node:    fs.String("node", "http://127.0.0.1:8001", "HTTP URL of a node; several, comma-separated, are tried in turn"),
		mode:    fs.String("mode", "native", "protocol: native (msgpack over the peer transport, as the Go client) or http"),
		timeout: fs.Duration("timeout", 3*time.Second, "bound on the request, retries included"),
		cluster: fs.String("cluster", "", "cluster name, for native mode (default: the one the node reports)"),
	}
}

func (f *clientFlags) config() (client.Config, error) {
	cfg := client.Config{Timeout: *f.timeout, Cluster: *f.cluster}
	for _, s := range strings.Split(*f.node, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Seeds = append(cfg.Seeds, s)
		}
	}
	switch *f.mode {
	case "http":
		cfg.Mode = client.ModeHTTP
	case "native":
		cfg.Mode = client.ModeNative
	default:
		return cfg, fmt.Errorf("--mode %q: want http or native", *f.mode)
	}
	return cfg, nil
}

// parse parses args, flags before or after the positionals, and checks
// the number of positionals.
func (f *clientFlags) parse(args []string, usage string, want int) ([]string, error) {
	f.fs.Usage = func() {
		fmt.Fprintf(f.fs.Output(), "Usage: dynamo %s\n\nFlags:\n", usage)
		f.fs.PrintDefaults()
	}
	if err := f.fs.Parse(reorderArgs(f.fs, args)); err != nil {
		return nil, err
	}
	if f.fs.NArg() != want {
		return nil, fmt.Errorf("want %d argument(s): dynamo %s", want, usage)
	}
	return f.fs.Args(), nil
}

// reorderArgs moves flags, with their values, ahead of the positional
// arguments, because package flag stops at the first positional. After
// "--" everything is positional, so a value may start with '-'.
func reorderArgs(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if fl := fs.Lookup(name); fl != nil && !isBoolFlag(fl) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if len(pos) == 0 {
		return flags
	}
	return append(append(flags, "--"), pos...)
}

func isBoolFlag(fl *flag.Flag) bool {
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func runClientTo(w io.Writer, cmd string, args []string) error {
	f := newClientFlags(cmd)
	ctx := context.Background()
	switch cmd {
	case "put":
		cctx := f.fs.String("context", "", "context of the read this write follows (from dynamo get)")
		wq := f.fs.Int("w", 0, "write quorum W (default: the node's)")
		pos, err := f.parse(args, "put KEY VALUE [--context C] [-w W]", 2)
		if err != nil {
			return err
		}
		return withClient(ctx, f, func(c *client.Client) error {
			out, err := c.Put(ctx, []byte(pos[0]), []byte(pos[1]), client.PutOptions{Context: *cctx, W: *wq})
			if err != nil {
				return err
			}
			fmt.Fprintln(w, out)
			return nil
		})
	case "get":
		rq := f.fs.Int("r", 0, "read quorum R (default: the node's)")
		asJSON := f.fs.Bool("json", false, "print the siblings JSON form")
		pos, err := f.parse(args, "get KEY [-r R] [--json]", 1)
		if err != nil {
			return err
		}
		return withClient(ctx, f, func(c *client.Client) error {
			res, err := c.Get(ctx, []byte(pos[0]), client.GetOptions{R: *rq})
			if err != nil {
				return err
			}
			if !res.Found {
				return errNotFound
			}
			return printResult(w, res, *asJSON)
		})
	case "delete":
		cctx := f.fs.String("context", "", "context of a read of the key (from dynamo get); required")
		wq := f.fs.Int("w", 0, "write quorum W (default: the node's)")
		pos, err := f.parse(args, "delete KEY --context C [-w W]", 1)
		if err != nil {
			return err
		}
		if *cctx == "" {
			return errors.New("--context is required: take it from dynamo get KEY")
		}
		return withClient(ctx, f, func(c *client.Client) error {
			return c.Delete(ctx, []byte(pos[0]), *cctx, client.PutOptions{W: *wq})
		})
	case "repair":
		part := f.fs.Int("partition", -1, "the partition to repair (default: every partition the node holds)")
		*f.timeout = 5 * time.Minute
		if _, err := f.parse(args, "repair [--partition P] [--node URL]", 0); err != nil {
			return err
		}
		cfg, err := f.config()
		if err != nil {
			return err
		}
		r, err := client.Repair(ctx, cfg, *part)
		if err != nil {
			return err
		}
		printRepair(w, r)
		return nil
	case "leave", "remove":
		what := "hands its partitions over, then holds none"
		if cmd == "remove" {
			what = "is gone for good: its partitions are rebuilt from the other replicas"
		}
		pos, err := f.parse(args, cmd+" NODE-ID [--node URL]    (the member "+what+")", 1)
		if err != nil {
			return err
		}
		cfg, err := f.config()
		if err != nil {
			return err
		}
		change := client.Leave
		if cmd == "remove" {
			change = client.Remove
		}
		m, err := change(ctx, cfg, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "membership version %d: %s %s\n", m.Version, pos[0], map[string]string{"leave": "leaves", "remove": "removed"}[cmd])
		printMembership(w, m)
		if cmd == "leave" {
			where := "URL"
			for _, r := range m.Records {
				if r.ID == pos[0] && r.HTTP != "" {
					where = "http://" + r.HTTP
				}
			}
			fmt.Fprintf(w, "%s hands its partitions over now: `dynamo status --node %s` shows the handoffs; stop it once it holds none (vnodes 0)\n",
				pos[0], where)
		}
		return nil
	case "status":
		output := f.fs.String("output", "table", "table (every node), json (the same as JSON), or raw (the node's own /status JSON)")
		if _, err := f.parse(args, "status [--output table|json|raw] [--node URL]", 0); err != nil {
			return err
		}
		cfg, err := f.config()
		if err != nil {
			return err
		}
		// No ring is built: status must work on a cluster in any state.
		st, err := client.ReadStatus(ctx, cfg)
		if err != nil {
			return err
		}
		switch *output {
		case "raw":
			return writeJSON(w, st)
		case "json":
			return writeJSON(w, readCluster(ctx, cfg, st))
		case "table":
			printCluster(w, readCluster(ctx, cfg, st))
			return nil
		}
		return fmt.Errorf("--output %q: want table, json or raw", *output)
	}
	return fmt.Errorf("unknown client command %q", cmd)
}

func withClient(ctx context.Context, f *clientFlags, do func(*client.Client) error) error {
	cfg, err := f.config()
	if err != nil {
		return err
	}
	c, err := client.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	return do(c)
}

func printResult(w io.Writer, res client.Result, asJSON bool) error {
	if asJSON {
		return writeJSON(w, api.Siblings{Context: res.Context, Siblings: res.Values})
	}
	for _, v := range res.Values {
		fmt.Fprintf(w, "%s\n", v)
	}
	fmt.Fprintf(w, "context: %s\n", res.Context)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printMembership(w io.Writer, m api.Membership) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPEER ADDR\tJOINED\tSTATE")
	for _, r := range m.Records {
		state := "member"
		switch {
		case r.Removed:
			state = fmt.Sprintf("removed at %d", r.Left)
		case r.Left != 0:
			state = fmt.Sprintf("left at %d", r.Left)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.ID, r.Addr, r.Joined, state)
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printRepair(w io.Writer, r api.Repair) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	repaired, inSync, rows := 0, 0, 0
	for _, e := range r.Exchanges {
		repaired += e.RepairedHere + e.RepairedThere
		if e.InSync || (e.Keys == 0 && e.Err == "") {
			inSync++
			continue
		}
		if rows == 0 {
			fmt.Fprintln(tw, "partition\tpeer\tkeys differing\trepaired here\trepaired there\tbytes\ttook\terror")
		}
		rows++
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\t%.1f ms\t%s\n", e.Partition, e.Peer,
			e.Keys, e.RepairedHere, e.RepairedThere, e.Bytes, e.TookMs, orDash(e.Err))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d exchanges, %d already in sync, %d keys repaired\n", len(r.Exchanges), inSync, repaired)
}
