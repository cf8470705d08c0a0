// Package messages is the wire vocabulary of the store: every message that
// crosses from one actor to another, in one process or between node
// processes, is a small msgpack-tagged struct registered here under a stable
// numeric tag. The files of this package are grouped by protocol; each
// message's comment says who sends it, to whom, and what answers it.
//
// Messages travel as pointers (*Ping, not Ping), locally and remotely, so an
// actor's type switch is the same whichever way a message came.
//
// Tags are append-only: a tag, once released, keeps its meaning forever, so
// nodes of different builds can talk during a rolling upgrade. Tags below
// FirstApplicationTag belong to the store; applications that add their own
// actor behaviours register theirs at or above it.
package messages

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/dynamokv/dynamo/internal/mpbuf"
	"github.com/vmihailenco/msgpack/v5"
)

// Tag identifies a message type on the wire.
type Tag uint16

// FirstApplicationTag is the lowest tag an application may register.
const FirstApplicationTag Tag = 1000

type entry struct {
	tag    Tag
	name   string
	typ    reflect.Type // the pointer type that travels, e.g. *Ping
	decode func(*msgpack.Decoder) (any, error)
	fast   func(*mpbuf.Reader) (any, error) // set for messages with a hand-written codec
}

// The registry is written only during package initialisation (init
// functions), then read without locks on every send and receive.
var (
	byTag  = map[Tag]*entry{}
	byType = map[reflect.Type]*entry{}
)

// Register makes *T a wire message under tag. Call it from an init
// function, before any engine starts: the registry is not locked. It panics
// on a reused tag or type, because that is a programming error that must
// fail the build's tests, not a condition to handle at run time.
func Register[T any](tag Tag) {
	registerAs[T](tag, true)
}

func registerAs[T any](tag Tag, application bool) {
	if application && tag < FirstApplicationTag {
		panic(fmt.Sprintf("messages: application tag %d is below %d", tag, FirstApplicationTag))
	}
	typ := reflect.TypeOf((*T)(nil))
	if typ.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("messages: %s is not a struct", typ.Elem()))
	}
	if old, ok := byTag[tag]; ok {
		panic(fmt.Sprintf("messages: tag %d already registered for %s", tag, old.name))
	}
	if old, ok := byType[typ]; ok {
		panic(fmt.Sprintf("messages: %s already registered as tag %d", typ, old.tag))
	}
	e := &entry{
		tag:  tag,
		name: typ.Elem().String(),
		typ:  typ,
		decode: func(d *msgpack.Decoder) (any, error) {
			v := new(T)
			if err := d.Decode(v); err != nil {
				return nil, err
			}
			return v, nil
		},
	}
	if _, ok := any(new(T)).(sliceCodec); ok {
		e.fast = func(r *mpbuf.Reader) (any, error) {
			v := new(T)
			if err := any(v).(sliceCodec).decodeFrom(r); err != nil {
				return nil, err
			}
			return v, nil
		}
	}
	byTag[tag] = e
	byType[typ] = e
}

// TagOf returns the tag under which msg's type is registered.
func TagOf(msg any) (Tag, bool) {
	e, ok := byType[reflect.TypeOf(msg)]
	if !ok {
		return 0, false
	}
	return e.tag, true
}

// NameOf returns a message's type name, for logs and errors; it works for
// unregistered values too.
func NameOf(msg any) string {
	if e, ok := byType[reflect.TypeOf(msg)]; ok {
		return e.name
	}
	return fmt.Sprintf("%T", msg)
}

// Registered lists every registered tag with its type name, in tag order.
func Registered() []struct {
	Tag  Tag
	Name string
} {
	out := make([]struct {
		Tag  Tag
		Name string
	}, 0, len(byTag))
	for _, e := range byTag {
		out = append(out, struct {
			Tag  Tag
			Name string
		}{e.tag, e.name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	return out
}
