package messages

import (
	"github.com/dynamokv/dynamo/internal/mpbuf"
	"github.com/dynamokv/dynamo/version"
)

// Hand-written codecs of the messages between clients and coordinators
// (see fastcodec_fields.go).

func (m *ClientPut) appendBody(dst []byte) []byte {
	dst = mpbuf.AppendMapLen(dst, 9+nonEmpty(m.Also))
	dst = mpbuf.AppendBytes(appendKey(dst, "k"), m.Key)
	dst = mpbuf.AppendBytes(appendKey(dst, "v"), m.Value)
	dst = m.Context.AppendMsgpack(appendKey(dst, "c"))
	dst = appendAlso(dst, "a", m.Also)
	dst = mpbuf.AppendBool(appendKey(dst, "d"), m.Delete)
	dst = mpbuf.AppendInt(appendKey(dst, "w"), int64(m.W))
	dst = mpbuf.AppendInt(appendKey(dst, "pw"), int64(m.PW))
	dst = mpbuf.AppendInt(appendKey(dst, "h"), int64(m.Hops))
	dst = mpbuf.AppendUint(appendKey(dst, "id"), m.ID)
	return mpbuf.AppendString(appendKey(dst, "o"), m.Origin)
}

func (m *ClientPut) decodeFrom(r *mpbuf.Reader) error {
	*m = ClientPut{}
	return readFields(r, "ClientPut", func(key []byte) (bool, error) {
		var err error
		switch string(key) {
		case "k":
			m.Key, err = r.Bytes()
		case "v":
			m.Value, err = r.Bytes()
		case "c":
			err = m.Context.DecodeFrom(r)
		case "a":
			err = m.Also.DecodeFrom(r)
		case "d":
			m.Delete, err = r.Bool()
		case "w":
			m.W, err = r.Int()
		case "pw":
			m.PW, err = r.Int()
		case "h":
			m.Hops, err = r.Int()
		case "id":
			m.ID, err = r.Uint64()
		case "o":
			m.Origin, err = r.String()
		default:
			return false, nil
		}
		return true, err
	})
}

func (m *ClientPutReply) appendBody(dst []byte) []byte {
	fields := 4 + nonEmpty(m.Also)
	if m.Ring != 0 {
		fields++
	}
	dst = mpbuf.AppendMapLen(dst, fields)
	dst = mpbuf.AppendInt(appendKey(dst, "s"), int64(m.Status))
	dst = mpbuf.AppendString(appendKey(dst, "e"), m.Err)
	dst = m.Context.AppendMsgpack(appendKey(dst, "c"))
	dst = appendAlso(dst, "a", m.Also)
	dst = mpbuf.AppendBool(appendKey(dst, "u"), m.Unknown)
	if m.Ring != 0 {
		dst = mpbuf.AppendUint(appendKey(dst, "r"), m.Ring)
	}
	return dst
}

func (m *ClientPutReply) decodeFrom(r *mpbuf.Reader) error {
	*m = ClientPutReply{}
	return readFields(r, "ClientPutReply", func(key []byte) (bool, error) {
		var err error
		switch string(key) {
		case "s":
			m.Status, err = r.Int()
		case "e":
			m.Err, err = r.String()
		case "c":
			err = m.Context.DecodeFrom(r)
		case "a":
			err = m.Also.DecodeFrom(r)
		case "u":
			m.Unknown, err = r.Bool()
		case "r":
			m.Ring, err = r.Uint64()
		default:
			return false, nil
		}
		return true, err
	})
}

func (m *ClientGet) appendBody(dst []byte) []byte {
	dst = mpbuf.AppendMapLen(dst, 3)
	dst = mpbuf.AppendBytes(appendKey(dst, "k"), m.Key)
	dst = mpbuf.AppendInt(appendKey(dst, "r"), int64(m.R))
	return mpbuf.AppendInt(appendKey(dst, "pr"), int64(m.PR))
}

func (m *ClientGet) decodeFrom(r *mpbuf.Reader) error {
	*m = ClientGet{}
	return readFields(r, "ClientGet", func(key []byte) (bool, error) {
		var err error
		switch string(key) {
		case "k":
			m.Key, err = r.Bytes()
		case "r":
			m.R, err = r.Int()
		case "pr":
			m.PR, err = r.Int()
		default:
			return false, nil
		}
		return true, err
	})
}

func (m *ClientGetReply) appendBody(dst []byte) []byte {
	fields := 4 + nonEmpty(m.Also)
	if m.Ring != 0 {
		fields++
	}
	dst = mpbuf.AppendMapLen(dst, fields)
	dst = mpbuf.AppendInt(appendKey(dst, "s"), int64(m.Status))
	dst = mpbuf.AppendString(appendKey(dst, "e"), m.Err)
	dst = appendBytesList(appendKey(dst, "v"), m.Values)
	dst = m.Context.AppendMsgpack(appendKey(dst, "c"))
	dst = appendAlso(dst, "a", m.Also)
	if m.Ring != 0 {
		dst = mpbuf.AppendUint(appendKey(dst, "r"), m.Ring)
	}
	return dst
}

func (m *ClientGetReply) decodeFrom(r *mpbuf.Reader) error {
	*m = ClientGetReply{}
	return readFields(r, "ClientGetReply", func(key []byte) (bool, error) {
		var err error
		switch string(key) {
		case "s":
			m.Status, err = r.Int()
		case "e":
			m.Err, err = r.String()
		case "v":
			m.Values, err = readBytesList(r)
		case "c":
			err = m.Context.DecodeFrom(r)
		case "a":
			err = m.Also.DecodeFrom(r)
		case "r":
			m.Ring, err = r.Uint64()
		default:
			return false, nil
		}
		return true, err
	})
}

// nonEmpty counts an omitempty list of dots as a field when it holds any.
func nonEmpty(ds version.Dots) int {
	if len(ds) == 0 {
		return 0
	}
	return 1
}

// appendAlso appends an omitempty list of dots under key.
func appendAlso(dst []byte, key string, ds version.Dots) []byte {
	if len(ds) == 0 {
		return dst
	}
	return ds.AppendMsgpack(appendKey(dst, key))
}
