package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/ipfix"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ConsumerOptions configure a Consumer. Zero values take the defaults.
type ConsumerOptions struct {
	// Subject is the base subject; the consumer reads Subject.> from
	// its stream. Default "flows".
	Subject string
	// Durable names the durable consumer that collectors share.
	// Default "flowkit".
	Durable string
	// FetchMessages is how many messages one fetch, one WriteBatch (or a
	// KeyedSink's WriteKeyed per message) and one commit cover. Default 64 (up to 4 MiB, about 40 k records).
	FetchMessages int
	// MaxAckPending bounds the unacknowledged messages of the durable
	// consumer across all collectors, when the consumer is created.
	// Default 4 × FetchMessages.
	MaxAckPending int
	// AckWait is how long the server waits for an acknowledgement before
	// redelivering, when the consumer is created: how soon a dead
	// collector's messages go to another. A live collector tells the
	// server its batch is in progress every third of AckWait, for up to
	// HoldLimit, so a slower sink does not have it redelivered.
	// Default 60 s.
	AckWait time.Duration
	// HoldLimit bounds how long a collector keeps a batch it is writing
	// from redelivery (a sink that hangs lets its messages go to the other
	// collectors then). Default 10 × AckWait; negative: never, the batch
	// is redelivered after AckWait however busy the collector is.
	HoldLimit time.Duration
	// MaxWait is how long a fetch waits for messages. Default 1 s; at
	// most half the server's AckWait, so that the messages a fetch holds
	// are not redelivered while it waits for more.
	MaxWait time.Duration
	// Limits bound each message's templates.
	Limits ipfix.Limits
	// Commit, when set, runs after each batch's WriteBatch returned nil and
	// before the messages are acknowledged; it must make the batch durable
	// (for a store writer: its Flush). It receives the message ids
	// (Nats-Msg-Id) of the batch, for sinks that deduplicate.
	Commit func(msgIDs []string) error
	// Logger receives warnings about undecodable messages; nil means
	// slog.Default().
	Logger *slog.Logger
}

func (o *ConsumerOptions) defaults() {
	if o.Subject == "" {
		o.Subject = "flows"
	}
	if o.Durable == "" {
		o.Durable = "flowkit"
	}
	if o.FetchMessages <= 0 {
		o.FetchMessages = 64
	}
	if o.MaxAckPending <= 0 {
		o.MaxAckPending = 4 * o.FetchMessages
	}
	if o.AckWait <= 0 {
		o.AckWait = 60 * time.Second
	}
	if o.MaxWait <= 0 {
		o.MaxWait = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// ConsumerStats count what a Consumer received.
type ConsumerStats struct {
	Batches     int64 // batches written and acknowledged
	Messages    int64 // messages acknowledged
	Records     int64 // records written and acknowledged
	Redelivered int64 // messages received more than once (after a Nak or a dead collector)
	Rejected    int64 // undecodable messages, terminated (never redelivered)
	Duplicates  int64 // messages an ExactSink had committed before, or delivered twice in one fetch: acknowledged, not stored again
	Conflicts   int64 // batches an ExactSink refused because another collector committed part of them first
	Decode      ipfix.Stats
}

// ErrRejected wraps the reason an undecodable message was terminated.
var ErrRejected = errors.New("message rejected")

// KeyedSink is a sink that removes duplicates of a redelivered message
// itself (clickhouse.Sink and ShardedSink do). Given one, Consumer.Once
// writes each message's records with WriteKeyed under the message's key
// (its Nats-Msg-Id, which the Publisher makes unique per sensor, run and
// sequence; else "stream-seq:N", its stream sequence), with redelivered
// true when the server delivered it before: the sink must then store only
// what an earlier delivery did not. Delivery stays at least once (a message
// is acknowledged only after Commit), and the sink makes it exactly once.
type KeyedSink interface {
	flow.Sink
	WriteKeyed(key string, redelivered bool, recs []flow.Record) error
}

// MsgRef names one message of a batch for an ExactSink.
type MsgRef struct {
	Key         string // Nats-Msg-Id, else "stream-seq:N" (as for a KeyedSink)
	Seq         uint64 // stream sequence; 0 if unknown
	Redelivered bool   // the server delivered it before
}

// ExactSink is a sink that stores each message exactly once by committing,
// atomically with a batch's records, which messages they came from
// (RepoSink does, for a store repository). Given one, Consumer.Once asks
// Seen of each message and neither decodes nor writes those seen; it
// writes the others' records with WriteBatch and calls CommitMessages
// (then the Commit hook, if any) before acknowledging them all.
type ExactSink interface {
	flow.Sink
	// Seen reports whether an earlier delivery of m was committed.
	Seen(m MsgRef) (bool, error)
	// CommitMessages makes the records written since the last call
	// durable together with the record that they came from written, or
	// neither; it also completes the commits of the messages seen, if a
	// crash interrupted them. Once it returns nil, all of them may be
	// acknowledged. If it fails the records are discarded; an error
	// wrapping ErrConflict says another collector committed a message of
	// written first (the Consumer then has the batch redelivered and goes
	// on).
	CommitMessages(written, seen []MsgRef) error
	// Forget lets go of the messages at or below stream sequence floor,
	// the durable consumer's acknowledgement floor: they are never
	// delivered again.
	Forget(floor uint64) error
}

// forgetEvery is how many batches a Consumer commits to an ExactSink
// between two Forget calls (each asks the server for the consumer's
// acknowledgement floor).
const forgetEvery = 16

// msgSpan is one message's records in Consumer.recs.
type msgSpan struct {
	key         string
	redelivered bool
	from, to    int
}

// Consumer reads records from a durable JetStream pull consumer and hands
// them to a flow.Sink, acknowledging only what the sink committed. It is not
// safe for concurrent use; run one Consumer per goroutine or process.
type Consumer struct {
	cons  jetstream.Consumer
	nc    *nats.Conn
	owned bool
	opts  ConsumerOptions
	recs  []flow.Record
	ids   []string
	spans []msgSpan
	// written and seen are the batch's messages for an ExactSink.
	written, seen []MsgRef
	// inBatch holds the stream sequences of the batch's messages.
	inBatch map[uint64]struct{}
	stats   ConsumerStats
}

// DialConsumer connects to the server of a
// nats://HOST:PORT/SUBJECT[?durable=NAME][&fetch=N] URL and returns a
// Consumer of that subject; Close closes the connection. opts.Subject is
// taken from the URL, and so are Durable and FetchMessages when it gives
// them (see ParseConsumerURL).
func DialConsumer(ctx context.Context, rawURL string, opts ConsumerOptions) (*Consumer, error) {
	server, opts, err := ParseConsumerURL(rawURL, opts)
	if err != nil {
		return nil, err
	}
	nc, err := connect(server, "flowkit-collect")
	if err != nil {
		return nil, fmt.Errorf("nats: %s: %w", server, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	c, err := NewConsumer(ctx, js, opts)
	if err != nil {
		nc.Close()
		return nil, err
	}
	c.owned = true
	return c, nil
}

// NewConsumer creates (or joins) the durable pull consumer opts.Durable on
// the stream of opts.Subject, creating the stream if it is missing.
func NewConsumer(ctx context.Context, js jetstream.JetStream, opts ConsumerOptions) (*Consumer, error) {
	opts.defaults()
	if err := checkSubject(opts.Subject); err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	stream := StreamName(opts.Subject)
	if err := ensureStream(ctx, js, stream, opts.Subject, 2*time.Minute); err != nil {
		return nil, err
	}
	cons, err := js.Consumer(ctx, stream, opts.Durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		cons, err = js.CreateConsumer(ctx, stream, jetstream.ConsumerConfig{
			Durable:       opts.Durable,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       opts.AckWait,
			MaxAckPending: opts.MaxAckPending,
			FilterSubject: opts.Subject + ".>",
			DeliverPolicy: jetstream.DeliverAllPolicy,
		})
		if errors.Is(err, jetstream.ErrConsumerExists) {
			cons, err = js.Consumer(ctx, stream, opts.Durable)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("nats: consumer %s on %s: %w", opts.Durable, stream, err)
	}
	return &Consumer{cons: cons, nc: js.Conn(), opts: opts}, nil
}

// Stream returns the name of the stream the consumer reads.
func (c *Consumer) Stream() string { return StreamName(c.opts.Subject) }

// Durable returns the name of the durable consumer.
func (c *Consumer) Durable() string { return c.opts.Durable }

// Incarnation names this incarnation of the durable consumer,
// DURABLE.CREATED (its creation time in base-36 nanoseconds): a consumer
// deleted and created again under the same name (or on a re-created
// stream) starts its acknowledgement floor, and maybe its stream
// sequences, from zero, so a RepoSink keeps its state per incarnation.
func (c *Consumer) Incarnation() string {
	var created int64
	if info := c.cons.CachedInfo(); info != nil {
		created = info.Created.UnixNano()
	}
	return c.opts.Durable + "." + strconv.FormatInt(created, 36)
}

// Stats returns the consumer's counters.
func (c *Consumer) Stats() ConsumerStats { return c.stats }

// Run fetches, decodes, writes, commits and acknowledges batches until ctx
// is done (then it returns nil) or the sink, the commit hook or the server
// fails (then the unacknowledged batch is Nak'ed for redelivery and Run
// returns the error).
func (c *Consumer) Run(ctx context.Context, sink flow.Sink) error {
	for ctx.Err() == nil {
		if _, err := c.Once(ctx, sink); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// Once fetches at most FetchMessages messages (waiting at most MaxWait),
// writes their records to sink with one WriteBatch (with a WriteKeyed per
// message if sink is a KeyedSink; leaving out the messages it has seen if
// it is an ExactSink), commits and acknowledges them; it returns the
// number of messages acknowledged.
func (c *Consumer) Once(ctx context.Context, sink flow.Sink) (int, error) {
	es, exact := sink.(ExactSink)
	ks, keyed := sink.(KeyedSink)
	if exact {
		ks = nil // an ExactSink gets the batch with one WriteBatch
	}
	// Only an ExactSink or a KeyedSink uses a message's key: build the
	// fallback key for those alone.
	needKey := exact || keyed
	wait := max(min(c.opts.MaxWait, c.ackWait()/2), time.Millisecond)
	mb, err := c.cons.Fetch(c.opts.FetchMessages, jetstream.FetchMaxWait(wait))
	if err != nil {
		return 0, fmt.Errorf("nats: fetch: %w", err)
	}
	var msgs []jetstream.Msg
	c.recs = c.recs[:0]
	c.ids = c.ids[:0]
	c.spans = c.spans[:0]
	c.written, c.seen = c.written[:0], c.seen[:0]
	if c.inBatch == nil {
		c.inBatch = map[uint64]struct{}{}
	}
	clear(c.inBatch)
	var rec flow.Record
	emit := func(r *flow.Record) { c.recs = append(c.recs, *r) }
	for m := range mb.Messages() {
		md, mdErr := m.Metadata()
		redelivered := mdErr == nil && md.NumDelivered > 1
		if redelivered {
			c.stats.Redelivered++
		}
		id := m.Headers().Get(jetstream.MsgIDHeader)
		ref := MsgRef{Key: id, Redelivered: redelivered}
		if mdErr == nil {
			if _, dup := c.inBatch[md.Sequence.Stream]; dup {
				// The server redelivered a message this batch already
				// holds (its AckWait ran out during the fetch): written
				// once, acknowledged with the others.
				c.stats.Duplicates++
				msgs = append(msgs, m)
				c.ids = append(c.ids, id)
				continue
			}
			c.inBatch[md.Sequence.Stream] = struct{}{}
			ref.Seq = md.Sequence.Stream
			if ref.Key == "" && needKey {
				ref.Key = "stream-seq:" + strconv.FormatUint(ref.Seq, 10)
			}
		}
		if exact && ref.Key != "" {
			seen, err := es.Seen(ref)
			if err != nil {
				c.nak(append(msgs, m))
				return 0, err
			}
			if seen {
				// Committed before, not acknowledged: acknowledge only.
				c.stats.Duplicates++
				msgs = append(msgs, m)
				c.ids = append(c.ids, id)
				c.seen = append(c.seen, ref)
				continue
			}
		}
		// Each message carries its templates: a fresh decoder reads it alone.
		d := ipfix.NewDecoder()
		d.Limits = c.opts.Limits
		mark := len(c.recs)
		if err := d.Decode(m.Data(), &rec, emit); err != nil {
			// A message that does not decode never will: drop its
			// records, terminate it and say so.
			c.recs = c.recs[:mark]
			c.stats.Rejected++
			c.opts.Logger.Warn("nats: undecodable message terminated", "subject", m.Subject(),
				"id", id, "err", fmt.Errorf("%w: %v", ErrRejected, err))
			m.Term()
			continue
		}
		addStats(&c.stats.Decode, d.Stats())
		msgs = append(msgs, m)
		c.ids = append(c.ids, id)
		if ref.Key != "" {
			c.written = append(c.written, ref)
		}
		c.spans = append(c.spans, msgSpan{key: ref.Key, redelivered: redelivered, from: mark, to: len(c.recs)})
	}
	if err := mb.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
		c.nak(msgs)
		return 0, fmt.Errorf("nats: fetch: %w", err)
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	if ctx.Err() != nil {
		c.nak(msgs)
		return 0, ctx.Err()
	}
	stop := c.hold(msgs)
	conflict := false
	err = c.write(sink, ks)
	if err == nil && exact {
		err = es.CommitMessages(c.written, c.seen)
		conflict = errors.Is(err, ErrConflict)
	}
	if err == nil && c.opts.Commit != nil {
		err = c.opts.Commit(c.ids)
	}
	// Before the nak or the acks: no InProgress may follow them.
	stop()
	if err != nil {
		c.nak(msgs)
		if conflict {
			c.stats.Conflicts++
			c.opts.Logger.Warn("nats: batch redelivered", "err", err)
			return 0, nil
		}
		return 0, err
	}
	for _, m := range msgs {
		if err := m.Ack(); err != nil {
			return 0, fmt.Errorf("nats: ack: %w", err)
		}
	}
	// A PING round trip: the server has processed every ack sent before.
	if err := c.nc.FlushTimeout(c.opts.AckWait); err != nil {
		return 0, fmt.Errorf("nats: ack: %w", err)
	}
	c.stats.Batches++
	c.stats.Messages += int64(len(msgs))
	c.stats.Records += int64(len(c.recs))
	if exact && c.stats.Batches%forgetEvery == 0 {
		if err := c.forget(ctx, es); err != nil {
			// Not fatal: the records wait for the next try.
			c.opts.Logger.Warn("nats: forgetting acknowledged messages", "err", err)
		}
	}
	return len(msgs), nil
}

// hold tells the server every third of the durable consumer's AckWait
// that msgs are being worked on, until stop is called (for at most
// HoldLimit), so that a sink slower than AckWait (a database under load
// or restarting) does not have the batch redelivered, and written twice
// by this collector or another, while this collector is alive and at it.
// stop must be called once, before the messages are acknowledged or
// negatively acknowledged.
func (c *Consumer) hold(msgs []jetstream.Msg) (stop func()) {
	wait := c.ackWait()
	limit := c.opts.HoldLimit
	if limit == 0 {
		limit = 10 * wait
	}
	if limit < 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	inProgress := func() {
		for _, m := range msgs {
			m.InProgress()
		}
	}
	// The messages may have waited in the fetch for up to half of
	// AckWait: their first InProgress goes now.
	inProgress()
	go func() {
		defer close(finished)
		period := max(wait/3, time.Millisecond)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for range limit / period {
			select {
			case <-done:
				return
			case <-tick.C:
				inProgress()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// ackWait returns the durable consumer's AckWait: the server's, set by
// whoever created the consumer, or if unknown opts.AckWait.
func (c *Consumer) ackWait() time.Duration {
	if info := c.cons.CachedInfo(); info != nil && info.Config.AckWait > 0 {
		return info.Config.AckWait
	}
	return c.opts.AckWait
}

// forget hands the durable consumer's acknowledgement floor to es.
func (c *Consumer) forget(ctx context.Context, es ExactSink) error {
	info, err := c.cons.Info(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("nats: consumer info: %w", err)
	}
	return es.Forget(info.AckFloor.Stream)
}

// write hands the fetched records to sink: each message's under its key
// to ks (sink as a KeyedSink, unless it is an ExactSink) if not nil, else
// all with one WriteBatch.
func (c *Consumer) write(sink flow.Sink, ks KeyedSink) error {
	if ks == nil {
		if len(c.recs) == 0 {
			return nil
		}
		return sink.WriteBatch(c.recs)
	}
	for _, sp := range c.spans {
		if sp.from == sp.to {
			continue
		}
		var err error
		if sp.key == "" {
			// No id and no metadata (not a JetStream message): nothing
			// names it across deliveries.
			err = sink.WriteBatch(c.recs[sp.from:sp.to])
		} else {
			err = ks.WriteKeyed(sp.key, sp.redelivered, c.recs[sp.from:sp.to])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// nak asks the server to redeliver msgs now (best effort: if the
// connection is gone, AckWait does it).
func (c *Consumer) nak(msgs []jetstream.Msg) {
	for _, m := range msgs {
		m.Nak()
	}
}

func addStats(dst *ipfix.Stats, s ipfix.Stats) {
	dst.Messages += s.Messages
	dst.Records += s.Records
	dst.OptionsRecords += s.OptionsRecords
	dst.Templates += s.Templates
	dst.MissingTemplate += s.MissingTemplate
	dst.Malformed += s.Malformed
}

// Close closes the connection of a consumer made by DialConsumer. The
// durable consumer stays on the server for the next collector.
func (c *Consumer) Close() error {
	if c.owned {
		c.nc.Close()
	}
	return nil
}
