package messages

// The ping protocol lets an operator, or a test, check that a node process
// is up and reachable through the transport.

// Ping is sent by any client (the `dynamo ping` command, tests) to a node's
// ping actor. The ping actor answers with Pong to the sender.
type Ping struct {
	Seq  uint64 `msgpack:"s"`
	Sent int64  `msgpack:"t"` // unix nanoseconds at the sender, echoed back to time the round trip
}

// Pong is the ping actor's answer to Ping, sent to the Ping's sender.
type Pong struct {
	Seq  uint64 `msgpack:"s"`
	Sent int64  `msgpack:"t"` // the Ping's Sent, unchanged
	Node string `msgpack:"n"` // the answering node's ID
}
