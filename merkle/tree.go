// Package merkle is the hash tree a vnode keeps of its partition, for
// anti-entropy (Dynamo §4.7), in the style of Riak's Tictac trees: the
// partition's key-hash space is cut into fixed segments, the leaves; a
// segment's hash is the XOR of the item hashes of its keys, an item hash
// being a hash of the key and the canonical encoding of its sibling set
// (tombstones included). XOR makes the tree independent of the order keys
// were written in, lets a write update it in O(depth) by XORing in
// hash(old) ^ hash(new), and makes equal replicas have equal trees.
//
// Each inner node is the XOR of its children, so the whole tree is a
// function of the set of (key, sibling set) pairs, and two replicas find
// where they differ by comparing roots, then the children of differing
// nodes, level by level, down to the differing segments.
//
// It is pure: no I/O, no clock.
package merkle

import (
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// Shape is a tree's form: every inner node has Fanout children and the
// leaves are Depth levels below the root, Fanout^Depth segments in all.
type Shape struct {
	Fanout, Depth int
}

// DefaultShape has 32^3 = 32768 segments: 256 KiB of hashes per partition,
// and about three keys a segment at 100 000 keys.
var DefaultShape = Shape{Fanout: 32, Depth: 3}

// Segments is the number of leaves.
func (s Shape) Segments() int {
	n := 1
	for i := 0; i < s.Depth; i++ {
		n *= s.Fanout
	}
	return n
}

// Width is the number of nodes at level l (0 is the root).
func (s Shape) Width(l int) int {
	n := 1
	for i := 0; i < l; i++ {
		n *= s.Fanout
	}
	return n
}

func (s Shape) check() error {
	if s.Fanout < 2 || s.Fanout > 256 || s.Depth < 1 || s.Depth > 6 || s.Segments() > 1<<24 {
		return fmt.Errorf("merkle: shape %d^%d: want a fanout of 2 to 256 and at most 2^24 segments", s.Fanout, s.Depth)
	}
	return nil
}

// Tree is one partition's tree. The zero value is not usable: use New.
type Tree struct {
	shape  Shape
	skip   uint // hash bits that name the partition, above the segment's
	levels [][]uint64
}

// New returns an empty tree for a partition of a ring whose partitions
// take the top partitionBits bits of a key's hash.
func New(shape Shape, partitionBits int) (*Tree, error) {
	if err := shape.check(); err != nil {
		return nil, err
	}
	if partitionBits < 0 || partitionBits > 32 {
		return nil, fmt.Errorf("merkle: %d partition bits", partitionBits)
	}
	t := &Tree{shape: shape, skip: uint(partitionBits)}
	for l := 0; l <= shape.Depth; l++ {
		t.levels = append(t.levels, make([]uint64, shape.Width(l)))
	}
	return t, nil
}

// Shape returns the tree's form.
func (t *Tree) Shape() Shape { return t.shape }

// Segment returns the segment of a key: the key hash's bits below the
// partition's, scaled to the segment count.
func (t *Tree) Segment(key []byte) int {
	h := xxhash.Sum64(key) << t.skip
	return int((h >> 32) * uint64(t.shape.Segments()) >> 32)
}

// ItemHash is a key's contribution to its segment: a hash of the key and
// the canonical encoding of its sibling set; 0 for a key that holds
// nothing, so adding and removing it are the same XOR.
func ItemHash(key, set []byte) uint64 {
	if len(set) == 0 {
		return 0
	}
	d := xxhash.New()
	var n [4]byte
	n[0], n[1], n[2], n[3] = byte(len(key)>>24), byte(len(key)>>16), byte(len(key)>>8), byte(len(key))
	_, _ = d.Write(n[:])
	_, _ = d.Write(key)
	_, _ = d.Write(set)
	if h := d.Sum64(); h != 0 {
		return h
	}
	return 1 // 0 means "nothing"
}

// Update XORs delta (ItemHash(old) ^ ItemHash(new)) into segment seg and
// its ancestors.
func (t *Tree) Update(seg int, delta uint64) {
	if delta == 0 {
		return
	}
	for l := t.shape.Depth; l >= 0; l-- {
		t.levels[l][seg] ^= delta
		seg /= t.shape.Fanout
	}
}

// Root returns the root hash.
func (t *Tree) Root() uint64 { return t.levels[0][0] }

// Children returns the hashes of the children of the given nodes of level
// l, Fanout per node, in order. Nodes out of range yield zeros.
func (t *Tree) Children(l int, nodes []int) []uint64 {
	if l < 0 || l >= t.shape.Depth {
		return nil
	}
	f := t.shape.Fanout
	out := make([]uint64, 0, len(nodes)*f)
	below := t.levels[l+1]
	for _, n := range nodes {
		for c := 0; c < f; c++ {
			if i := n*f + c; n >= 0 && i < len(below) {
				out = append(out, below[i])
			} else {
				out = append(out, 0)
			}
		}
	}
	return out
}

// Reset empties the tree.
func (t *Tree) Reset() {
	for _, l := range t.levels {
		clear(l)
	}
}

// Differing compares the children of nodes of level l on two sides and
// returns the children, as nodes of level l+1, whose hashes differ.
func Differing(shape Shape, nodes []int, mine, theirs []uint32) []int {
	var out []int
	f := shape.Fanout
	for i, n := range nodes {
		for c := 0; c < f; c++ {
			j := i*f + c
			var a, b uint32
			if j < len(mine) {
				a = mine[j]
			}
			if j < len(theirs) {
				b = theirs[j]
			}
			if a != b {
				out = append(out, n*f+c)
			}
		}
	}
	return out
}

// Fold shortens a node's hash to the 32 bits a tree exchange sends.
func Fold(h uint64) uint32 { return uint32(h ^ h>>32) }

// FoldAll folds every hash of hs.
func FoldAll(hs []uint64) []uint32 {
	out := make([]uint32, len(hs))
	for i, h := range hs {
		out[i] = Fold(h)
	}
	return out
}
