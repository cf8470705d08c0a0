package actors

import "github.com/anthdm/hollywood/actor"

// vnodeAt names a vnode by its node's address and its partition.
type vnodeAt struct {
	addr      string
	partition uint32
}

// maxCachedVnodePIDs bounds the PID cache; past it the cache starts over
// (members that left, addresses that changed).
const maxCachedVnodePIDs = 1 << 14

// vnodePID is VnodePID, remembered.
func (co *Coordinator) vnodePID(addr string, p uint32) *actor.PID {
	k := vnodeAt{addr, p}
	if pid, ok := co.vnodes[k]; ok {
		return pid
	}
	if co.vnodes == nil || len(co.vnodes) >= maxCachedVnodePIDs {
		co.vnodes = make(map[vnodeAt]*actor.PID)
	}
	pid := VnodePID(addr, p)
	co.vnodes[k] = pid
	return pid
}
