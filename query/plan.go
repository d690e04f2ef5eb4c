package query

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"math"
	"math/bits"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/store"
)

// StoreColumn returns the store columns a field is read from (two for
// derived fields such as Duration and BytesPerPacket).
func StoreColumn(f Field) store.ColumnMask {
	switch f {
	case SrcAddr, SrcLabel:
		return store.MaskOf(store.ColSrc)
	case DstAddr, DstLabel:
		return store.MaskOf(store.ColDst)
	case NextHop:
		return store.MaskOf(store.ColNextHop)
	case SrcPort:
		return store.MaskOf(store.ColSrcPort)
	case DstPort:
		return store.MaskOf(store.ColDstPort)
	case Protocol:
		return store.MaskOf(store.ColProtocol)
	case ICMPType, ICMPCode:
		return store.MaskOf(store.ColDstPort, store.ColProtocol)
	case Packets:
		return store.MaskOf(store.ColPackets)
	case Bytes:
		return store.MaskOf(store.ColBytes)
	case BytesPerPacket:
		return store.MaskOf(store.ColBytes, store.ColPackets)
	case Start:
		return store.MaskOf(store.ColStart)
	case End:
		return store.MaskOf(store.ColEnd)
	case Duration:
		return store.MaskOf(store.ColStart, store.ColEnd)
	case Flags:
		return store.MaskOf(store.ColFlags)
	case InitialFlags:
		return store.MaskOf(store.ColInitialFlags)
	case SessionFlags:
		return store.MaskOf(store.ColSessionFlags)
	case Sensor:
		return store.MaskOf(store.ColSensor)
	case Type:
		return store.MaskOf(store.ColType)
	case Application:
		return store.MaskOf(store.ColApplication)
	case VLAN:
		return store.MaskOf(store.ColVLAN)
	case EndReason:
		return store.MaskOf(store.ColEndReason)
	case Input:
		return store.MaskOf(store.ColInput)
	case Output:
		return store.MaskOf(store.ColOutput)
	case SrcAS:
		return store.MaskOf(store.ColSrcAS)
	case DstAS:
		return store.MaskOf(store.ColDstAS)
	case RevPackets:
		return store.MaskOf(store.ColRevPackets)
	case RevBytes:
		return store.MaskOf(store.ColRevBytes)
	case RevFlags:
		return store.MaskOf(store.ColRevFlags)
	}
	return 0
}

// ColumnsOf returns the store columns the given fields are read from.
func ColumnsOf(fields ...Field) store.ColumnMask {
	var m store.ColumnMask
	for _, f := range fields {
		m |= StoreColumn(f)
	}
	return m
}

// PredColumns returns the store columns a predicate reads.
func PredColumns(p Pred) store.ColumnMask {
	switch p := p.(type) {
	case And:
		var m store.ColumnMask
		for _, q := range p {
			m |= PredColumns(q)
		}
		return m
	case Or:
		var m store.ColumnMask
		for _, q := range p {
			m |= PredColumns(q)
		}
		return m
	case Not:
		return PredColumns(p.P)
	case Range:
		return StoreColumn(p.Field)
	case TimeRange:
		return StoreColumn(p.Field)
	case Prefix:
		return StoreColumn(p.Field)
	case InSet:
		return StoreColumn(p.Field)
	case FlagMask:
		return StoreColumn(p.Field)
	case Label:
		return StoreColumn(p.Field)
	}
	return 0
}

// TimeBounds returns the range of start times p can match, from the
// TimeRange leaves on Start at its top level (an And or the leaf itself);
// [math.MinInt64, math.MaxInt64] when p does not bound it.
func TimeBounds(p Pred) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	var walk func(p Pred)
	walk = func(p Pred) {
		switch q := p.(type) {
		case And:
			for _, m := range q {
				walk(m)
			}
		case TimeRange:
			if q.Field == Start {
				lo, hi = max(lo, q.Min), min(hi, q.Max)
			}
		}
	}
	walk(p)
	return lo, hi
}

// ScanStats says how much of a repository a scan touched: the planner's
// account of what the zone maps and indexes saved.
type ScanStats struct {
	Files         int64 // files opened
	Blocks        int64 // blocks in those files
	ZoneSkipped   int64 // blocks skipped by zone maps alone
	IndexSkipped  int64 // blocks skipped after index lookups found no row
	IndexOnly     int64 // blocks answered from indexes without decoding
	Decoded       int64 // blocks whose columns were decoded
	RowsScanned   int64 // rows of the decoded blocks
	RowsMatched   int64 // rows that matched
	CorruptBlocks int64 // blocks skipped as damaged (see the returned error)
}

// BlockMatch is what a store scan hands over for one block: the matching
// rows and, unless the scan asked for no columns, the decoded columns.
type BlockMatch struct {
	Ref   store.FileRef
	Block int
	Rows  Bits           // selected rows of the block
	Count int            // number of selected rows
	Cols  *store.Columns // decoded columns (nil when none were asked for)
}

// Batches yields the matching rows as records in batches of up to
// len(buf), filled into buf (so a whole block never has to sit in memory
// as records).
func (b *BlockMatch) Batches(buf []flow.Record) iter.Seq[[]flow.Record] {
	return func(yield func([]flow.Record) bool) {
		if b.Cols == nil || len(buf) == 0 {
			return
		}
		n := 0
		for wi, w := range b.Rows {
			for w != 0 {
				i := wi*64 + bits.TrailingZeros64(w)
				w &= w - 1
				b.Cols.Record(i, &buf[n])
				n++
				if n == len(buf) {
					if !yield(buf) {
						return
					}
					n = 0
				}
			}
		}
		if n > 0 {
			yield(buf[:n])
		}
	}
}

// Records appends the matching rows as records to dst (the fields of the
// columns not decoded are zero).
func (b *BlockMatch) Records(dst []flow.Record) []flow.Record {
	if b.Cols == nil {
		return dst
	}
	for wi, w := range b.Rows {
		for w != 0 {
			i := wi*64 + bits.TrailingZeros64(w)
			w &= w - 1
			dst = append(dst, flow.Record{})
			b.Cols.Record(i, &dst[len(dst)-1])
		}
	}
	return dst
}

// ScanStore runs p over the files of repo that sel selects, in parallel over
// files and blocks on workers goroutines (0: GOMAXPROCS), and calls fn for
// every block with matching rows; fn runs concurrently with itself and gets
// its worker number. need is the columns fn reads (store.AllColumns for
// whole records; 0 when fn needs only the count).
//
// The plan, per block: zone maps (time, numeric and address ranges) decide
// whether no row or every row can match a leaf; index lookups (roaring
// bitmaps per value of protocol, ports, addresses, flags, sensor,
// application) give the rows of indexed leaves, combined through And, Or
// and Not; a block with no candidate row is skipped undecoded. When the
// indexes answer the whole predicate exactly and need is 0, nothing is
// decoded; otherwise only the needed columns (and those of the leaves the
// indexes could not answer) are decoded, and the remaining leaves are
// evaluated column-wise on the candidate rows. The time range of sel is
// narrowed by p's bounds on Start, so whole hours of files are skipped.
//
// Damaged blocks are skipped and reported in the error (errors.Is(err,
// store.ErrCorrupt)) after everything else was read; an error from fn
// stops the scan.
func ScanStore(ctx context.Context, repo *store.Repo, sel store.Selection, p Pred, need store.ColumnMask, workers int,
	fn func(worker int, m *BlockMatch) error) (ScanStats, error) {
	var st ScanStats
	if p == nil {
		p = And{}
	}
	lo, hi := TimeBounds(p)
	if lo > hi {
		return st, nil
	}
	if lo != math.MinInt64 && (sel.Start.IsZero() || time.Unix(0, lo).After(sel.Start)) {
		sel.Start = time.Unix(0, lo).UTC()
	}
	if hi != math.MaxInt64 && (sel.End.IsZero() || time.Unix(0, hi).Before(sel.End)) {
		sel.End = time.Unix(0, hi).Add(1).UTC()
	}
	refs, err := repo.Files(sel)
	if err != nil {
		return st, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	NewMatcher(p) // builds sets and prefix maps once, before workers share them
	predCols := PredColumns(p)

	type task struct {
		ref   int
		f     *store.File
		block int
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tasks := make(chan task, 4*workers)
	var (
		mu      sync.Mutex
		corrupt []error
		stopErr error
		wg      sync.WaitGroup
		fileWG  = make([]sync.WaitGroup, len(refs))
		closers sync.WaitGroup
	)
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if errors.Is(err, store.ErrCorrupt) {
			corrupt = append(corrupt, err)
			atomic.AddInt64(&st.CorruptBlocks, 1)
			return
		}
		if stopErr == nil {
			stopErr = err
			cancel()
		}
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bs := &blockScan{m: NewMatcher(p), need: need, predCols: predCols}
			for t := range tasks {
				if ctx.Err() == nil {
					if err := bs.run(refs[t.ref], t.f, t.block, &st, func(m *BlockMatch) error { return fn(w, m) }); err != nil {
						report(err)
					}
				}
				fileWG[t.ref].Done()
			}
		}()
	}
feed:
	for i, ref := range refs {
		if ctx.Err() != nil {
			break
		}
		f, err := store.OpenFile(ref.Path)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				report(err)
			}
			continue
		}
		atomic.AddInt64(&st.Files, 1)
		atomic.AddInt64(&st.Blocks, int64(f.NumBlocks()))
		fileWG[i].Add(f.NumBlocks())
		closers.Add(1)
		go func() {
			fileWG[i].Wait()
			f.Close()
			closers.Done()
		}()
		for b := 0; b < f.NumBlocks(); b++ {
			select {
			case tasks <- task{i, f, b}:
			case <-ctx.Done():
				fileWG[i].Add(b - f.NumBlocks())
				break feed
			}
		}
	}
	close(tasks)
	wg.Wait()
	closers.Wait()
	if stopErr != nil {
		return st, stopErr
	}
	if err := parent.Err(); err != nil {
		return st, err
	}
	switch len(corrupt) {
	case 0:
		return st, nil
	case 1:
		return st, corrupt[0]
	}
	return st, fmt.Errorf("%w (and %d more damaged blocks skipped)", corrupt[0], len(corrupt)-1)
}

// blockScan is one worker's state.
type blockScan struct {
	m        *Matcher
	need     store.ColumnMask
	predCols store.ColumnMask
	cols     store.Columns
	sc       storeColumns
	sel      Bits
	f        *store.File
	block    int
	info     *store.BlockInfo
	rows     int
	ixs      [store.NumColumns]store.Index // reused from block to block
	have     [store.NumColumns]bool        // ixs[c] holds this block's index
	scratch  []Bits                        // row bitsets for index results
	used     int                           // scratch bitsets handed out for this block
}

// zone is what the zone maps say about a leaf in a block.
type zone uint8

const (
	zoneSome zone = iota // some rows may match
	zoneNone             // no row matches
	zoneAll              // every row matches
)

func (s *blockScan) run(ref store.FileRef, f *store.File, b int, st *ScanStats, fn func(*BlockMatch) error) error {
	s.f, s.block, s.info = f, b, f.Block(b)
	s.have = [store.NumColumns]bool{}
	s.used = 0
	rows := s.info.Rows
	s.rows = rows
	switch s.zone(s.m.pred) {
	case zoneNone:
		atomic.AddInt64(&st.ZoneSkipped, 1)
		return nil
	}
	bm, ok, exact, err := s.index(s.m.pred)
	if err != nil {
		return err
	}
	if ok && isEmpty(bm) {
		atomic.AddInt64(&st.IndexSkipped, 1)
		return nil
	}
	s.sel = s.sel.Resize(rows)
	if !ok {
		s.sel.SetAll(rows)
	} else {
		copy(s.sel, bm)
	}
	match := &BlockMatch{Ref: ref, Block: b, Rows: s.sel}
	mask := s.need
	if !exact || !ok {
		mask |= s.predCols
	}
	if mask == 0 {
		atomic.AddInt64(&st.IndexOnly, 1)
	} else {
		if err := f.ReadColumns(b, mask, &s.cols); err != nil {
			return err
		}
		atomic.AddInt64(&st.Decoded, 1)
		atomic.AddInt64(&st.RowsScanned, int64(rows))
		if !exact || !ok {
			s.sc.reset(&s.cols)
			s.m.Refine(&s.sc, s.sel)
		}
		if s.need != 0 {
			match.Cols = &s.cols
		}
	}
	match.Count = s.sel.Count()
	atomic.AddInt64(&st.RowsMatched, int64(match.Count))
	if match.Count == 0 {
		return nil
	}
	return fn(match)
}

// bits hands out a cleared row bitset of the block, valid until the next
// block.
func (s *blockScan) bits() Bits {
	if s.used == len(s.scratch) {
		s.scratch = append(s.scratch, nil)
	}
	b := s.scratch[s.used].Resize(s.rows)
	s.scratch[s.used] = b
	s.used++
	return b
}

func isEmpty(b Bits) bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// zoneRange compares [lo, hi] with a zone map [zlo, zhi].
func zoneRange(lo, hi, zlo, zhi uint64) zone {
	switch {
	case zhi < lo || zlo > hi:
		return zoneNone
	case zlo >= lo && zhi <= hi:
		return zoneAll
	}
	return zoneSome
}

func zoneTime(lo, hi, zlo, zhi int64) zone {
	switch {
	case zhi < lo || zlo > hi:
		return zoneNone
	case zlo >= lo && zhi <= hi:
		return zoneAll
	}
	return zoneSome
}

// singleColumn returns the store column a plain numeric field is stored
// in, and whether there is exactly one.
func singleColumn(f Field) (store.Column, bool) {
	m := StoreColumn(f)
	if m == 0 || m&(m-1) != 0 || f == BytesPerPacket || f == Duration || f == ICMPType || f == ICMPCode {
		return 0, false
	}
	return store.Column(bits.TrailingZeros32(uint32(m))), true
}

// zone evaluates p on the block's zone maps.
func (s *blockScan) zone(p Pred) zone {
	switch q := p.(type) {
	case And:
		out := zoneAll
		for _, m := range q {
			switch s.zone(m) {
			case zoneNone:
				return zoneNone
			case zoneSome:
				out = zoneSome
			}
		}
		return out
	case Or:
		out := zoneNone
		for _, m := range q {
			switch s.zone(m) {
			case zoneAll:
				return zoneAll
			case zoneSome:
				out = zoneSome
			}
		}
		return out
	case Not:
		switch s.zone(q.P) {
		case zoneAll:
			return zoneNone
		case zoneNone:
			return zoneAll
		}
	case Range:
		if q.Min > q.Max {
			return zoneNone
		}
		if c, ok := singleColumn(q.Field); ok && c != store.ColStart && c != store.ColEnd {
			lo, hi := s.info.Range(c)
			return zoneRange(q.Min, q.Max, lo, hi)
		}
	case TimeRange:
		if q.Min > q.Max {
			return zoneNone
		}
		switch q.Field {
		case Start:
			return zoneTime(q.Min, q.Max, s.info.MinStart, s.info.MaxStart)
		case End:
			return zoneTime(q.Min, q.Max, s.info.MinEnd, s.info.MaxEnd)
		}
	case Prefix:
		if !q.Prefix.IsValid() {
			return zoneNone
		}
		c, _ := singleColumn(q.Field)
		zlo, zhi := s.info.AddrRange(c)
		plo, phi := prefixSpan(q.Prefix.Masked()).lo.addr(), prefixSpan(q.Prefix.Masked()).hi.addr()
		switch {
		case bytes.Compare(zhi[:], plo[:]) < 0 || bytes.Compare(zlo[:], phi[:]) > 0:
			return zoneNone
		case bytes.Compare(zlo[:], plo[:]) >= 0 && bytes.Compare(zhi[:], phi[:]) <= 0:
			return zoneAll
		}
	}
	return zoneSome
}

// index returns the candidate rows of p from the block's indexes: ok is
// false when the indexes say nothing (every row is a candidate); exact
// when the bitset is exactly the matching rows. The bitset is scratch of
// the block.
func (s *blockScan) index(p Pred) (bm Bits, ok, exact bool, err error) {
	switch s.zone(p) {
	case zoneNone:
		return s.bits(), true, true, nil
	case zoneAll:
		out := s.bits()
		out.SetAll(s.rows)
		return out, true, true, nil
	}
	switch q := p.(type) {
	case And:
		var acc Bits
		exact := true
		for _, m := range q {
			bm, ok, ex, err := s.index(m)
			if err != nil {
				return nil, false, false, err
			}
			if !ok {
				exact = false
				continue
			}
			exact = exact && ex
			if acc == nil {
				acc = bm
			} else {
				for i := range acc {
					acc[i] &= bm[i]
				}
			}
			if isEmpty(acc) {
				return acc, true, true, nil
			}
		}
		return acc, acc != nil, exact && acc != nil, nil
	case Or:
		var acc Bits
		exact := true
		for _, m := range q {
			bm, ok, ex, err := s.index(m)
			if err != nil || !ok {
				return nil, false, false, err
			}
			exact = exact && ex
			if acc == nil {
				acc = bm
			} else {
				for i := range acc {
					acc[i] |= bm[i]
				}
			}
		}
		if acc == nil {
			acc = s.bits()
		}
		return acc, true, exact, nil
	case Not:
		bm, ok, ex, err := s.index(q.P)
		if err != nil || !ok || !ex {
			return nil, false, false, err
		}
		for i := range bm {
			bm[i] = ^bm[i]
		}
		bm.trim(s.rows)
		return bm, true, true, nil
	case Range:
		c, ok := singleColumn(q.Field)
		if !ok || !c.Indexed() {
			return nil, false, false, nil
		}
		ix, err := s.index1(c)
		if err != nil {
			return nil, false, false, err
		}
		out := s.bits()
		if err := ix.MarkRange(out, q.Min, q.Max); err != nil {
			return nil, false, false, err
		}
		return out, true, true, nil
	case Prefix:
		c, _ := singleColumn(q.Field)
		ix, err := s.index1(c)
		if err != nil {
			return nil, false, false, err
		}
		out := s.bits()
		if err := ix.MarkPrefix(out, q.Prefix); err != nil {
			return nil, false, false, err
		}
		return out, true, true, nil
	case InSet:
		// A small set: one prefix lookup per block of the set.
		var ps [64]netip.Prefix
		n := 0
		for pr := range q.Set.Prefixes() {
			if n == len(ps) {
				return nil, false, false, nil
			}
			ps[n] = pr
			n++
		}
		c, _ := singleColumn(q.Field)
		ix, err := s.index1(c)
		if err != nil {
			return nil, false, false, err
		}
		out := s.bits()
		for _, pr := range ps[:n] {
			if err := ix.MarkPrefix(out, pr); err != nil {
				return nil, false, false, err
			}
		}
		return out, true, true, nil
	case FlagMask:
		free := 8 - bits.OnesCount8(uint8(q.Mask))
		if q.Field != Flags || free > 7 {
			return nil, false, false, nil
		}
		ix, err := s.index1(store.ColFlags)
		if err != nil {
			return nil, false, false, err
		}
		out := s.bits()
		if err := ix.MarkMatch(out, func(v uint64) bool {
			return v < 256 && flow.TCPFlags(v)&q.Mask == q.Set
		}); err != nil {
			return nil, false, false, err
		}
		return out, true, true, nil
	}
	return nil, false, false, nil
}

// index1 returns the index of column c of the block, read once per block
// into the worker's reused Index.
func (s *blockScan) index1(c store.Column) (*store.Index, error) {
	ix := &s.ixs[c]
	if s.have[c] {
		return ix, nil
	}
	if err := s.f.ReadIndex(s.block, c, ix); err != nil {
		return nil, err
	}
	s.have[c] = true
	return ix, nil
}

// storeColumns presents a block's decoded columns as Columns.
type storeColumns struct {
	c     *store.Columns
	uints [numFields][]uint64
	have  [numFields]bool
}

func (s *storeColumns) reset(c *store.Columns) {
	s.c = c
	s.have = [numFields]bool{}
}

// Len implements Columns.
func (s *storeColumns) Len() int { return s.c.Len }

// Addrs implements Columns.
func (s *storeColumns) Addrs(f Field) []flow.Addr {
	switch f {
	case SrcAddr:
		return s.c.Src
	case DstAddr:
		return s.c.Dst
	case NextHop:
		return s.c.NextHop
	}
	return nil
}

func widen[T ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~int64](dst []uint64, src []T) {
	for i, v := range src[:len(dst)] {
		dst[i] = uint64(v)
	}
}

// Uints implements Columns.
func (s *storeColumns) Uints(f Field) []uint64 {
	if s.have[f] {
		return s.uints[f]
	}
	s.have[f] = true
	c := s.c
	n := c.Len
	out := grow(s.uints[f], n)
	s.uints[f] = out
	switch f {
	case SrcPort:
		widen(out, c.SrcPort)
	case DstPort:
		widen(out, c.DstPort)
	case Protocol:
		widen(out, c.Protocol)
	case ICMPType, ICMPCode:
		for i := range out {
			p := c.Protocol[i]
			switch {
			case p != flow.ProtoICMP && p != flow.ProtoICMPv6:
				out[i] = NoValue
			case f == ICMPType:
				out[i] = uint64(c.DstPort[i] >> 8)
			default:
				out[i] = uint64(c.DstPort[i] & 0xff)
			}
		}
	case Packets:
		copy(out, c.Packets)
	case Bytes:
		copy(out, c.Bytes)
	case BytesPerPacket:
		for i := range out {
			if c.Packets[i] == 0 {
				out[i] = 0
			} else {
				out[i] = c.Bytes[i] / c.Packets[i]
			}
		}
	case Start:
		widen(out, c.Start)
	case End:
		widen(out, c.End)
	case Duration:
		for i := range out {
			out[i] = uint64(c.End[i] - c.Start[i])
		}
	case Flags:
		widen(out, c.Flags)
	case InitialFlags:
		widen(out, c.InitialFlags)
	case SessionFlags:
		widen(out, c.SessionFlags)
	case Sensor:
		widen(out, c.Sensor)
	case Type:
		widen(out, c.Type)
	case Application:
		widen(out, c.Application)
	case VLAN:
		widen(out, c.VLAN)
	case EndReason:
		widen(out, c.EndReason)
	case Input:
		widen(out, c.Input)
	case Output:
		widen(out, c.Output)
	case SrcAS:
		widen(out, c.SrcAS)
	case DstAS:
		widen(out, c.DstAS)
	case RevPackets:
		copy(out, c.RevPackets)
	case RevBytes:
		copy(out, c.RevBytes)
	case RevFlags:
		widen(out, c.RevFlags)
	default:
		clear(out)
	}
	return out
}
