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
// bytes (the data pages) it compresses as they come.
type dictCodec struct {
	compress.Codec
	plain  []byte // the dictionary page, PLAIN encoded as parquet-go does
	packed []byte // plain compressed
	ready  bool
	hits   int // pages handed back compressed ahead
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
	return c.Codec.Encode(dst, src)
}
