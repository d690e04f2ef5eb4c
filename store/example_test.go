package store_test

import (
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/store"
)

// Example stores a few flows in a repository and asks the index of each
// block which rows talk to port 22, reading only the columns it prints.
func Example() {
	dir, _ := os.MkdirTemp("", "flowkit-example")
	defer os.RemoveAll(dir)
	repo, _ := store.OpenRepo(dir)

	internal := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	w := repo.NewWriter(store.WriterOptions{Classifier: &store.PrefixClassifier{Internal: internal}})
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	for i := 0; i < 100; i++ {
		w.WriteBatch([]flow.Record{{
			Start: t0 + int64(i)*int64(time.Second), End: t0 + int64(i+1)*int64(time.Second),
			Src: flow.AddrFromUint32(0x0a000005), Dst: flow.AddrFromUint32(0xc6336401 + uint32(i%7)),
			SrcPort: uint16(40000 + i), DstPort: []uint16{443, 22}[min(i%10, 1)], Protocol: 6,
			Packets: 10, Bytes: 1000 + uint64(i),
		}})
	}
	if err := w.Close(); err != nil { // commits: fsync, rename
		fmt.Println(err)
		return
	}

	refs, _ := repo.Files(store.Selection{Types: []flow.FlowType{flow.TypeOut}})
	for _, ref := range refs {
		f, _ := store.OpenFile(ref.Path)
		for b := 0; b < f.NumBlocks(); b++ {
			ix, _ := f.Index(b, store.ColDstPort)
			rows := ix.Lookup(22)
			var cols store.Columns
			f.ReadColumns(b, store.MaskOf(store.ColDst, store.ColBytes), &cols)
			fmt.Printf("%s: %d of %d flows to port 22, first to %s, %d bytes\n",
				ref.Hour.Format("2006-01-02T15"), rows.GetCardinality(), cols.Len,
				cols.Dst[rows.Minimum()], cols.Bytes[rows.Minimum()])
		}
		f.Close()
	}
	// Output:
	// 2026-01-01T12: 90 of 100 flows to port 22, first to 198.51.100.2, 1001 bytes
}
