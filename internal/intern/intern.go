// Package intern turns the short strings that recur in every message
// (member IDs in dots and clocks) into shared strings instead
// of a new allocation per decode.
//
// The table is a fixed array of slots, each holding the last string that
// hashed to it: no lock, no growth, and a string that is rare only costs
// the allocation it would have cost anyway. It is safe for concurrent use.
package intern

import "sync/atomic"

// MaxLen is the longest string kept; longer ones are allocated as usual.
const MaxLen = 32

const slots = 1 << 9

var table [slots]atomic.Pointer[string]

// Bytes returns string(b), shared with earlier calls for the same bytes
// when b is at most MaxLen long.
func Bytes(b []byte) string {
	if len(b) > MaxLen || len(b) == 0 {
		return string(b)
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	slot := &table[h&(slots-1)]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}
