package messages

import (
	"github.com/vmihailenco/msgpack/v5"
)

// Hand-written codecs of the messages between clients and coordinators
// (see fastcodec_fields.go).

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *ClientPut) EncodeMsgpack(e *msgpack.Encoder) error {
	w := fieldWriter{e: e}
	w.mapLen(9)
	w.bytes("k", m.Key)
	w.bytes("v", m.Value)
	w.clock("c", m.Context)
	w.bool("d", m.Delete)
	w.int("w", int64(m.W))
	w.int("pw", int64(m.PW))
	w.int("h", int64(m.Hops))
	w.uint("id", m.ID)
	w.str("o", m.Origin)
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *ClientPut) DecodeMsgpack(d *msgpack.Decoder) error {
	*m = ClientPut{}
	return decodeFields(d, "ClientPut", func(key string) (bool, error) {
		var err error
		switch key {
		case "k":
			m.Key, err = d.DecodeBytes()
		case "v":
			m.Value, err = d.DecodeBytes()
		case "c":
			err = m.Context.DecodeMsgpack(d)
		case "d":
			m.Delete, err = d.DecodeBool()
		case "w":
			m.W, err = d.DecodeInt()
		case "pw":
			m.PW, err = d.DecodeInt()
		case "h":
			m.Hops, err = d.DecodeInt()
		case "id":
			m.ID, err = d.DecodeUint64()
		case "o":
			m.Origin, err = d.DecodeString()
		default:
			return false, nil
		}
		return true, err
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *ClientPutReply) EncodeMsgpack(e *msgpack.Encoder) error {
	fields := 4
	if m.Ring != 0 {
		fields++
	}
	w := fieldWriter{e: e}
	w.mapLen(fields)
	w.int("s", int64(m.Status))
	w.str("e", m.Err)
	w.clock("c", m.Context)
	w.bool("u", m.Unknown)
	if m.Ring != 0 {
		w.uint("r", m.Ring)
	}
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *ClientPutReply) DecodeMsgpack(d *msgpack.Decoder) error {
	*m = ClientPutReply{}
	return decodeFields(d, "ClientPutReply", func(key string) (bool, error) {
		var err error
		switch key {
		case "s":
			m.Status, err = d.DecodeInt()
		case "e":
			m.Err, err = d.DecodeString()
		case "c":
			err = m.Context.DecodeMsgpack(d)
		case "u":
			m.Unknown, err = d.DecodeBool()
		case "r":
			m.Ring, err = d.DecodeUint64()
		default:
			return false, nil
		}
		return true, err
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *ClientGet) EncodeMsgpack(e *msgpack.Encoder) error {
	w := fieldWriter{e: e}
	w.mapLen(3)
	w.bytes("k", m.Key)
	w.int("r", int64(m.R))
	w.int("pr", int64(m.PR))
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *ClientGet) DecodeMsgpack(d *msgpack.Decoder) error {
	*m = ClientGet{}
	return decodeFields(d, "ClientGet", func(key string) (bool, error) {
		var err error
		switch key {
		case "k":
			m.Key, err = d.DecodeBytes()
		case "r":
			m.R, err = d.DecodeInt()
		case "pr":
			m.PR, err = d.DecodeInt()
		default:
			return false, nil
		}
		return true, err
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *ClientGetReply) EncodeMsgpack(e *msgpack.Encoder) error {
	fields := 4
	if m.Ring != 0 {
		fields++
	}
	w := fieldWriter{e: e}
	w.mapLen(fields)
	w.int("s", int64(m.Status))
	w.str("e", m.Err)
	w.bytesList("v", m.Values)
	w.clock("c", m.Context)
	if m.Ring != 0 {
		w.uint("r", m.Ring)
	}
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *ClientGetReply) DecodeMsgpack(d *msgpack.Decoder) error {
	*m = ClientGetReply{}
	return decodeFields(d, "ClientGetReply", func(key string) (bool, error) {
		var err error
		switch key {
		case "s":
			m.Status, err = d.DecodeInt()
		case "e":
			m.Err, err = d.DecodeString()
		case "v":
			m.Values, err = decodeBytesList(d)
		case "c":
			err = m.Context.DecodeMsgpack(d)
		case "r":
			m.Ring, err = d.DecodeUint64()
		default:
			return false, nil
		}
		return true, err
	})
}
