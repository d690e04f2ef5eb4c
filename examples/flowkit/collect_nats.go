package main

import (
	"context"
	"fmt"
	"io"

	busnats "github.com/flowkit/flowkit/bus/nats"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/ipfix"
)

// collectNATS feeds sink from the durable JetStream consumer of a
// nats://HOST:PORT/SUBJECT[?durable=NAME&fetch=N] URL until ctx is done.
// Each fetched batch is acknowledged only once out has committed it: a
// repository's Flush puts the batch's files in place (the text and record
// outputs of a live collect flush after every batch already). Only a
// repository keeps what was acknowledged across a restart: -o and -w
// rewrite their file. A ClickHouse sink (a busnats.KeyedSink) gets each
// message's records under its id, so that a batch redelivered after a
// collector died between storing and acknowledging it is stored once.
// Counters go to stats unless it is nil.
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
	cs := c.Stats()
	if stats != nil {
		fmt.Fprintf(stats, "batches %d acked-messages %d acked-records %d redelivered %d rejected %d\n",
			cs.Batches, cs.Messages, cs.Records, cs.Redelivered, cs.Rejected)
	}
	return cs.Decode, err
}
