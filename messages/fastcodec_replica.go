package messages

import (
	"github.com/dynamokv/dynamo/internal/intern"
	"github.com/vmihailenco/msgpack/v5"
)

// Hand-written codecs of the messages between coordinators and vnodes
// (see fastcodec_fields.go).

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *ReplicaPut) EncodeMsgpack(e *msgpack.Encoder) error {
	fields := 4
	if m.Ring != 0 {
		fields++
	}
	w := fieldWriter{e: e}
	w.mapLen(fields)
	w.uint("i", m.ReqID)
	w.uint("p", uint64(m.Partition))
	w.bytes("k", m.Key)
	w.siblings("v", m.Versions)
	if m.Ring != 0 {
		w.uint("r", m.Ring)
	}
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *ReplicaPut) DecodeMsgpack(d *msgpack.Decoder) error {
	*m = ReplicaPut{}
	return decodeFields(d, "ReplicaPut", func(key string) (bool, error) {
		var err error
		switch key {
		case "i":
			m.ReqID, err = d.DecodeUint64()
		case "p":
			m.Partition, err = d.DecodeUint32()
		case "k":
			m.Key, err = d.DecodeBytes()
		case "v":
			err = m.Versions.DecodeMsgpack(d)
		case "r":
			m.Ring, err = d.DecodeUint64()
		default:
			return false, nil
		}
		return true, err
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *ReplicaGetReply) EncodeMsgpack(e *msgpack.Encoder) error {
	fields := 4
	if m.Partial {
		fields++
	}
	w := fieldWriter{e: e}
	w.mapLen(fields)
	w.uint("i", m.ReqID)
	w.str("n", m.Node)
	w.siblings("v", m.Versions)
	w.str("e", m.Err)
	if m.Partial {
		w.bool("f", true)
	}
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *ReplicaGetReply) DecodeMsgpack(d *msgpack.Decoder) error {
	*m = ReplicaGetReply{}
	return decodeFields(d, "ReplicaGetReply", func(key string) (bool, error) {
		var err error
		switch key {
		case "i":
			m.ReqID, err = d.DecodeUint64()
		case "n":
			m.Node, err = intern.Decode(d)
		case "v":
			err = m.Versions.DecodeMsgpack(d)
		case "e":
			m.Err, err = d.DecodeString()
		case "f":
			m.Partial, err = d.DecodeBool()
		default:
			return false, nil
		}
		return true, err
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *CoordinatePut) EncodeMsgpack(e *msgpack.Encoder) error {
	w := fieldWriter{e: e}
	w.mapLen(7)
	w.str("o", m.Home)
	w.uint("i", m.ReqID)
	w.uint("p", uint64(m.Partition))
	w.bytes("k", m.Key)
	w.bytes("v", m.Value)
	w.bool("d", m.Delete)
	w.clock("c", m.Context)
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *CoordinatePut) DecodeMsgpack(d *msgpack.Decoder) error {
	*m = CoordinatePut{}
	return decodeFields(d, "CoordinatePut", func(key string) (bool, error) {
		var err error
		switch key {
		case "o":
			m.Home, err = intern.Decode(d)
		case "i":
			m.ReqID, err = d.DecodeUint64()
		case "p":
			m.Partition, err = d.DecodeUint32()
		case "k":
			m.Key, err = d.DecodeBytes()
		case "v":
			m.Value, err = d.DecodeBytes()
		case "d":
			m.Delete, err = d.DecodeBool()
		case "c":
			err = m.Context.DecodeMsgpack(d)
		default:
			return false, nil
		}
		return true, err
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *CoordinatePutDone) EncodeMsgpack(e *msgpack.Encoder) error {
	w := fieldWriter{e: e}
	w.mapLen(10)
	w.uint("i", m.ReqID)
	w.str("n", m.Node)
	w.version("v", m.Version)
	w.str("e", m.Err)
	w.siblings("s", m.Set)
	w.uint("p", uint64(m.Partition))
	w.bytes("k", m.Key)
	w.int("t", int64(m.Status))
	w.clock("r", m.Reply)
	w.bool("m", m.MaybeStored)
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *CoordinatePutDone) DecodeMsgpack(d *msgpack.Decoder) error {
	*m = CoordinatePutDone{}
	return decodeFields(d, "CoordinatePutDone", func(key string) (bool, error) {
		var err error
		switch key {
		case "i":
			m.ReqID, err = d.DecodeUint64()
		case "n":
			m.Node, err = intern.Decode(d)
		case "v":
			err = m.Version.DecodeMsgpack(d)
		case "e":
			m.Err, err = d.DecodeString()
		case "s":
			err = m.Set.DecodeMsgpack(d)
		case "p":
			m.Partition, err = d.DecodeUint32()
		case "k":
			m.Key, err = d.DecodeBytes()
		case "t":
			m.Status, err = d.DecodeInt()
		case "r":
			err = m.Reply.DecodeMsgpack(d)
		case "m":
			m.MaybeStored, err = d.DecodeBool()
		default:
			return false, nil
		}
		return true, err
	})
}
