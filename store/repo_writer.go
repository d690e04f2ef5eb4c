package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/durable"
)

// Classifier sets the flow type of a record (SiLK's class/type).
type Classifier interface {
	Classify(r *flow.Record) flow.FlowType
}

// PrefixClassifier classifies by where the addresses are: from outside to
// an Internal prefix is "in", the reverse "out", inside to inside "int",
// outside to outside "ext".
type PrefixClassifier struct {
	Internal []netip.Prefix
}

// Classify implements Classifier.
func (c *PrefixClassifier) Classify(r *flow.Record) flow.FlowType {
	s, d := c.contains(r.Src), c.contains(r.Dst)
	switch {
	case s && d:
		return flow.TypeInternal
	case s:
		return flow.TypeOut
	case d:
		return flow.TypeIn
	}
	return flow.TypeExternal
}

// contains reports whether a lies in one of the Internal prefixes, as
// netip.Prefix.Contains does (an IPv4 address only in IPv4 prefixes).
// IPv4 addresses, the common case, compare as numbers under the prefix's
// mask: no netip.Addr is built per record.
func (c *PrefixClassifier) contains(a flow.Addr) bool {
	if a.Is4() {
		v := binary.BigEndian.Uint32(a[12:])
		for _, p := range c.Internal {
			pa, bits := p.Addr(), p.Bits()
			if !pa.Is4() || bits < 0 {
				continue
			}
			m := ^uint32(0) << (32 - bits) // 0 for /0
			if pv := pa.As4(); v&m == binary.BigEndian.Uint32(pv[:])&m {
				return true
			}
		}
		return false
	}
	na := a.Netip()
	for _, p := range c.Internal {
		if p.Contains(na) {
			return true
		}
	}
	return false
}

// ParsePrefixes reads a comma-separated list of CIDR prefixes.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range splitComma(s) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("store: prefix %q: %w", f, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if f := trimSpace(s[start:i]); f != "" {
				out = append(out, f)
			}
			start = i + 1
		}
	}
	return out
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// WriterOptions configures a repository Writer.
type WriterOptions struct {
	// Classifier sets each record's Type before it is stored; nil keeps
	// the Type the record has.
	Classifier Classifier
	// BlockRows is the records per block (0: DefaultBlockRows).
	BlockRows int
	// MaxBuffered bounds the records held in memory across partitions
	// (0: 1<<20). Beyond it the fullest partition's records are encoded
	// into its temporary file as a (possibly short) block.
	MaxBuffered int
	// MaxOpen bounds the partitions with an open temporary file (0: 128);
	// beyond it the least recently used partition is committed.
	MaxOpen int
}

// Writer appends records to a repository: it routes each record to its
// partition (sensor, type, hour of Start), encodes blocks into a hidden
// temporary file per partition and commits the files on Flush and Close.
// A committed file is complete and immutable; nothing else is visible. It
// implements [flow.Sink]. It is not safe for concurrent use.
type Writer struct {
	repo     *Repo
	opts     WriterOptions
	parts    map[partKey]*partition
	buffered int
	tick     int64
	last     *partition
	lastKey  partKey
	// recent caches partitions by a hash of their key: records of a
	// few hours and types interleave, and a Go map lookup per record
	// (hashing the key) cost a tenth of the ingest
	recent [64]*partition
	// touched lists the partitions with records pending in route
	touched []*partition
	err     error
	records int64
}

type partKey struct {
	sensor uint16
	typ    flow.FlowType
	hour   int64 // Unix hour
}

type partition struct {
	key     partKey
	dir     string
	final   string
	tmp     string
	file    *os.File
	bw      *bufio.Writer
	fw      *FileWriter
	lastUse int64
	// idx holds the indexes of the records of the batch being routed
	// that go to this partition, in batch order
	idx []int32
}

var fileSeq atomic.Int64

// fileBuffers passes the 1 MiB write buffers of committed partitions to new
// ones: a buffer per partition, fresh, cost page faults on each first
// write (48 MB per million flows of hourly partitions).
var fileBuffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 1<<20) }}

// NewWriter returns a Writer into r.
func (r *Repo) NewWriter(opts WriterOptions) *Writer {
	if opts.BlockRows <= 0 || opts.BlockRows > MaxBlockRows {
		opts.BlockRows = DefaultBlockRows
	}
	if opts.MaxBuffered <= 0 {
		opts.MaxBuffered = 1 << 20
	}
	if opts.MaxOpen <= 0 {
		opts.MaxOpen = 128
	}
	return &Writer{repo: r, opts: opts, parts: map[partKey]*partition{}}
}

// floorHour returns the Unix hour of a time in ns, rounding down for
// times before 1970 too.
func floorHour(ns int64) int64 {
	h := ns / int64(time.Hour)
	if ns < 0 && ns%int64(time.Hour) != 0 {
		h--
	}
	return h
}

// WriteBatch classifies and buffers batch. The records are copied.
func (w *Writer) WriteBatch(batch []flow.Record) error {
	for len(batch) > 0 {
		if w.err != nil {
			return w.err
		}
		// records that cannot make the buffer overflow are routed as a
		// group (route); near the bound, one at a time, so that spills
		// happen at the same records as always
		room := w.opts.MaxBuffered - w.buffered
		if room < minRouted {
			if err := w.writeOne(&batch[0]); err != nil {
				return err
			}
			batch = batch[1:]
			continue
		}
		n := min(len(batch), room, maxRouted)
		if err := w.route(batch[:n]); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return w.err
}

// endFullBlock encodes p's block once it holds a block's rows.
func (w *Writer) endFullBlock(p *partition) {
	if p.fw.n == p.fw.blockRows {
		w.endBlock(p)
	}
}

// endBlock encodes p's buffered records as a block; an error becomes the
// Writer's.
func (w *Writer) endBlock(p *partition) {
	fw := p.fw
	w.buffered -= fw.n
	fw.writeBlock()
	if fw.err != nil {
		w.err = fmt.Errorf("store: %s: %w", p.tmp, fw.err)
	}
}

// keyOf classifies rec: its partition's key, whose typ is the flow type
// the record is stored with.
func (w *Writer) keyOf(rec *flow.Record) partKey {
	typ := rec.Type
	if w.opts.Classifier != nil {
		typ = w.opts.Classifier.Classify(rec)
	}
	return partKey{rec.Sensor, typ, floorHour(rec.Start)}
}

// writeOne classifies and buffers one record, spilling the fullest
// partition when the buffers hold more than MaxBuffered records.
func (w *Writer) writeOne(rec *flow.Record) error {
	k := w.keyOf(rec)
	p := w.last
	if p == nil || k != w.lastKey {
		var err error
		if p, err = w.partition(k, nil); err != nil {
			return err
		}
	}
	fw := p.fw
	r := fw.slot()
	*r = *rec
	r.Type = k.typ
	w.buffered++
	w.records++
	if w.endFullBlock(p); w.err != nil {
		return w.err
	}
	if w.buffered > w.opts.MaxBuffered {
		return w.spill()
	}
	return nil
}

// spill encodes the fullest partition's buffer as a block.
func (w *Writer) spill() error {
	var big *partition
	for _, p := range w.parts {
		if big == nil || p.fw.n > big.fw.n {
			big = p
		}
	}
	if big == nil {
		return nil
	}
	w.endBlock(big)
	return w.err
}

// slot returns the key's index in Writer.recent.
func (k partKey) slot() int {
	return int((uint64(k.hour)*4+uint64(k.typ)+uint64(k.sensor)*0x9e37)*0x9e3779b97f4a7c15>>58) & 63
}

// partition returns the open partition of k, opening it if needed (when
// MaxOpen are open, opening commits one: beforeCommit, if not nil, runs
// first), and makes it the last used. An error becomes the Writer's.
func (w *Writer) partition(k partKey, beforeCommit func() error) (*partition, error) {
	p := w.find(k)
	if p == nil {
		if beforeCommit != nil && len(w.parts) >= w.opts.MaxOpen {
			if err := beforeCommit(); err != nil {
				return nil, err
			}
		}
		var err error
		if p, err = w.open(k); err != nil {
			w.err = err
			return nil, err
		}
	}
	w.last, w.lastKey = p, k
	return p, nil
}

// find returns the open partition of k, or nil, and marks it used.
func (w *Writer) find(k partKey) *partition {
	w.tick++
	slot := &w.recent[k.slot()]
	if p := *slot; p != nil && p.key == k {
		p.lastUse = w.tick
		return p
	}
	if p, ok := w.parts[k]; ok {
		p.lastUse = w.tick
		*slot = p
		return p
	}
	return nil
}

// open creates the temporary file of partition k, first committing the
// least recently used partition when MaxOpen are open.
func (w *Writer) open(k partKey) (*partition, error) {
	slot := &w.recent[k.slot()]
	if len(w.parts) >= w.opts.MaxOpen {
		var lru *partition
		for _, p := range w.parts {
			if lru == nil || p.lastUse < lru.lastUse {
				lru = p
			}
		}
		if err := w.commit(lru); err != nil {
			return nil, err
		}
	}
	hour := time.Unix(k.hour*3600, 0).UTC()
	dir := filepath.Join(w.repo.root, partitionDir(k.sensor, k.typ, hour))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	name := fmt.Sprintf("%s-S%d_%s-%s-%d-%d%s", k.typ, k.sensor, hour.Format("20060102.15"),
		strconv.FormatInt(time.Now().UnixNano(), 36), os.Getpid(), fileSeq.Add(1), FileExt)
	p := &partition{key: k, dir: dir, final: filepath.Join(dir, name), tmp: filepath.Join(dir, "."+name+".tmp"), lastUse: w.tick}
	f, err := os.OpenFile(p.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	p.file = f
	p.bw = fileBuffers.Get().(*bufio.Writer)
	p.bw.Reset(f)
	p.fw = NewFileWriter(p.bw, w.opts.BlockRows)
	w.parts[k] = p
	*slot = p
	return p, nil
}

// commit finishes a partition's file and makes it visible: footer, flush,
// fsync, rename, fsync of the directory.
func (w *Writer) commit(p *partition) error {
	if err := w.finish([]*partition{p}); err != nil {
		return err
	}
	return syncDir(p.dir)
}

// finish writes the last block and footer of each partition, fsyncs the
// files (in parallel, so the device overlaps them) and renames them to
// their visible names. The caller fsyncs the directories.
func (w *Writer) finish(ps []*partition) error {
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	// encoding is CPU work: more encoders than processors only take
	// turns, each evicting the others' scratch from the caches
	cpu := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, p := range ps {
		delete(w.parts, p.key)
		if w.last == p {
			w.last = nil
		}
		if slot := &w.recent[p.key.slot()]; *slot == p {
			*slot = nil
		}
		w.buffered -= p.fw.n
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			cpu <- struct{}{}
			err := p.fw.Close()
			if err == nil {
				err = p.bw.Flush()
			}
			p.bw.Reset(nil)
			fileBuffers.Put(p.bw)
			p.bw = nil
			<-cpu
			if err == nil {
				err = p.file.Sync()
			}
			if cerr := p.file.Close(); err == nil {
				err = cerr
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	var first error
	for i, p := range ps {
		err := errs[i]
		if err == nil && first == nil {
			err = os.Rename(p.tmp, p.final)
		}
		if err != nil || first != nil {
			os.Remove(p.tmp)
			if first == nil {
				first = fmt.Errorf("store: committing %s: %w", p.final, err)
			}
		}
	}
	if first != nil {
		w.err = first
	}
	return first
}

// syncDir is durable.SyncDir with this package's error prefix.
func syncDir(dir string) error {
	if err := durable.SyncDir(dir); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Flush commits every partition: when it returns nil, every record written
// so far is in a visible, complete file that survives a crash.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	ps := make([]*partition, 0, len(w.parts))
	dirs := map[string]bool{}
	for _, p := range w.parts {
		ps = append(ps, p)
		dirs[p.dir] = true
	}
	if err := w.finish(ps); err != nil {
		return err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for d := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := syncDir(d); err != nil {
				mu.Lock()
				w.err = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return w.err
}

// Close flushes and ends the writer; after an error it removes the
// temporary files instead.
func (w *Writer) Close() error {
	if w.err != nil {
		for _, p := range w.parts {
			p.file.Close()
			os.Remove(p.tmp)
		}
		w.parts = nil
		return w.err
	}
	err := w.Flush()
	w.err = errors.New("store: writer closed")
	return err
}

// Records returns the number of records accepted so far.
func (w *Writer) Records() int64 { return w.records }
