package messages

import (
	"github.com/dynamokv/dynamo/internal/mpbuf"
)

// Hand-written codecs of the transport's benchmark messages and of the
// small replica messages (see fastcodec_fields.go).

func (m *Blob) appendBody(dst []byte) []byte {
	dst = mpbuf.AppendMapLen(dst, 2)
	dst = mpbuf.AppendUint(appendKey(dst, "s"), m.Seq)
	return mpbuf.AppendBytes(appendKey(dst, "d"), m.Data)
}

func (m *Blob) decodeFrom(r *mpbuf.Reader) error {
	*m = Blob{}
	return readFields(r, "Blob", func(key []byte) (bool, error) {
		var err error
		switch string(key) {
		case "s":
			m.Seq, err = r.Uint64()
		case "d":
			m.Data, err = r.Bytes()
		default:
			return false, nil
		}
		return true, err
	})
}

func (m *Echo) appendBody(dst []byte) []byte {
	dst = mpbuf.AppendMapLen(dst, 3)
	dst = mpbuf.AppendUint(appendKey(dst, "s"), m.Seq)
	dst = mpbuf.AppendInt(appendKey(dst, "t"), m.Sent)
	return mpbuf.AppendBytes(appendKey(dst, "d"), m.Data)
}

func (m *Echo) decodeFrom(r *mpbuf.Reader) error {
	*m = Echo{}
	return readFields(r, "Echo", func(key []byte) (bool, error) {
		var err error
		switch string(key) {
		case "s":
			m.Seq, err = r.Uint64()
		case "t":
			m.Sent, err = r.Int64()
		case "d":
			m.Data, err = r.Bytes()
		default:
			return false, nil
		}
		return true, err
	})
}

func (m *ReplicaPutAck) appendBody(dst []byte) []byte {
	dst = mpbuf.AppendMapLen(dst, 3)
	dst = mpbuf.AppendUint(appendKey(dst, "i"), m.ReqID)
	dst = mpbuf.AppendString(appendKey(dst, "n"), m.Node)
	return mpbuf.AppendString(appendKey(dst, "e"), m.Err)
}

func (m *ReplicaPutAck) decodeFrom(r *mpbuf.Reader) error {
	*m = ReplicaPutAck{}
	return readFields(r, "ReplicaPutAck", func(key []byte) (bool, error) {
		var err error
		switch string(key) {
		case "i":
			m.ReqID, err = r.Uint64()
		case "n":
			m.Node, err = r.Interned()
		case "e":
			m.Err, err = r.String()
		default:
			return false, nil
		}
		return true, err
	})
}

func (m *ReplicaGet) appendBody(dst []byte) []byte {
	fields := 3
	if m.Ring != 0 {
		fields++
	}
	if m.Digest {
		fields++
	}
	dst = mpbuf.AppendMapLen(dst, fields)
	dst = mpbuf.AppendUint(appendKey(dst, "i"), m.ReqID)
	dst = mpbuf.AppendUint(appendKey(dst, "p"), uint64(m.Partition))
	if m.Ring != 0 {
		dst = mpbuf.AppendUint(appendKey(dst, "r"), m.Ring)
	}
	if m.Digest {
		dst = mpbuf.AppendBool(appendKey(dst, "d"), true)
	}
	return mpbuf.AppendBytes(appendKey(dst, "k"), m.Key)
}

func (m *ReplicaGet) decodeFrom(r *mpbuf.Reader) error {
	*m = ReplicaGet{}
	return readFields(r, "ReplicaGet", func(key []byte) (bool, error) {
		var err error
		switch string(key) {
		case "i":
			m.ReqID, err = r.Uint64()
		case "p":
			m.Partition, err = r.Uint32()
		case "k":
			m.Key, err = r.Bytes()
		case "r":
			m.Ring, err = r.Uint64()
		case "d":
			m.Digest, err = r.Bool()
		default:
			return false, nil
		}
		return true, err
	})
}
