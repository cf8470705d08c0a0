package messages

// The tag list. Append only: never reuse or renumber a tag, even for a
// message that is retired, so that old and new nodes agree on every frame.
const (
	TagHello Tag = 1 // transport hello, first frame of every connection
	TagPing  Tag = 2
	TagPong  Tag = 3
	TagBlob  Tag = 4 // transport benchmark payload, fire-and-forget
	TagEcho  Tag = 5 // transport benchmark request, answered by itself

	TagClientPut         Tag = 10
	TagClientPutReply    Tag = 11
	TagClientGet         Tag = 12
	TagClientGetReply    Tag = 13
	TagCoordinatePut     Tag = 14
	TagCoordinatePutDone Tag = 15
	TagReplicaPut        Tag = 16
	TagReplicaPutAck     Tag = 17
	TagReplicaGet        Tag = 18
	TagReplicaGetReply   Tag = 19
	TagReplicaReap       Tag = 20
	TagHintPut           Tag = 21
	TagHintGet           Tag = 22
	TagPutTake           Tag = 23
	TagPutGo             Tag = 24
	TagPutAbort          Tag = 25
	TagTreeRequest       Tag = 40
	TagTreeReply         Tag = 41
	TagSegmentRequest    Tag = 42
	TagSegmentReply      Tag = 43
	TagSyncGet           Tag = 44
	TagSyncSets          Tag = 45
	TagSyncPut           Tag = 46
	TagSyncPutAck        Tag = 47
	TagTombstoneScan     Tag = 48
	TagTombstoneKeys     Tag = 49

	TagClusterHello Tag = 30 // retired: the static membership check
	TagHeartbeat    Tag = 31 // transport liveness, listener → dialer

	TagGossip          Tag = 50
	TagJoinRequest     Tag = 51
	TagJoinReply       Tag = 52
	TagLeaveRequest    Tag = 53
	TagLeaveReply      Tag = 54
	TagPartitionFilled Tag = 55
)

func init() {
	registerAs[Hello](TagHello, false)
	registerAs[Ping](TagPing, false)
	registerAs[Pong](TagPong, false)
	registerAs[Blob](TagBlob, false)
	registerAs[Echo](TagEcho, false)

	registerAs[ClientPut](TagClientPut, false)
	registerAs[ClientPutReply](TagClientPutReply, false)
	registerAs[ClientGet](TagClientGet, false)
	registerAs[ClientGetReply](TagClientGetReply, false)
	registerAs[CoordinatePut](TagCoordinatePut, false)
	registerAs[CoordinatePutDone](TagCoordinatePutDone, false)
	registerAs[ReplicaPut](TagReplicaPut, false)
	registerAs[ReplicaPutAck](TagReplicaPutAck, false)
	registerAs[ReplicaGet](TagReplicaGet, false)
	registerAs[ReplicaGetReply](TagReplicaGetReply, false)
	registerAs[ReplicaReap](TagReplicaReap, false)
	registerAs[HintPut](TagHintPut, false)
	registerAs[HintGet](TagHintGet, false)
	registerAs[PutTake](TagPutTake, false)
	registerAs[PutGo](TagPutGo, false)
	registerAs[PutAbort](TagPutAbort, false)
	registerAs[TreeRequest](TagTreeRequest, false)
	registerAs[TreeReply](TagTreeReply, false)
	registerAs[SegmentRequest](TagSegmentRequest, false)
	registerAs[SegmentReply](TagSegmentReply, false)
	registerAs[SyncGet](TagSyncGet, false)
	registerAs[SyncSets](TagSyncSets, false)
	registerAs[SyncPut](TagSyncPut, false)
	registerAs[SyncPutAck](TagSyncPutAck, false)
	registerAs[TombstoneScan](TagTombstoneScan, false)
	registerAs[TombstoneKeys](TagTombstoneKeys, false)

	registerAs[Gossip](TagGossip, false)
	registerAs[JoinRequest](TagJoinRequest, false)
	registerAs[JoinReply](TagJoinReply, false)
	registerAs[LeaveRequest](TagLeaveRequest, false)
	registerAs[LeaveReply](TagLeaveReply, false)
	registerAs[PartitionFilled](TagPartitionFilled, false)
	registerAs[Heartbeat](TagHeartbeat, false)
}
