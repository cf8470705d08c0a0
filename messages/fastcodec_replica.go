package messages

import (
	"github.com/dynamokv/dynamo/internal/mpbuf"
)

// Hand-written codecs of the messages between coordinators and vnodes
// (see fastcodec_fields.go).

func (m *ReplicaPut) appendBody(dst []byte) []byte {
	fields := 4
	if m.Ring != 0 {
		fields++
	}
	dst = mpbuf.AppendMapLen(dst, fields)
	dst = mpbuf.AppendUint(appendKey(dst, "i"), m.ReqID)
	dst = mpbuf.AppendUint(appendKey(dst, "p"), uint64(m.Partition))
	dst = mpbuf.AppendBytes(appendKey(dst, "k"), m.Key)
	dst = m.Versions.AppendMsgpack(appendKey(dst, "v"))
	if m.Ring != 0 {
		dst = mpbuf.AppendUint(appendKey(dst, "r"), m.Ring)
	}
	return dst
}

func (m *ReplicaPut) decodeFrom(r *mpbuf.Reader) error {
	*m = ReplicaPut{}
	return readFields(r, "ReplicaPut", func(key []byte) (bool, error) {
		var err error
		switch string(key) {
		case "i":
			m.ReqID, err = r.Uint64()
		case "p":
			m.Partition, err = r.Uint32()
		case "k":
			m.Key, err = r.Bytes()
		case "v":
			err = m.Versions.DecodeFrom(r)
		case "r":
			m.Ring, err = r.Uint64()
		default:
			return false, nil
		}
		return true, err
	})
}

func (m *ReplicaGetReply) appendBody(dst []byte) []byte {
	fields := 4
	for _, set := range []bool{m.Partial, m.Hash != 0, m.Digest} {
		if set {
			fields++
		}
	}
	dst = mpbuf.AppendMapLen(dst, fields)
	dst = mpbuf.AppendUint(appendKey(dst, "i"), m.ReqID)
	dst = mpbuf.AppendString(appendKey(dst, "n"), m.Node)
	dst = m.Versions.AppendMsgpack(appendKey(dst, "v"))
	dst = mpbuf.AppendString(appendKey(dst, "e"), m.Err)
	if m.Partial {
		dst = mpbuf.AppendBool(appendKey(dst, "f"), true)
	}
	if m.Hash != 0 {
		dst = mpbuf.AppendUint(appendKey(dst, "h"), m.Hash)
	}
	if m.Digest {
		dst = mpbuf.AppendBool(appendKey(dst, "g"), true)
	}
	return dst
}

func (m *ReplicaGetReply) decodeFrom(r *mpbuf.Reader) error {
	*m = ReplicaGetReply{}
	return readFields(r, "ReplicaGetReply", func(key []byte) (bool, error) {
		var err error
		switch string(key) {
		case "i":
			m.ReqID, err = r.Uint64()
		case "n":
			m.Node, err = r.Interned()
		case "v":
			err = m.Versions.DecodeFrom(r)
		case "e":
			m.Err, err = r.String()
		case "f":
			m.Partial, err = r.Bool()
		case "h":
			m.Hash, err = r.Uint64()
		case "g":
			m.Digest, err = r.Bool()
		default:
			return false, nil
		}
		return true, err
	})
}

func (m *CoordinatePut) appendBody(dst []byte) []byte {
	dst = mpbuf.AppendMapLen(dst, 7+nonEmpty(m.Also))
	dst = mpbuf.AppendString(appendKey(dst, "o"), m.Home)
	dst = mpbuf.AppendUint(appendKey(dst, "i"), m.ReqID)
	dst = mpbuf.AppendUint(appendKey(dst, "p"), uint64(m.Partition))
	dst = mpbuf.AppendBytes(appendKey(dst, "k"), m.Key)
	dst = mpbuf.AppendBytes(appendKey(dst, "v"), m.Value)
	dst = mpbuf.AppendBool(appendKey(dst, "d"), m.Delete)
	dst = m.Context.AppendMsgpack(appendKey(dst, "c"))
	return appendAlso(dst, "a", m.Also)
}

func (m *CoordinatePut) decodeFrom(r *mpbuf.Reader) error {
	*m = CoordinatePut{}
	return readFields(r, "CoordinatePut", func(key []byte) (bool, error) {
		var err error
		switch string(key) {
		case "o":
			m.Home, err = r.Interned()
		case "i":
			m.ReqID, err = r.Uint64()
		case "p":
			m.Partition, err = r.Uint32()
		case "k":
			m.Key, err = r.Bytes()
		case "v":
			m.Value, err = r.Bytes()
		case "d":
			m.Delete, err = r.Bool()
		case "c":
			err = m.Context.DecodeFrom(r)
		case "a":
			err = m.Also.DecodeFrom(r)
		default:
			return false, nil
		}
		return true, err
	})
}

func (m *CoordinatePutDone) appendBody(dst []byte) []byte {
	dst = mpbuf.AppendMapLen(dst, 10+nonEmpty(m.ReplyAlso))
	dst = mpbuf.AppendUint(appendKey(dst, "i"), m.ReqID)
	dst = mpbuf.AppendString(appendKey(dst, "n"), m.Node)
	dst = m.Version.AppendMsgpack(appendKey(dst, "v"))
	dst = mpbuf.AppendString(appendKey(dst, "e"), m.Err)
	dst = m.Set.AppendMsgpack(appendKey(dst, "s"))
	dst = mpbuf.AppendUint(appendKey(dst, "p"), uint64(m.Partition))
	dst = mpbuf.AppendBytes(appendKey(dst, "k"), m.Key)
	dst = mpbuf.AppendInt(appendKey(dst, "t"), int64(m.Status))
	dst = m.Reply.AppendMsgpack(appendKey(dst, "r"))
	dst = appendAlso(dst, "ra", m.ReplyAlso)
	return mpbuf.AppendBool(appendKey(dst, "m"), m.MaybeStored)
}

func (m *CoordinatePutDone) decodeFrom(r *mpbuf.Reader) error {
	*m = CoordinatePutDone{}
	return readFields(r, "CoordinatePutDone", func(key []byte) (bool, error) {
		var err error
		switch string(key) {
		case "i":
			m.ReqID, err = r.Uint64()
		case "n":
			m.Node, err = r.Interned()
		case "v":
			err = m.Version.DecodeFrom(r)
		case "e":
			m.Err, err = r.String()
		case "s":
			err = m.Set.DecodeFrom(r)
		case "p":
			m.Partition, err = r.Uint32()
		case "k":
			m.Key, err = r.Bytes()
		case "t":
			m.Status, err = r.Int()
		case "ra":
			err = m.ReplyAlso.DecodeFrom(r)
		case "r":
			err = m.Reply.DecodeFrom(r)
		case "m":
			m.MaybeStored, err = r.Bool()
		default:
			return false, nil
		}
		return true, err
	})
}
