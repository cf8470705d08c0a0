package messages

import (
	"github.com/vmihailenco/msgpack/v5"
)

// Hand-written codecs of the messages between clients and coordinators
// (see fastcodec_fields.go).

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *ClientPut) EncodeMsgpack(e *msgpack.Encoder) error {
	if err := e.EncodeMapLen(9); err != nil {
		return err
	}
	if err := encodeBytesField(e, "k", m.Key); err != nil {
		return err
	}
	if err := encodeBytesField(e, "v", m.Value); err != nil {
		return err
	}
	if err := encodeClockField(e, "c", m.Context); err != nil {
		return err
	}
	if err := encodeBoolField(e, "d", m.Delete); err != nil {
		return err
	}
	if err := encodeIntField(e, "w", int64(m.W)); err != nil {
		return err
	}
	if err := encodeIntField(e, "pw", int64(m.PW)); err != nil {
		return err
	}
	if err := encodeIntField(e, "h", int64(m.Hops)); err != nil {
		return err
	}
	if err := encodeUintField(e, "id", m.ID); err != nil {
		return err
	}
	return encodeStringField(e, "o", m.Origin)
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
	if err := e.EncodeMapLen(fields); err != nil {
		return err
	}
	if err := encodeIntField(e, "s", int64(m.Status)); err != nil {
		return err
	}
	if err := encodeStringField(e, "e", m.Err); err != nil {
		return err
	}
	if err := encodeClockField(e, "c", m.Context); err != nil {
		return err
	}
	if err := encodeBoolField(e, "u", m.Unknown); err != nil {
		return err
	}
	if m.Ring != 0 {
		return encodeUintField(e, "r", m.Ring)
	}
	return nil
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
	if err := e.EncodeMapLen(3); err != nil {
		return err
	}
	if err := encodeBytesField(e, "k", m.Key); err != nil {
		return err
	}
	if err := encodeIntField(e, "r", int64(m.R)); err != nil {
		return err
	}
	return encodeIntField(e, "pr", int64(m.PR))
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
	if err := e.EncodeMapLen(fields); err != nil {
		return err
	}
	if err := encodeIntField(e, "s", int64(m.Status)); err != nil {
		return err
	}
	if err := encodeStringField(e, "e", m.Err); err != nil {
		return err
	}
	if err := encodeBytesListField(e, "v", m.Values); err != nil {
		return err
	}
	if err := encodeClockField(e, "c", m.Context); err != nil {
		return err
	}
	if m.Ring != 0 {
		return encodeUintField(e, "r", m.Ring)
	}
	return nil
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
