// Package nats carries flow records between sensors and collectors over NATS
// JetStream, a persistent (optionally clustered) message stream.
//
// # Wire format
//
// Every NATS message is one complete IPFIX message (RFC 7011): a header, the
// template set of flowkit's ipfix.Encoder (nanosecond times), then the data
// sets. Because each message carries its own templates, any IPFIX consumer
// can decode any message alone, in any order, on any collector.
//
// A Publisher sends to the subject BASE.SENSOR (for example flows.7); the
// stream it creates if missing (FLOWKIT_BASE, file storage) holds BASE.>.
// Each message has a Nats-Msg-Id of the form SENSOR-RUN-SEQ, where RUN is the
// publisher's start time in nanoseconds and SEQ counts its messages, so a
// re-published message (after a timeout or a reconnect) is dropped by the
// server's duplicate window, while a restarted meter never collides with its
// previous run.
//
// DialPublisher takes nats://HOST:PORT/SUBJECT; DialConsumer also takes
// ?durable=NAME (the durable consumer collectors share) and &fetch=N (its
// FetchMessages): the addresses of flowkit meter -export and flowkit
// collect -listen.
//
// # Flow control
//
// The Publisher publishes asynchronously with at most MaxInFlight messages
// awaiting the server's acknowledgement; WriteBatch blocks when that many are
// out, so a slow server slows the meter instead of filling memory. A message
// whose acknowledgement fails or times out is published again, synchronously,
// with the same id.
//
// A Consumer pulls at most FetchMessages messages at a time from a durable
// pull consumer; the server never lets more than MaxAckPending messages be
// unacknowledged across all collectors sharing the durable. Memory is
// therefore bounded by those two numbers times the message size (64 KiB).
//
// # Delivery guarantee
//
// Many collectors may share one durable consumer: the server hands each
// message to one of them (work-queue semantics). A Consumer decodes a fetched
// batch, hands all its records to the sink with one WriteBatch, commits
// them (an ExactSink's CommitMessages, then the commit hook: for a plain
// store writer its Flush, which renames the finished files into place),
// and only then acknowledges the messages and waits for the server to have
// received the acknowledgements (a PING round trip). If the sink or the
// commit fails, the messages are negatively acknowledged and redelivered at
// once; if the collector dies, the server redelivers them once AckWait has
// passed. While a live collector writes and commits a batch, it tells the
// server every third of AckWait that the batch is in progress (for up to
// ConsumerOptions.HoldLimit), so a sink slower than AckWait (a database
// under load or restarting) does not have the batch redelivered to
// another collector meanwhile.
//
// The result is at-least-once delivery, and exactly once in every case but
// one: if a collector dies (or loses its connection) after the commit hook
// returned and before the server received the acknowledgements, the batch is
// committed and redelivered. Two kinds of sink close that window, so that
// collectors sharing a durable consumer may die at any point and be
// restarted without losing or repeating a record:
//
//   - A [KeyedSink] (clickhouse.Sink and ShardedSink) gets each message's
//     records under its id, flagged when the server delivered the message
//     before, and stores again only what the earlier delivery did not.
//   - An [ExactSink] commits, atomically with a batch's records, which
//     messages (Nats-Msg-Id and stream sequence) they came from; the
//     Consumer asks it whether it has seen each message, and acknowledges
//     without storing again those it has. [RepoSink] is one for a store
//     repository (flowkit collect -listen nats:// -repo): each collector
//     flushes its batch into a stage of its own under the repository's
//     state directory (ROOT/.nats/STREAM/DURABLE.CREATED, where readers
//     never look), then, holding that directory's lock, writes a commit record
//     naming the messages and the files (fsync and rename: the commit
//     point) and renames the files into the repository. A crash before the
//     commit point leaves a stage that the next collector to start
//     removes; one after it leaves a record that the next collector to
//     start, or to get one of its messages again, completes. The records
//     are in the repository directory, so every collector sharing it sees
//     them, and are removed once the durable consumer's acknowledgement
//     floor has passed their messages (they can never come back); the
//     floor is kept there too, so that a collector that held a message
//     past AckWait, while another stored and acknowledged it, finds out
//     at its commit. A durable consumer deleted and created again gets a
//     state directory of its own (CREATED is its creation time).
//
// Other sinks (text, record files; anything with only a commit hook) stay
// at least once: a batch committed just before a crash is stored again.
// An ExactSink that finds another collector committed part of its batch
// first (the server redelivered a message after AckWait while the first
// collector still worked on it) discards the batch, which is redelivered.
// Exactness needs a filesystem whose rename is atomic and whose flock
// locks die with their process (local filesystems; not NFS), and the
// stream's message ids to be unique (the Publisher's are). On the
// publishing side the duplicate window (Duplicates, default 2 minutes)
// removes re-publications of the same message.
package nats
