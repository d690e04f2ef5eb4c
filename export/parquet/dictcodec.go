package parquet

import (
	"bytes"
	"encoding/binary"

	"github.com/parquet-go/parquet-go/compress"
)

// dictCodec is the codec of an address column. parquet-go compresses
// the columns' dictionary pages one after another, alone, as it puts a
// row group together, and the address texts' pages are the largest of
// the file (3 MB a million flows; zstd took a tenth of the writer's
// time there, while the other goroutine waited). So at a row group's end
// the writer's two goroutines compress them ahead (precompress), and
// Encode hands back the result when asked for the same bytes. Any other
// bytes (the data pages) it compresses as they come, or with zstd and a
// large dictionary stores in raw blocks (rawFrom).
type dictCodec struct {
	compress.Codec
	st     *colState // the column, for its dictionary's length
	zstd   bool      // Codec is zstd
	plain  []byte    // the dictionary page, PLAIN encoded as parquet-go does
	packed []byte    // plain compressed
	ready  bool
	hits   int // pages handed back compressed ahead
	raws   int // pages stored in raw blocks
}

// precompress encodes and compresses the page of d.
func (c *dictCodec) precompress(d *textDict) error {
	c.plain = c.plain[:0]
	for i := range int32(d.Len()) {
		b := d.bytes(i)
		c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(len(b)))
		c.plain = append(c.plain, b...)
	}
	var err error
	c.packed, err = c.Codec.Encode(c.packed[:0], c.plain)
	c.ready = err == nil
	return err
}

func (c *dictCodec) Encode(dst, src []byte) ([]byte, error) {
	if c.ready && bytes.Equal(src, c.plain) {
		c.ready = false
		c.hits++
		return append(dst[:0], c.packed...), nil
	}
	if c.zstd && c.st.text != nil && c.st.text.Len() >= rawFrom {
		c.raws++
		return appendZstdRaw(dst[:0], src), nil
	}
	return c.Codec.Encode(dst, src)
}

// rawFrom is the dictionary length from which dictCodec stores an
// address column's data pages in zstd raw blocks rather than compressing
// them: indexes of 12 bits and more, bit-packed, leave zstd nothing to
// find (0.0% on the benchmark corpus's 17-bit pages), and it took as long
// to find nothing as to compress the dictionary page.
const rawFrom = 1 << 12

// appendZstdRaw appends src to dst as a zstd frame of raw blocks, which
// every zstd decoder reads (RFC 8878: a single-segment frame with its
// content size, then blocks of at most 128 KiB stored as they are).
func appendZstdRaw(dst, src []byte) []byte {
	dst = append(dst, 0x28, 0xb5, 0x2f, 0xfd, // magic number
		0xa0) // frame header: 4-byte content size, single segment
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(src)))
	for {
		n := min(len(src), 128<<10)
		h := uint32(n) << 3 // block type 0: raw
		if n == len(src) {
			h |= 1 // last block
		}
		dst = append(dst, byte(h), byte(h>>8), byte(h>>16))
		dst = append(dst, src[:n]...)
		if src = src[n:]; h&1 != 0 {
			return dst
		}
	}
}
