package store

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/bits"
	"sync"

	"github.com/flowkit/flowkit/flow"
)

// Format constants (FORMAT.md).
const (
	// Version is the file format version this package writes. It reads
	// version 1 too: version 2 without paired integer streams.
	Version = 2

	headerSize  = 16
	trailerSize = 16
	headerMagic = "FKSTORE\x00"
	footerMagic = "FKSTEND\x00"
)

// encoders shares block encoders (about 20 MB of scratch each for full
// blocks) among all file writers, so a repository writer with many open
// partitions holds only a few.
var encoders sync.Pool

func getEncoder() *blockEncoder {
	if e, ok := encoders.Get().(*blockEncoder); ok {
		return e
	}
	return &blockEncoder{}
}

// DefaultBlockRows is the block size a FileWriter uses when none is given.
const DefaultBlockRows = MaxBlockRows

// FileWriter writes records to one store file: it buffers records, encodes
// every full block and writes the footer on Close. It implements
// [flow.Sink]. It is not safe for concurrent use.
type FileWriter struct {
	w         io.Writer
	blockRows int
	// the block's records so far, in chunks of 1<<shift records
	// allocated as needed and kept from block to block: no buffer is
	// grown and copied (a repository writer fills many partitions)
	chunks [][]flow.Record
	shift  uint
	n      int
	view   [][]flow.Record
	blocks []BlockInfo
	off    int64
	err    error
	closed bool
}

// maxChunkShift sizes a block buffer's chunks: 1024 records, 144 KiB.
const maxChunkShift = 10

// recChunk is a full-size chunk of a block buffer.
type recChunk [1 << maxChunkShift]flow.Record

// chunkPool passes full-size chunks from closed file writers to new ones:
// a repository writer opens a file per partition, and fresh chunks cost a
// page fault per 4 KiB on first write and a GC cycle per few hundred MB
// (a third of the repository ingest before).
var chunkPool = sync.Pool{New: func() any { return new(recChunk) }}

// newChunk returns a chunk for the next 1<<fw.shift records.
func (fw *FileWriter) newChunk() []flow.Record {
	if fw.shift == maxChunkShift {
		return chunkPool.Get().(*recChunk)[:]
	}
	return make([]flow.Record, 1<<fw.shift)
}

// releaseChunks returns the full-size chunks to chunkPool once the writer
// no longer buffers records.
func (fw *FileWriter) releaseChunks() {
	if fw.shift == maxChunkShift {
		for _, c := range fw.chunks {
			chunkPool.Put((*recChunk)(c))
		}
	}
	fw.chunks = nil
	fw.view = nil
}

// NewFileWriter returns a writer of a store file to w. blockRows is the
// number of records per block (0 means DefaultBlockRows; at most
// MaxBlockRows).
func NewFileWriter(w io.Writer, blockRows int) *FileWriter {
	if blockRows <= 0 || blockRows > MaxBlockRows {
		blockRows = DefaultBlockRows
	}
	// small blocks take chunks of their size
	shift := min(uint(bits.Len(uint(blockRows-1))), maxChunkShift)
	return &FileWriter{w: w, blockRows: blockRows, shift: shift}
}

// free returns the unfilled rest of the chunk the next record goes to,
// up to the block's end, adding the chunk when needed; the caller fills
// a prefix of it, adds its length to fw.n and, when Buffered reaches the
// block size, calls writeBlock.
func (fw *FileWriter) free() []flow.Record {
	c, at := fw.n>>fw.shift, fw.n&(1<<fw.shift-1)
	if c == len(fw.chunks) {
		fw.chunks = append(fw.chunks, fw.newChunk())
	}
	return fw.chunks[c][at:min(1<<fw.shift, at+fw.blockRows-fw.n)]
}

// slot returns the place of the next buffered record (see free).
func (fw *FileWriter) slot() *flow.Record {
	r := &fw.free()[0]
	fw.n++
	return r
}

// ErrClosed is returned when writing to a closed writer.
var ErrClosed = errors.New("store: writer closed")

// WriteBatch buffers batch and writes every block that fills up.
func (fw *FileWriter) WriteBatch(batch []flow.Record) error {
	if fw.closed {
		return ErrClosed
	}
	for len(batch) > 0 && fw.err == nil {
		k := copy(fw.free(), batch)
		fw.n += k
		batch = batch[k:]
		if fw.n == fw.blockRows {
			fw.writeBlock()
		}
	}
	return fw.err
}

// Buffered returns the number of records not yet written as a block.
func (fw *FileWriter) Buffered() int { return fw.n }

// Records returns the number of records written so far in blocks.
func (fw *FileWriter) Records() int64 {
	var n int64
	for i := range fw.blocks {
		n += int64(fw.blocks[i].Rows)
	}
	return n
}

func (fw *FileWriter) write(p []byte) {
	if fw.err != nil {
		return
	}
	_, fw.err = fw.w.Write(p)
	fw.off += int64(len(p))
}

func (fw *FileWriter) writeHeader() {
	var h [headerSize]byte
	copy(h[:], headerMagic)
	binary.LittleEndian.PutUint16(h[8:], Version)
	binary.LittleEndian.PutUint16(h[10:], 0)
	binary.LittleEndian.PutUint32(h[12:], crc32.Checksum(h[:12], castagnoli))
	fw.write(h[:])
}

func (fw *FileWriter) writeBlock() {
	if fw.n == 0 || fw.err != nil {
		fw.n = 0
		return
	}
	if fw.off == 0 {
		fw.writeHeader()
	}
	fw.view = fw.view[:0]
	for rest := fw.n; rest > 0; rest -= 1 << fw.shift {
		c := fw.chunks[len(fw.view)]
		fw.view = append(fw.view, c[:min(rest, len(c))])
	}
	enc := getEncoder()
	info := enc.encode(fw.view, fw.shift)
	info.Offset = fw.off
	fw.write(enc.out)
	encoders.Put(enc)
	fw.blocks = append(fw.blocks, info)
	fw.n = 0
}

// Close writes the last partial block, the footer and the trailer. It does
// not close the underlying writer. A file with no records is valid.
func (fw *FileWriter) Close() error {
	if fw.closed {
		return fw.err
	}
	fw.writeBlock()
	if fw.off == 0 {
		fw.writeHeader()
	}
	footer := appendFooter(nil, fw.blocks)
	fw.write(footer)
	var t [trailerSize]byte
	binary.LittleEndian.PutUint32(t[0:], uint32(len(footer)))
	binary.LittleEndian.PutUint32(t[4:], crc32.Checksum(footer, castagnoli))
	copy(t[8:], footerMagic)
	fw.write(t[:])
	fw.closed = true
	fw.releaseChunks()
	return fw.err
}

// appendFooter encodes the block list (FORMAT.md, "Footer").
func appendFooter(dst []byte, blocks []BlockInfo) []byte {
	dst = binary.AppendUvarint(dst, uint64(NumColumns))
	dst = binary.AppendUvarint(dst, uint64(len(blocks)))
	for i := range blocks {
		b := &blocks[i]
		dst = binary.AppendUvarint(dst, uint64(b.Offset))
		dst = binary.AppendUvarint(dst, uint64(b.Rows))
		dst = binary.AppendUvarint(dst, zigzag(b.MinStart))
		dst = binary.AppendUvarint(dst, zigzag(b.MaxStart))
		dst = binary.AppendUvarint(dst, zigzag(b.MinEnd))
		dst = binary.AppendUvarint(dst, zigzag(b.MaxEnd))
		for c := Column(0); int(c) < NumColumns; c++ {
			m := &b.chunks[c]
			dst = append(dst, m.comp)
			dst = binary.AppendUvarint(dst, uint64(m.stored))
			dst = binary.AppendUvarint(dst, uint64(m.raw))
			dst = binary.AppendUvarint(dst, uint64(m.bitmapBytes))
			dst = binary.LittleEndian.AppendUint32(dst, m.crc)
			if c.IsAddr() {
				if m.minA.Is4() && m.maxA.Is4() {
					dst = append(dst, 4)
					dst = binary.BigEndian.AppendUint32(dst, m.minA.Uint32())
					dst = binary.BigEndian.AppendUint32(dst, m.maxA.Uint32())
				} else {
					dst = append(dst, 16)
					dst = append(dst, m.minA[:]...)
					dst = append(dst, m.maxA[:]...)
				}
			} else {
				dst = binary.AppendUvarint(dst, m.min)
				dst = binary.AppendUvarint(dst, m.max)
			}
		}
	}
	return dst
}
