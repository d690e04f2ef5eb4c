// Command collector is flowkit's smallest collector: it receives IPFIX,
// NetFlow v9 and v5 from any number of exporters and stores the flows in a
// repository, classified in/out/int/ext by the internal prefixes, as SiLK's
// rwflowpack does. It shows how to embed the SDK: ipfix.Collector →
// store.Writer.
//
//	collector -listen udp://0.0.0.0:4739 -repo /data/flows -internal 10.0.0.0/8
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/ipfix"
	"github.com/flowkit/flowkit/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], nil); err != nil {
		fmt.Fprintln(os.Stderr, "collector:", err)
		os.Exit(1)
	}
}

// run collects until ctx is cancelled. ready, when not nil, is called once
// the listener is up (tests use it).
func run(ctx context.Context, args []string, ready func()) error {
	fs := flag.NewFlagSet("collector", flag.ContinueOnError)
	listen := fs.String("listen", "udp://127.0.0.1:4739", "listen here: udp://HOST:PORT or tcp://HOST:PORT")
	repoDir := fs.String("repo", "", "store the flows in this repository (required)")
	internal := fs.String("internal", "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16", "internal prefixes, for the flow type")
	flushEvery := fs.Duration("flush", time.Minute, "commit buffered flows to files this often")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *repoDir == "" {
		return fmt.Errorf("-repo is required")
	}
	prefixes, err := store.ParsePrefixes(*internal)
	if err != nil {
		return err
	}
	repo, err := store.OpenRepo(*repoDir)
	if err != nil {
		return err
	}
	sink := &lockedWriter{w: repo.NewWriter(store.WriterOptions{
		Classifier: &store.PrefixClassifier{Internal: prefixes},
	})}

	// Flush on a timer, so a crash loses at most one interval of flows.
	go func() {
		tick := time.NewTicker(*flushEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := sink.flush(); err != nil {
					slog.Error("flush", "err", err)
				}
			}
		}
	}()

	c := &ipfix.Collector{Sink: sink, Logger: slog.Default()}
	if ready != nil {
		go func() { time.Sleep(50 * time.Millisecond); ready() }()
	}
	err = c.ListenAndServe(ctx, *listen) // returns when ctx is cancelled
	if cerr := sink.close(); err == nil || ctx.Err() != nil {
		err = cerr
	}
	slog.Info("collector done", "records", sink.records(), "stats", fmt.Sprintf("%+v", c.Stats()))
	return err
}

// lockedWriter lets the flush timer and the collector share the writer.
type lockedWriter struct {
	mu sync.Mutex
	w  *store.Writer
}

func (l *lockedWriter) WriteBatch(b []flow.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.WriteBatch(b)
}

func (l *lockedWriter) flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Flush()
}

func (l *lockedWriter) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Close()
}

func (l *lockedWriter) records() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Records()
}
