package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query"
	"github.com/flowkit/flowkit/store"
)

// sortRepoByHour sorts a repository by start time (then the other keys)
// one hour at a time. A repository partitions records by the hour of their
// start, so the hours can be sorted apart and written one after the other:
// memory holds two hours (one read while the other is sorted and
// written), and nothing spills to disk unless a single hour outgrows the
// budget. Files are read in path order, the order the general path reads
// them, so records with equal keys come out in the same order.
func sortRepoByHour(in *qQueryInput, newSorter func() *query.Sorter, reverse bool, dst flow.Sink) error {
	p := in.restrict(nil)
	if in.selErr != nil {
		return fmt.Errorf("%w: %v", errUsage, in.selErr)
	}
	repo, err := store.OpenRepo(in.repo)
	if err != nil {
		return err
	}
	refs, err := repo.Files(store.Selection{})
	if err != nil {
		return err
	}
	var hours []time.Time
	for _, r := range refs {
		hours = append(hours, r.Hour)
	}
	slices.SortFunc(hours, func(a, b time.Time) int { return a.Compare(b) })
	hours = slices.Compact(hours)
	if reverse {
		slices.Reverse(hours)
	}

	// The reader fills one sorter with an hour while the writer sorts and
	// writes the other: two sorters go round between them.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	free, full := make(chan *query.Sorter, 2), make(chan *query.Sorter, 1)
	free <- newSorter()
	free <- newSorter()
	readErr := make(chan error, 1)
	go func() {
		defer close(full)
		var buf []flow.Record
		for _, h := range hours {
			var s *query.Sorter
			select {
			case s = <-free:
			case <-ctx.Done():
				readErr <- nil
				return
			}
			end := h.Add(time.Hour)
			_, err := query.ScanStore(ctx, repo, store.Selection{Start: h, End: end}, p, store.AllColumns, 1,
				func(_ int, m *query.BlockMatch) error {
					buf = m.Records(buf[:0])
					for i := range buf {
						// The hour's files hold only records starting in it
						// (store/FORMAT.md); a file that breaks this would
						// come out unsorted, so say so rather than mislead.
						if t := buf[i].Start; t < h.UnixNano() || t >= end.UnixNano() {
							return fmt.Errorf("%s: a record starts at %s, outside the file's hour %s",
								m.Ref.Path, time.Unix(0, t).UTC().Format(time.RFC3339Nano), h.Format("2006-01-02T15"))
						}
					}
					return s.WriteBatch(buf)
				})
			if err != nil {
				s.Close()
				readErr <- err
				return
			}
			full <- s
		}
		readErr <- nil
	}()
	var werr error
	for s := range full {
		if werr == nil {
			werr = s.Output(dst)
			if werr != nil {
				cancel() // the reader stops at its next block or hour
			}
		}
		s.Close()
		free <- s
	}
	if err := <-readErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return werr
}
