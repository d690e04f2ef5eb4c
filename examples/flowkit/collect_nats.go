package main

import (
	"context"
	"fmt"
	"io"

	busnats "github.com/flowkit/flowkit/bus/nats"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/ipfix"
	"github.com/flowkit/flowkit/store"
)

// collectNATS feeds sink from the durable JetStream consumer of a
// nats://HOST:PORT/SUBJECT[?durable=NAME&fetch=N] URL until ctx is done.
// Each fetched batch is acknowledged only once out has committed it (the
// text and record outputs of a live collect flush after every batch
// already); -o and -w rewrite their file, so nothing acknowledged survives
// a restart there. A ClickHouse sink (a busnats.KeyedSink) gets each
// message's records under its id, so that a batch redelivered after a
// collector died between storing and acknowledging it is stored once; a
// repository goes through collectNATSRepo. Counters go to stats unless it
// is nil.
func collectNATS(ctx context.Context, rawURL string, sink flow.Sink, out collectOut, stats io.Writer) (ipfix.Stats, error) {
	commit := func([]string) error { return nil }
	if f, ok := out.(interface{ Flush() error }); ok {
		commit = func([]string) error { return f.Flush() }
	}
	c, err := busnats.DialConsumer(ctx, rawURL, busnats.ConsumerOptions{Commit: commit})
	if err != nil {
		return ipfix.Stats{}, err
	}
	defer c.Close()
	// A sink that removes redelivered duplicates itself (ClickHouse's)
	// gets each message under its id. The limitSink around it only
	// matters with -num, which nats:// refuses.
	if ks, ok := out.(busnats.KeyedSink); ok {
		sink = ks
	}
	err = c.Run(ctx, sink)
	printNATSStats(stats, c.Stats())
	return c.Stats().Decode, err
}

// collectNATSRepo stores the durable JetStream consumer of rawURL in the
// repository at dir exactly once through a busnats.RepoSink: each batch is
// committed together with the record of its messages, so collectors
// sharing the consumer and the repository may die at any point and be
// restarted without losing or repeating a flow.
func collectNATSRepo(ctx context.Context, rawURL, dir string, stats io.Writer) (ipfix.Stats, error) {
	c, err := busnats.DialConsumer(ctx, rawURL, busnats.ConsumerOptions{})
	if err != nil {
		return ipfix.Stats{}, err
	}
	defer c.Close()
	rs, err := busnats.OpenRepoSink(dir, c.Stream(), c.Incarnation(), store.WriterOptions{})
	if err != nil {
		return ipfix.Stats{}, err
	}
	err = c.Run(ctx, rs)
	if cerr := rs.Close(); err == nil {
		err = cerr
	}
	printNATSStats(stats, c.Stats())
	return c.Stats().Decode, err
}

func printNATSStats(w io.Writer, cs busnats.ConsumerStats) {
	if w != nil {
		fmt.Fprintf(w, "batches %d acked-messages %d acked-records %d redelivered %d duplicates %d conflicts %d rejected %d\n",
			cs.Batches, cs.Messages, cs.Records, cs.Redelivered, cs.Duplicates, cs.Conflicts, cs.Rejected)
	}
}
