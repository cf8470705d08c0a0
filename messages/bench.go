package messages

// The transport benchmark protocol: bench actors exchange these to measure
// the transport alone.

// Blob is sent fire-and-forget by a benchmark driver to a counting sink
// actor on another node. Nothing answers it.
type Blob struct {
	Seq  uint64 `msgpack:"s"`
	Data []byte `msgpack:"d"`
}

// Echo is sent by a benchmark driver to an echo actor, which answers the
// sender with the same Echo, unchanged.
type Echo struct {
	Seq  uint64 `msgpack:"s"`
	Sent int64  `msgpack:"t"`
	Data []byte `msgpack:"d"`
}
