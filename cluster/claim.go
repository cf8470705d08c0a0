package cluster

import "slices"

// assign computes the primary owner (a slot: the index of the join that
// brought the member in) of every partition by replaying the membership's
// events in order. The first member starts with all q partitions; each
// later join claims exactly floor(q/S) of them, S the members present
// after it, which is the least any claim can take and still leave every
// member with floor or ceil of q/S; each leave hands the leaver's
// partitions, one by one, to the members holding fewest. Because each step
// depends only on the previous one, a join moves only what it claims and a
// leave only what the leaver held, wherever it stands in the history.
func assign(q int, events []Event, slots int) []int32 {
	owner := make([]int32, q)
	c := claimer{
		q:      q,
		owner:  owner,
		counts: make([]int, slots),
		left:   make([]int, q),
		right:  make([]int, q),
	}
	present := make([]bool, slots)
	alive, next := 0, 0
	slotOf := map[string]int{}
	for _, ev := range events {
		if ev.Leave {
			k := slotOf[ev.Member.ID]
			present[k] = false
			alive--
			c.release(k, present)
			continue
		}
		k := next
		next++
		slotOf[ev.Member.ID] = k
		present[k] = true
		alive++
		if alive == 1 {
			// Alone (the first member, or every other has left): it
			// takes everything.
			for p := range owner {
				owner[p] = int32(k)
			}
			clear(c.counts)
			c.counts[k] = q
			continue
		}
		c.claim(k, q/alive, claimStart(q, k))
	}
	return owner
}

// release hands the partitions of member k, in ring order, to the present
// members so that each ends with floor or ceil of q over them: the extra
// partitions go to those holding most already (the earliest joined on
// ties), so nobody has to give one up. Among the members still short, a
// partition goes to one that holds neither of its neighbours where it can,
// so that walks stay short; then to the one shortest, then the earliest.
func (c *claimer) release(k int, present []bool) {
	var alive []int
	for o, ok := range present {
		if ok {
			alive = append(alive, o)
		}
	}
	if len(alive) == 0 {
		return // nobody left to take them: the next join takes everything
	}
	floor, extra := c.q/len(alive), c.q%len(alive)
	byLoad := append([]int(nil), alive...)
	slices.SortStableFunc(byLoad, func(a, b int) int { return c.counts[b] - c.counts[a] })
	need := make(map[int]int, len(alive))
	for i, o := range byLoad {
		target := floor
		if i < extra {
			target++
		}
		need[o] = max(0, target-c.counts[o])
	}
	mask := c.q - 1
	for p := 0; p < c.q; p++ {
		if int(c.owner[p]) != k {
			continue
		}
		best, bestAdj := -1, false
		for _, o := range alive {
			if need[o] == 0 {
				continue
			}
			adj := int(c.owner[(p+1)&mask]) == o || int(c.owner[(p-1)&mask]) == o
			switch {
			case best < 0, bestAdj && !adj, adj == bestAdj && need[o] > need[best]:
				best, bestAdj = o, adj
			}
		}
		if best < 0 { // cannot happen: the needs add up to what k held
			best = alive[0]
		}
		c.owner[p] = int32(best)
		c.counts[best]++
		c.counts[k]--
		need[best]--
	}
}

// claimStart picks where member k begins scanning. Bit-reversing the join
// index spreads successive members' first claims evenly over the ring
// (0, 1/2, 1/4, 3/4, ...) so consecutive joiners do not pile up on the
// same region, and it depends only on the position in the list.
func claimStart(q, k int) int {
	bits := log2(q)
	if bits == 0 {
		return 0
	}
	var rev uint64
	x := uint64(k)
	for i := 0; i < bits; i++ {
		rev = rev<<1 | x&1
		x >>= 1
	}
	return int(rev)
}

// claimer holds the scratch state shared by successive claims and the
// bookkeeping of the claim in progress.
type claimer struct {
	q      int
	owner  []int32
	counts []int
	// left[x] and right[x] are circular distances, in scan order, from x to
	// the nearest partition the claiming member already owned when the
	// current pass began.
	left, right []int

	k, want, got int   // claiming member, its quota, claimed so far
	surplus      []int // planned donation per member, for strict passes
	need         int   // donations still forced to reach balance
	flexible     bool  // any donation that keeps balance reachable is allowed
}

// claim lets member k take want partitions from the most-loaded members.
func (c *claimer) claim(k, want, start int) {
	c.k, c.want, c.got = k, want, 0
	if c.want == 0 {
		return // more members than partitions: late joiners own nothing
	}
	c.surplus = donations(c.counts[:k], c.want)
	c.flexible = false

	// Claim with a minimum spacing d between the new member's partitions,
	// starting at the ideal even spacing and relaxing it until the quota
	// is met. Spacing is what keeps preference-list walks short: a member
	// never shows up twice in a window narrower than its spacing, and the
	// spacing of older members only grows as they give partitions away.
	//
	// Strict passes take exactly the water-filling donations. If they
	// cannot avoid adjacent partitions, flexible passes may take from any
	// member above the new fair share, as long as everyone still ends
	// with floor or ceil of it, before adjacency is finally accepted.
	for d := c.q / c.want; c.got < c.want && d >= 2; d -= max(1, d/4) {
		c.pass(start, d)
	}
	if c.got < c.want {
		c.flexible = true
		c.need = 0
		for _, n := range c.counts[:k] {
			c.need += max(0, n-(c.want+1))
		}
		for d := c.q / c.want; c.got < c.want; d -= max(1, d/4) {
			c.pass(start, max(d, 1))
		}
	}
	c.counts[k] = c.got
}

// donations decides how many partitions each existing member hands over by
// water-filling: repeatedly take one from the currently most-loaded member,
// the earliest in the list on ties, so the result is deterministic.
func donations(counts []int, want int) []int {
	load := append([]int(nil), counts...)
	surplus := make([]int, len(counts))
	for range want {
		best := 0
		for i := 1; i < len(load); i++ {
			if load[i] > load[best] {
				best = i
			}
		}
		load[best]--
		surplus[best]++
	}
	return surplus
}

// donor reports whether member o may give up a partition now.
func (c *claimer) donor(o int) bool {
	if !c.flexible {
		return c.surplus[o] > 0
	}
	n := c.counts[o]
	// Members above want+1 must donate; others only while enough claims
	// remain to cover those forced donations.
	return n > c.want+1 || (n == c.want+1 && c.need < c.want-c.got)
}

// pass scans the ring once from start and claims partitions from donors
// that lie at least d partitions away from every partition member k owns.
func (c *claimer) pass(start, d int) {
	q, mask := c.q, c.q-1
	c.distances(c.k, start)
	first, last := -1, -1
	for x := 0; x < q && c.got < c.want; x++ {
		p := (start + x) & mask
		o := int(c.owner[p])
		if o == c.k || !c.donor(o) {
			continue
		}
		dl, dr := c.left[x], c.right[x]
		// Claims made earlier in this pass all lie before x in scan order:
		// the latest is the nearest on the left, the first is the nearest
		// on the right once the scan wraps around.
		if last >= 0 {
			dl = min(dl, x-last)
			dr = min(dr, first+q-x)
		}
		if min(dl, dr) < d {
			continue
		}
		if !c.flexible {
			c.surplus[o]--
		} else if c.counts[o] > c.want+1 {
			c.need--
		}
		c.owner[p] = int32(c.k)
		c.counts[o]--
		c.got++
		if first < 0 {
			first = x
		}
		last = x
	}
}

// distances fills left and right for member k in scan coordinates starting
// at start. A member that owns nothing gets distance q everywhere, which
// never blocks a claim.
func (c *claimer) distances(k, start int) {
	q, mask := c.q, c.q-1
	first, last := -1, -1
	for x := 0; x < q; x++ {
		if int(c.owner[(start+x)&mask]) == k {
			if first < 0 {
				first = x
			}
			last = x
		}
	}
	if first < 0 {
		for x := range q {
			c.left[x], c.right[x] = q, q
		}
		return
	}
	// Seeding each sweep with the owned partition on the far side of the
	// wrap makes the distances circular.
	prev := last - q
	for x := 0; x < q; x++ {
		if int(c.owner[(start+x)&mask]) == k {
			prev = x
		}
		c.left[x] = x - prev
	}
	next := first + q
	for x := q - 1; x >= 0; x-- {
		if int(c.owner[(start+x)&mask]) == k {
			next = x
		}
		c.right[x] = next - x
	}
}

// log2 returns the base-2 logarithm of q, which must be a power of two.
func log2(q int) int {
	n := 0
	for q > 1 {
		q >>= 1
		n++
	}
	return n
}
