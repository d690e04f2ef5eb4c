package parquet

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/flowkit/flowkit/internal/testenv"
	"github.com/klauspost/compress/zstd"
)

// TestLitFrame: frames of literals-only blocks decode to their content
// with klauspost's decoder and with the zstd reference decoder (the C
// library DuckDB, Arrow and parquet-mr use), for every kind of block
// litFrame writes: Huffman-coded with 14- and 18-bit sizes, raw (short
// or incompressible), RLE, and an empty last block.
func TestLitFrame(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	text := func(n int) []byte {
		var b []byte
		for len(b) < n {
			s := fmt.Sprintf("10.%d.%d.%d", rng.IntN(4), rng.IntN(256), rng.IntN(256))
			b = append(b, byte(len(s)), 0, 0, 0)
			b = append(b, s...)
		}
		return b[:n]
	}
	noise := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	cases := map[string][][]byte{
		"texts":          {text(litBlockSize), text(litBlockSize), text(5000)},
		"small last":     {text(litBlockSize), text(100)},
		"empty last":     {text(litBlockSize), nil},
		"14-bit sizes":   {text(litBlockSize), text(16000)},
		"incompressible": {noise(litBlockSize), text(litBlockSize)},
		"one byte":       {bytes.Repeat([]byte{'7'}, litBlockSize), text(3000)},
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	zstdCLI := testenv.NeedPeer(t, "zstd")
	var f litFrame
	for name, blocks := range cases {
		f.reset()
		var want []byte
		for i, b := range blocks {
			if err := f.add(b, i == len(blocks)-1); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want = append(want, b...)
		}
		frame := f.finish()
		got, err := dec.DecodeAll(frame, nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: klauspost decodes %d bytes (%v), want %d", name, len(got), err, len(want))
		}
		cmd := exec.Command(zstdCLI, "-d", "-c")
		cmd.Stdin = bytes.NewReader(frame)
		got, err = cmd.Output()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: zstd -d gives %d bytes (%v), want %d", name, len(got), err, len(want))
		}
		if name == "texts" && len(frame) > len(want)*6/10 {
			t.Errorf("texts: %d bytes coded to %d, want at most 60%%", len(want), len(frame))
		}
	}

	// litCodec splits a page into blocks itself.
	c := &litCodec{Codec: zstdCodec}
	for _, n := range []int{0, 1000, 3*litBlockSize + 5} {
		want := text(n)
		frame, err := c.Encode(nil, want)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.Decode(nil, frame); err != nil || !bytes.Equal(got, want) {
			t.Errorf("litCodec, %d bytes: decodes to %d bytes (%v)", n, len(got), err)
		}
	}
}

// FuzzLitFrame: any bytes, coded by litCodec (blocks of up to 128 KiB,
// Huffman, raw or RLE as each block suits), decode back unchanged.
func FuzzLitFrame(f *testing.F) {
	f.Add([]byte("10.0.0.1"), 3)
	f.Add(bytes.Repeat([]byte{0}, 5000), 40)
	f.Add([]byte("\x09\x00\x00\x0010.1.2.3\x0b\x00\x00\x00192.0.2.200"), 2000)
	dec, err := zstd.NewReader(nil)
	if err != nil {
		f.Fatal(err)
	}
	c := &litCodec{Codec: zstdCodec}
	f.Fuzz(func(t *testing.T, unit []byte, times int) {
		// Repeat the unit to reach the sizes where blocks are coded.
		times = min(max(times, 1), (litBlockSize+5000)/max(len(unit), 1))
		src := bytes.Repeat(unit, times)
		frame, err := c.Encode(nil, src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dec.DecodeAll(frame, nil)
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("%d bytes: decode gives %d bytes, %v", len(src), len(got), err)
		}
	})
}
