// Package cache holds a byte-bounded least-recently-used cache for state
// owned by one actor.
package cache

// LRU maps keys to values and evicts the least recently used entries once
// the sizes of its entries add up to more than its bound. The caller gives
// each entry's size, so the bound means whatever the caller counts (bytes
// of memory, usually). It is not safe for concurrent use: it is meant to be
// owned by one actor, which needs no lock.
//
// Keys are byte slices so that a lookup does not allocate; the cache keeps
// its own copy of a key it stores.
type LRU[V any] struct {
	max   int
	used  int
	items map[string]*entry[V]
	// root is the sentinel of a circular list: root.next is the most
	// recently used entry, root.prev the least.
	root entry[V]
	// spare is the last evicted entry, reused by the next insertion so
	// that a full cache churning through keys allocates only the key.
	spare *entry[V]
}

type entry[V any] struct {
	key        string
	val        V
	size       int
	prev, next *entry[V]
}

// NewLRU returns an empty cache holding at most maxSize. A bound of 0 or
// less makes a cache that holds nothing.
func NewLRU[V any](maxSize int) *LRU[V] {
	c := &LRU[V]{max: max(maxSize, 0), items: make(map[string]*entry[V])}
	c.root.next, c.root.prev = &c.root, &c.root
	return c
}

// Get returns key's value and marks it most recently used.
func (c *LRU[V]) Get(key []byte) (v V, ok bool) {
	e := c.items[string(key)]
	if e == nil {
		return v, false
	}
	c.moveToFront(e)
	return e.val, true
}

// Put sets key's value, counting size towards the bound, and evicts the
// least recently used entries until the bound holds again. An entry larger
// than the whole bound is not stored, and any older value of key is
// dropped, so Get never returns a value older than the last Put. A cache
// bounded by 0 stores nothing, whatever the size.
func (c *LRU[V]) Put(key []byte, v V, size int) {
	size = max(size, 0)
	if size > c.max || c.max == 0 {
		c.Remove(key)
		return
	}
	if e := c.items[string(key)]; e != nil {
		c.used += size - e.size
		e.val, e.size = v, size
		c.moveToFront(e)
		c.evict(e)
		return
	}
	c.used += size
	c.evict(nil)
	e := c.spare
	c.spare = nil
	if e == nil {
		e = new(entry[V])
	}
	e.key, e.val, e.size = string(key), v, size
	c.items[e.key] = e
	c.pushFront(e)
}

// Remove drops key if it is cached.
func (c *LRU[V]) Remove(key []byte) {
	if e := c.items[string(key)]; e != nil {
		c.drop(e)
	}
}

// Clear drops every entry.
func (c *LRU[V]) Clear() {
	clear(c.items)
	c.root.next, c.root.prev = &c.root, &c.root
	c.used, c.spare = 0, nil
}

// Len returns the number of entries.
func (c *LRU[V]) Len() int { return len(c.items) }

// Size returns the sum of the entries' sizes.
func (c *LRU[V]) Size() int { return c.used }

// Keys returns the keys from most to least recently used, for tests and
// diagnostics.
func (c *LRU[V]) Keys() []string {
	out := make([]string, 0, len(c.items))
	for e := c.root.next; e != &c.root; e = e.next {
		out = append(out, e.key)
	}
	return out
}

// evict drops least recently used entries other than keep until the bound
// holds.
func (c *LRU[V]) evict(keep *entry[V]) {
	for c.used > c.max {
		e := c.root.prev
		if e == &c.root || e == keep {
			return
		}
		c.drop(e)
	}
}

func (c *LRU[V]) drop(e *entry[V]) {
	delete(c.items, e.key)
	e.prev.next, e.next.prev = e.next, e.prev
	c.used -= e.size
	// Clear the references so that the spare keeps no value alive.
	*e = entry[V]{}
	c.spare = e
}

func (c *LRU[V]) moveToFront(e *entry[V]) {
	if c.root.next == e {
		return
	}
	e.prev.next, e.next.prev = e.next, e.prev
	c.pushFront(e)
}

func (c *LRU[V]) pushFront(e *entry[V]) {
	e.prev, e.next = &c.root, c.root.next
	c.root.next.prev = e
	c.root.next = e
}
