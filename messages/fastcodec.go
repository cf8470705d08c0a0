package messages

import (
	"fmt"
	"github.com/dynamokv/dynamo/internal/intern"

	"github.com/vmihailenco/msgpack/v5"
)

// Hand-written msgpack for the messages sent most often. Reflection-based
// decoding on a connection's reader goroutine is what caps a transport's
// throughput; these produce the same map-shaped encoding as the struct
// tags, so either side may use either form.

// decodeFields reads a map and calls field for each key; field returns
// false for a key it does not know, which is then skipped, so that newer
// senders may add fields.
func decodeFields(d *msgpack.Decoder, what string, field func(key string) (bool, error)) error {
	n, err := d.DecodeMapLen()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for i := 0; i < n; i++ {
		key, err := intern.Decode(d) // DecodeString, without its allocation for known keys
		if err != nil {
			return fmt.Errorf("%s key: %w", what, err)
		}
		known, err := field(key)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", what, key, err)
		}
		if !known {
			if err := d.Skip(); err != nil {
				return fmt.Errorf("%s.%s: %w", what, key, err)
			}
		}
	}
	return nil
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *Blob) EncodeMsgpack(e *msgpack.Encoder) error {
	w := fieldWriter{e: e}
	w.mapLen(2)
	w.uint("s", m.Seq)
	w.bytes("d", m.Data)
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *Blob) DecodeMsgpack(d *msgpack.Decoder) error {
	return decodeFields(d, "Blob", func(key string) (bool, error) {
		var err error
		switch key {
		case "s":
			m.Seq, err = d.DecodeUint64()
		case "d":
			m.Data, err = d.DecodeBytes()
		default:
			return false, nil
		}
		return true, err
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *Echo) EncodeMsgpack(e *msgpack.Encoder) error {
	w := fieldWriter{e: e}
	w.mapLen(3)
	w.uint("s", m.Seq)
	w.int("t", m.Sent)
	w.bytes("d", m.Data)
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *Echo) DecodeMsgpack(d *msgpack.Decoder) error {
	return decodeFields(d, "Echo", func(key string) (bool, error) {
		var err error
		switch key {
		case "s":
			m.Seq, err = d.DecodeUint64()
		case "t":
			m.Sent, err = d.DecodeInt64()
		case "d":
			m.Data, err = d.DecodeBytes()
		default:
			return false, nil
		}
		return true, err
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *ReplicaPutAck) EncodeMsgpack(e *msgpack.Encoder) error {
	w := fieldWriter{e: e}
	w.mapLen(3)
	w.uint("i", m.ReqID)
	w.bytes("n", []byte(m.Node))
	w.bytes("e", []byte(m.Err))
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *ReplicaPutAck) DecodeMsgpack(d *msgpack.Decoder) error {
	return decodeFields(d, "ReplicaPutAck", func(key string) (bool, error) {
		var err error
		switch key {
		case "i":
			m.ReqID, err = d.DecodeUint64()
		case "n":
			m.Node, err = intern.Decode(d)
		case "e":
			m.Err, err = d.DecodeString()
		default:
			return false, nil
		}
		return true, err
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *ReplicaGet) EncodeMsgpack(e *msgpack.Encoder) error {
	fields := 3
	if m.Ring != 0 {
		fields++
	}
	w := fieldWriter{e: e}
	w.mapLen(fields)
	w.uint("i", m.ReqID)
	w.uint("p", uint64(m.Partition))
	if m.Ring != 0 {
		w.uint("r", m.Ring)
	}
	w.bytes("k", m.Key)
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *ReplicaGet) DecodeMsgpack(d *msgpack.Decoder) error {
	return decodeFields(d, "ReplicaGet", func(key string) (bool, error) {
		var err error
		switch key {
		case "i":
			m.ReqID, err = d.DecodeUint64()
		case "p":
			m.Partition, err = d.DecodeUint32()
		case "k":
			m.Key, err = d.DecodeBytes()
		case "r":
			m.Ring, err = d.DecodeUint64()
		default:
			return false, nil
		}
		return true, err
	})
}
