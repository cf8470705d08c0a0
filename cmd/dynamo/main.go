// Command dynamo runs a node of the store, a local development cluster, and
// the client commands that talk to them.
package main

import (
	"fmt"
	"os"
)

const usage = `dynamo: a Dynamo-style replicated key-value store

Usage:
  dynamo node --id ID --listen HOST:PORT [flags]   run one node process
  dynamo join SEED --id ID --listen HOST:PORT ...  run a new node that joins the cluster SEED (a member's peer address) is in
  dynamo leave NODE-ID                            have a member hand its partitions over and leave
  dynamo remove NODE-ID                           drop a member that is gone for good
  dynamo dev [--nodes 5]                          run a local cluster of node processes
  dynamo ping HOST:PORT                           check a node over the peer transport
  dynamo put KEY VALUE [--context C] [-w W]       store a value
  dynamo get KEY [-r R]                           read a key's value(s) and context
  dynamo delete KEY --context C                   delete a key
  dynamo status                                   show a node's view of the cluster
  dynamo repair [--partition P]                   compare a node's partitions with their other replicas now
  dynamo bench [--workloads load,a,b,c] [--plot F] drive a running cluster with YCSB workloads and measure it

Run "dynamo COMMAND -h" for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "node":
		err = runNode(args)
	case "join":
		if len(args) == 0 || len(args[0]) == 0 || args[0][0] == '-' {
			err = fmt.Errorf("want the peer address of a member first: dynamo join HOST:PORT --id ID --listen HOST:PORT [node flags]")
			break
		}
		err = runNode(append([]string{"--join", args[0]}, args[1:]...))
	case "dev":
		err = runDev(args)
	case "ping":
		err = runPing(args)
	case "bench":
		err = runBench(args)
	case "put", "get", "delete", "status", "repair", "leave", "remove":
		err = runClient(cmd, args)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "dynamo: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "dynamo %s: %v\n", cmd, err)
		os.Exit(1)
	}
}
