package query

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"

	"github.com/flowkit/flowkit/flow"
)

// Parallel reads src on one goroutine and hands its batches to workers
// goroutines (0 means GOMAXPROCS), calling work(worker, batch) for each;
// worker is in [0, workers), so work can keep per-worker state (a Grouper,
// a Counter) without locks and merge it afterwards. Batches are recycled:
// work must not keep batch. It returns the first error of src or of work
// (io.EOF is the normal end), after every goroutine has stopped.
func Parallel(ctx context.Context, src flow.Source, workers int, work func(worker int, batch []flow.Record) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers == 1 {
		buf := make([]flow.Record, flow.DefaultBatchSize)
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			n, err := src.ReadBatch(buf)
			if n > 0 {
				if werr := work(0, buf[:n]); werr != nil {
					return werr
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
		}
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free := make(chan []flow.Record, 2*workers)
	for range cap(free) {
		free <- make([]flow.Record, flow.DefaultBatchSize)
	}
	full := make(chan []flow.Record, workers)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	setErr := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range full {
				if ctx.Err() == nil {
					if err := work(w, b); err != nil {
						setErr(err)
					}
				}
				free <- b[:cap(b)]
			}
		}()
	}
	for {
		var buf []flow.Record
		select {
		case buf = <-free:
		case <-ctx.Done():
		}
		if buf == nil {
			break
		}
		n, err := src.ReadBatch(buf)
		if n > 0 {
			full <- buf[:n]
		} else {
			free <- buf
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				setErr(err)
			}
			break
		}
	}
	close(full)
	wg.Wait()
	if firstErr == nil {
		return parent.Err()
	}
	return firstErr
}
