package parquet

import (
	"bytes"
	"encoding/binary"
	"sync"

	"github.com/parquet-go/parquet-go/compress"
)

// dictCodec is the codec of an address column. parquet-go compresses
// the columns' dictionary pages one after another, alone, as it puts a
// row group together, and the address texts' pages are the largest of
// the file (3 MB a million flows; zstd took a tenth of the writer's
// time there, while the other goroutine waited). So the writer encodes
// the page as the dictionary grows (feed) and, with zstd, compresses it
// as it goes, a block at a time, in the goroutines that encode the
// chunks; at the row group's end precompress finishes it, and Encode
// hands back the result when asked for the same bytes. Any other bytes
// (the data pages) it compresses as they come, or with zstd and a large
// dictionary stores in raw blocks (rawFrom).
type dictCodec struct {
	compress.Codec
	st        *colState // the column, for its dictionary's length
	zstd      bool      // Codec is zstd
	*dictPage           // from dictPages while the writer is open
	fed       int       // texts of the dictionary in plain
	sent      int       // bytes of plain coded into frame
	ended     bool      // plain is the page of an ended row group
	ready     bool      // packed is plain compressed, not yet handed back
	hits      int       // pages handed back compressed ahead
	raws      int       // pages stored in raw blocks
	blocks    int       // dictionary page blocks coded as the dictionary grew
}

// dictPage is the memory of a dictCodec: a megabyte or more each for a
// row group of a million flows, kept across writers in dictPages.
type dictPage struct {
	plain  []byte   // the dictionary page, PLAIN encoded as parquet-go does
	packed []byte   // plain compressed
	frame  litFrame // with zstd, plain compressed as it grows
}

var dictPages = sync.Pool{New: func() any { return new(dictPage) }}

// feed adds the texts new in d since the last call to the dictionary
// page, and with zstd compresses each full block of it.
func (c *dictCodec) feed(d *textDict) error {
	if c.dictPage == nil {
		c.dictPage = dictPages.Get().(*dictPage)
		c.ended = true // a page from the pool holds another writer's
	}
	if c.ended { // a new row group
		c.plain, c.fed, c.sent, c.ended, c.ready = c.plain[:0], 0, 0, false, false
	}
	for i := int32(c.fed); i < int32(d.Len()); i++ {
		b := d.bytes(i)
		c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(len(b)))
		c.plain = append(c.plain, b...)
	}
	c.fed = d.Len()
	for c.zstd && len(c.plain)-c.sent > litBlockSize {
		if c.sent == 0 {
			c.frame.reset()
		}
		if err := c.frame.add(c.plain[c.sent:c.sent+litBlockSize], false); err != nil {
			return err
		}
		c.sent += litBlockSize
		c.blocks++
	}
	return nil
}

// precompress finishes the dictionary page of d and its compression.
func (c *dictCodec) precompress(d *textDict) error {
	if err := c.feed(d); err != nil {
		return err
	}
	var err error
	if c.sent > 0 {
		if err = c.frame.addAll(c.plain[c.sent:]); err == nil {
			c.packed = append(c.packed[:0], c.frame.finish()...)
		}
	} else {
		c.packed, err = c.Codec.Encode(c.packed[:0], c.plain)
	}
	c.ready, c.ended = err == nil, true
	return err
}

// release gives the page's memory back to the pool; the writer is
// closed.
func (c *dictCodec) release() {
	if c.dictPage != nil {
		dictPages.Put(c.dictPage)
		c.dictPage = nil
	}
}

func (c *dictCodec) Encode(dst, src []byte) ([]byte, error) {
	if c.ready && c.dictPage != nil && bytes.Equal(src, c.plain) {
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
	dst = appendZstdHeader(dst, len(src))
	for {
		n := min(len(src), litBlockSize)
		dst = appendRawBlock(dst, src[:n], n == len(src))
		if src = src[n:]; len(src) == 0 {
			return dst
		}
	}
}
