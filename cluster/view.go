package cluster

import "sync/atomic"

// View is the ring a node currently routes by, with the membership version
// it was built from: swapped atomically when the membership changes, read
// without a lock by every actor that needs it.
type View struct {
	p atomic.Pointer[versioned]
}

type versioned struct {
	ring    *Ring
	version uint64
}

// NewView returns a view holding r at version.
func NewView(r *Ring, version uint64) *View {
	v := &View{}
	v.Store(r, version)
	return v
}

// Load returns the current ring.
func (v *View) Load() *Ring {
	if x := v.p.Load(); x != nil {
		return x.ring
	}
	return nil
}

// Version returns the membership version of the current ring.
func (v *View) Version() uint64 {
	if x := v.p.Load(); x != nil {
		return x.version
	}
	return 0
}

// Store makes r, built from membership version, the current ring.
func (v *View) Store(r *Ring, version uint64) { v.p.Store(&versioned{ring: r, version: version}) }
