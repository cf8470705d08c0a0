package messages

// The tag list. Append only: never reuse or renumber a tag, even for a
// message that is retired, so that old and new nodes agree on every frame.
const (
	TagHello Tag = 1 // transport hello, first frame of every connection
	TagPing  Tag = 2
	TagPong  Tag = 3
	TagBlob  Tag = 4 // transport benchmark payload, fire-and-forget
	TagEcho  Tag = 5 // transport benchmark request, answered by itself
)

func init() {
	registerAs[Hello](TagHello, false)
	registerAs[Ping](TagPing, false)
	registerAs[Pong](TagPong, false)
	registerAs[Blob](TagBlob, false)
	registerAs[Echo](TagEcho, false)
}
