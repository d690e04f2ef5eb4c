package query

import (
	"context"
	"errors"
	"io"
	"iter"
	"math/bits"

	"github.com/flowkit/flowkit/flow"
)

// FilterStats counts what Filter saw.
type FilterStats struct {
	Read, Passed, Failed int64
}

// Filter reads src to the end and writes the records that match p to pass
// and the others to fail (SiLK's rwfilter --pass and --fail). Either sink
// may be nil; with both nil Filter only counts. It stops early when ctx is
// done.
func Filter(ctx context.Context, src flow.Source, p Pred, pass, fail flow.Sink) (FilterStats, error) {
	var st FilterStats
	m := NewMatcher(p)
	buf := make([]flow.Record, flow.DefaultBatchSize)
	var passBuf, failBuf []flow.Record
	if pass != nil {
		passBuf = make([]flow.Record, 0, len(buf))
	}
	if fail != nil {
		failBuf = make([]flow.Record, 0, len(buf))
	}
	var sel Bits
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		n, err := src.ReadBatch(buf)
		if n > 0 {
			batch := buf[:n]
			sel = m.Select(batch, sel)
			k := sel.Count()
			st.Read += int64(n)
			st.Passed += int64(k)
			st.Failed += int64(n - k)
			if pass != nil || fail != nil {
				passBuf, failBuf = split(batch, sel, passBuf[:0], failBuf[:0], pass != nil, fail != nil)
				if pass != nil && len(passBuf) > 0 {
					if werr := pass.WriteBatch(passBuf); werr != nil {
						return st, werr
					}
				}
				if fail != nil && len(failBuf) > 0 {
					if werr := fail.WriteBatch(failBuf); werr != nil {
						return st, werr
					}
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return st, nil
			}
			return st, err
		}
	}
}

// split appends the selected rows of batch to pass and the others to fail.
func split(batch []flow.Record, sel Bits, pass, fail []flow.Record, wantPass, wantFail bool) ([]flow.Record, []flow.Record) {
	for wi, w := range sel {
		base := wi * 64
		end := min(base+64, len(batch))
		if wantPass {
			for x := w; x != 0; x &= x - 1 {
				pass = append(pass, batch[base+bits.TrailingZeros64(x)])
			}
		}
		if wantFail {
			for x := ^w; x != 0; x &= x - 1 {
				i := base + bits.TrailingZeros64(x)
				if i >= end {
					break
				}
				fail = append(fail, batch[i])
			}
		}
	}
	return pass, fail
}

// Where yields the records of seq that match p: the same predicates on a
// live stream (for example the collector's records as they arrive).
func Where(seq iter.Seq[flow.Record], p Pred) iter.Seq[flow.Record] {
	return func(yield func(flow.Record) bool) {
		m := NewMatcher(p)
		for r := range seq {
			if m.Match(&r) && !yield(r) {
				return
			}
		}
	}
}
