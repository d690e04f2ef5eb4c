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
// batch, hands all its records to the sink with one WriteBatch, calls the
// commit hook (for a store repository: Writer.Flush, which renames the
// finished files into place), and only then acknowledges the messages and
// waits for the server to have received the acknowledgements (a PING
// round trip). If the sink or the hook fails, the messages are negatively
// acknowledged and redelivered at once; if the collector dies, the server
// redelivers them once AckWait has passed.
//
// The result is at-least-once delivery, and exactly once in every case but
// one: if a collector dies (or loses its connection) after the commit hook
// returned and before the server received the acknowledgements, the batch is
// committed and redelivered, so it is stored twice. A sink whose commit is
// not atomic with respect to a crash (records visible before the hook
// returns) widens that window to the whole batch. Sinks that must be exact
// across such crashes can deduplicate on the message ids, which the commit
// hook receives; a [KeyedSink] (clickhouse.Sink and ShardedSink) gets each
// message's records under its id, flagged when the server delivered the
// message before, and stores again only what the earlier delivery did not. On the publishing side the duplicate window (Duplicates,
// default 2 minutes) removes re-publications of the same message.
package nats
