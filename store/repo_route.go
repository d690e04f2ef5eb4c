package store

import (
	"github.com/flowkit/flowkit/flow"
)

// minRouted is the fewest records route takes at once: below it the
// grouping does not pay for itself.
const minRouted = 256

// maxRouted bounds the records route takes at once: 4096 records (576
// KiB) are still in the cache when drain reads them back (with 65536,
// drain's copy took twice the CPU).
const maxRouted = 1 << 12

// route classifies and buffers batch, which must fit in the buffers
// without overflowing MaxBuffered (no spill can happen). Records of a few
// hours and types interleave, so it first groups the record indexes by
// partition in one pass and then copies each group into its partition's
// buffer: each partition's buffer is written in a run, not one record
// here and one there. The files are the same as record by record: each
// partition receives the same records in the same order, partitions are
// looked up in the same order (same least recently used), and pending
// records are copied before a partition is committed to open another.
func (w *Writer) route(batch []flow.Record) error {
	// opening a partition commits one, maybe one with records pending
	drainFirst := func() error { return w.drain(batch) }
	for i := range batch {
		k := w.keyOf(&batch[i])
		p := w.last
		if p == nil || k != w.lastKey {
			var err error
			if p, err = w.partition(k, drainFirst); err != nil {
				return err
			}
		}
		if len(p.idx) == 0 {
			w.touched = append(w.touched, p)
		}
		p.idx = append(p.idx, int32(i))
	}
	return w.drain(batch)
}

// drain copies the pending records of batch into their partitions'
// buffers, the type set to the partition's, and encodes every block that
// fills up.
func (w *Writer) drain(batch []flow.Record) error {
	touched := w.touched
	w.touched = w.touched[:0]
	for ti, p := range touched {
		touched[ti] = nil
		fw, idx, typ := p.fw, p.idx, p.key.typ
		p.idx = p.idx[:0]
		w.records += int64(len(idx))
		for len(idx) > 0 && w.err == nil {
			dst := fw.free()
			if len(dst) > len(idx) {
				dst = dst[:len(idx)]
			}
			for j, i := range idx[:len(dst)] {
				dst[j] = batch[i]
				dst[j].Type = typ
			}
			idx = idx[len(dst):]
			fw.n += len(dst)
			w.buffered += len(dst)
			w.endFullBlock(p)
		}
	}
	return w.err
}
