package messages

import (
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// Hand-written msgpack for the messages sent most often. Reflection-based
// decoding on a connection's reader goroutine is what caps a transport's
// throughput; these produce the same map-shaped encoding as the struct
// tags, so either side may use either form.

func encodeUintField(e *msgpack.Encoder, key string, v uint64) error {
	if err := e.EncodeString(key); err != nil {
		return err
	}
	return e.EncodeUint(v)
}

func encodeIntField(e *msgpack.Encoder, key string, v int64) error {
	if err := e.EncodeString(key); err != nil {
		return err
	}
	return e.EncodeInt(v)
}

func encodeBytesField(e *msgpack.Encoder, key string, v []byte) error {
	if err := e.EncodeString(key); err != nil {
		return err
	}
	return e.EncodeBytes(v)
}

// decodeFields reads a map and calls field for each key; field returns
// false for a key it does not know, which is then skipped, so that newer
// senders may add fields.
func decodeFields(d *msgpack.Decoder, what string, field func(key string) (bool, error)) error {
	n, err := d.DecodeMapLen()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for i := 0; i < n; i++ {
		key, err := decodeKey(d) // DecodeString, without its allocation for short keys
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
	if err := e.EncodeMapLen(2); err != nil {
		return err
	}
	if err := encodeUintField(e, "s", m.Seq); err != nil {
		return err
	}
	return encodeBytesField(e, "d", m.Data)
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
	if err := e.EncodeMapLen(3); err != nil {
		return err
	}
	if err := encodeUintField(e, "s", m.Seq); err != nil {
		return err
	}
	if err := encodeIntField(e, "t", m.Sent); err != nil {
		return err
	}
	return encodeBytesField(e, "d", m.Data)
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
	if err := e.EncodeMapLen(3); err != nil {
		return err
	}
	if err := encodeUintField(e, "i", m.ReqID); err != nil {
		return err
	}
	if err := encodeBytesField(e, "n", []byte(m.Node)); err != nil {
		return err
	}
	return encodeBytesField(e, "e", []byte(m.Err))
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *ReplicaPutAck) DecodeMsgpack(d *msgpack.Decoder) error {
	return decodeFields(d, "ReplicaPutAck", func(key string) (bool, error) {
		var err error
		switch key {
		case "i":
			m.ReqID, err = d.DecodeUint64()
		case "n":
			m.Node, err = d.DecodeString()
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
	if err := e.EncodeMapLen(fields); err != nil {
		return err
	}
	if err := encodeUintField(e, "i", m.ReqID); err != nil {
		return err
	}
	if err := encodeUintField(e, "p", uint64(m.Partition)); err != nil {
		return err
	}
	if m.Ring != 0 {
		if err := encodeUintField(e, "r", m.Ring); err != nil {
			return err
		}
	}
	return encodeBytesField(e, "k", m.Key)
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
