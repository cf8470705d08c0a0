package messages

import (
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
	if err := e.EncodeMapLen(fields); err != nil {
		return err
	}
	if err := encodeUintField(e, "i", m.ReqID); err != nil {
		return err
	}
	if err := encodeUintField(e, "p", uint64(m.Partition)); err != nil {
		return err
	}
	if err := encodeBytesField(e, "k", m.Key); err != nil {
		return err
	}
	if err := encodeSiblingsField(e, "v", m.Versions); err != nil {
		return err
	}
	if m.Ring != 0 {
		return encodeUintField(e, "r", m.Ring)
	}
	return nil
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
	if err := e.EncodeMapLen(fields); err != nil {
		return err
	}
	if err := encodeUintField(e, "i", m.ReqID); err != nil {
		return err
	}
	if err := encodeStringField(e, "n", m.Node); err != nil {
		return err
	}
	if err := encodeSiblingsField(e, "v", m.Versions); err != nil {
		return err
	}
	if err := encodeStringField(e, "e", m.Err); err != nil {
		return err
	}
	if m.Partial {
		return encodeBoolField(e, "f", true)
	}
	return nil
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
			m.Node, err = d.DecodeString()
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
	if err := e.EncodeMapLen(7); err != nil {
		return err
	}
	if err := encodeStringField(e, "o", m.Home); err != nil {
		return err
	}
	if err := encodeUintField(e, "i", m.ReqID); err != nil {
		return err
	}
	if err := encodeUintField(e, "p", uint64(m.Partition)); err != nil {
		return err
	}
	if err := encodeBytesField(e, "k", m.Key); err != nil {
		return err
	}
	if err := encodeBytesField(e, "v", m.Value); err != nil {
		return err
	}
	if err := encodeBoolField(e, "d", m.Delete); err != nil {
		return err
	}
	return encodeClockField(e, "c", m.Context)
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *CoordinatePut) DecodeMsgpack(d *msgpack.Decoder) error {
	*m = CoordinatePut{}
	return decodeFields(d, "CoordinatePut", func(key string) (bool, error) {
		var err error
		switch key {
		case "o":
			m.Home, err = d.DecodeString()
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
	if err := e.EncodeMapLen(10); err != nil {
		return err
	}
	if err := encodeUintField(e, "i", m.ReqID); err != nil {
		return err
	}
	if err := encodeStringField(e, "n", m.Node); err != nil {
		return err
	}
	if err := e.EncodeString("v"); err != nil {
		return err
	}
	if err := m.Version.EncodeMsgpack(e); err != nil {
		return err
	}
	if err := encodeStringField(e, "e", m.Err); err != nil {
		return err
	}
	if err := encodeSiblingsField(e, "s", m.Set); err != nil {
		return err
	}
	if err := encodeUintField(e, "p", uint64(m.Partition)); err != nil {
		return err
	}
	if err := encodeBytesField(e, "k", m.Key); err != nil {
		return err
	}
	if err := encodeIntField(e, "t", int64(m.Status)); err != nil {
		return err
	}
	if err := encodeClockField(e, "r", m.Reply); err != nil {
		return err
	}
	return encodeBoolField(e, "m", m.MaybeStored)
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
			m.Node, err = d.DecodeString()
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
