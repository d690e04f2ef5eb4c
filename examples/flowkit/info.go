package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/flowkit/flowkit/store"
)

func init() {
	register("info", verb{
		summary: "describe a store file or repository: blocks, records, bytes per column, indexes, time range (rwfileinfo)",
		example: "flowkit info /data/flows",
		run:     runInfo,
	})
}

// infoTotals accumulates the figures info prints.
type infoTotals struct {
	files, blocks      int
	records, size      int64
	stored, raw, bm    [store.NumColumns]int64
	minStart, maxStart int64
	maxEnd             int64
	corrupt            []error
}

func (t *infoTotals) add(f *store.File) {
	t.files++
	t.size += f.Size()
	for b := 0; b < f.NumBlocks(); b++ {
		info := f.Block(b)
		if t.blocks == 0 || info.MinStart < t.minStart {
			t.minStart = info.MinStart
		}
		if t.blocks == 0 || info.MaxStart > t.maxStart {
			t.maxStart = info.MaxStart
		}
		if t.blocks == 0 || info.MaxEnd > t.maxEnd {
			t.maxEnd = info.MaxEnd
		}
		t.blocks++
		t.records += int64(info.Rows)
		for c := store.Column(0); int(c) < store.NumColumns; c++ {
			s, r, bm := info.ColumnSize(c)
			t.stored[c] += int64(s)
			t.raw[c] += int64(r)
			t.bm[c] += int64(bm)
		}
	}
}

func runInfo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("info", stderr)
	verbose := fs.Bool("v", false, "also list every file (repository) or every block (file)")
	verify := fs.Bool("verify", false, "read every column of every block to check the checksums")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one FILE or repository DIR", errUsage)
	}
	path := fs.Arg(0)
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	var t infoTotals
	if st.IsDir() {
		repo, err := store.OpenRepo(path)
		if err != nil {
			return err
		}
		refs, err := repo.Files(store.Selection{})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "repository   %s\n", path)
		for _, ref := range refs {
			f, err := store.OpenFile(ref.Path)
			if err != nil {
				t.corrupt = append(t.corrupt, err)
				continue
			}
			t.add(f)
			if *verify {
				verifyFile(f, &t)
			}
			if *verbose {
				fmt.Fprintf(stdout, "  %-4s S%-3d %s  %8d records %10d bytes  %s\n", ref.Type, ref.Sensor,
					ref.Hour.Format("2006-01-02T15"), f.Rows(), f.Size(), ref.Path)
			}
			f.Close()
		}
	} else {
		f, err := store.OpenFile(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(stdout, "file         %s\nversion      %d\n", path, f.Version())
		t.add(f)
		if *verify {
			verifyFile(f, &t)
		}
		if *verbose {
			for b := 0; b < f.NumBlocks(); b++ {
				bi := f.Block(b)
				fmt.Fprintf(stdout, "  block %-4d offset %-10d %6d rows %9d bytes  %s .. %s\n", b, bi.Offset, bi.Rows, bi.Size,
					fmtTime(bi.MinStart), fmtTime(bi.MaxStart))
			}
		}
	}
	printTotals(stdout, &t)
	if len(t.corrupt) > 0 {
		for _, e := range t.corrupt {
			fmt.Fprintln(stdout, "damaged:", e)
		}
		return fmt.Errorf("%d damaged files or blocks", len(t.corrupt))
	}
	return nil
}

func verifyFile(f *store.File, t *infoTotals) {
	var cols store.Columns
	for b := 0; b < f.NumBlocks(); b++ {
		if err := f.ReadColumns(b, store.AllColumns, &cols); err != nil {
			t.corrupt = append(t.corrupt, err)
		}
	}
}

func fmtTime(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000Z") }

func printTotals(w io.Writer, t *infoTotals) {
	fmt.Fprintf(w, "files        %d\nblocks       %d\nrecords      %d\nbytes        %d\n", t.files, t.blocks, t.records, t.size)
	if t.records == 0 {
		return
	}
	n := float64(t.records)
	fmt.Fprintf(w, "bytes/flow   %.2f\n", float64(t.size)/n)
	fmt.Fprintf(w, "start time   %s .. %s\nend time     .. %s\n", fmtTime(t.minStart), fmtTime(t.maxStart), fmtTime(t.maxEnd))
	var stored, raw, bm int64
	fmt.Fprintf(w, "%-16s %12s %9s %12s %7s %12s\n", "column", "stored", "B/flow", "encoded", "lz4", "bitmaps")
	for c := store.Column(0); int(c) < store.NumColumns; c++ {
		stored += t.stored[c]
		raw += t.raw[c]
		bm += t.bm[c]
		ratio := float64(t.raw[c]) / float64(max(t.stored[c], 1))
		idx := ""
		if c.Indexed() {
			idx = fmt.Sprint(t.bm[c])
		}
		fmt.Fprintf(w, "%-16s %12d %9.3f %12d %7.2f %12s\n", c, t.stored[c], float64(t.stored[c])/n, t.raw[c], ratio, idx)
	}
	// encoded: the chunk before lz4; lz4: encoded/stored
	fmt.Fprintf(w, "%-16s %12d %9.3f %12d %7.2f %12d\n", "all columns", stored, float64(stored)/n, raw, float64(raw)/float64(max(stored, 1)), bm)
	fmt.Fprintf(w, "roaring bitmaps (inside indexed columns, before lz4): %d bytes, %.2f B/flow\n", bm, float64(bm)/n)
	fmt.Fprintf(w, "headers, footers, zone maps: %d bytes, %.3f B/flow\n", t.size-stored, float64(t.size-stored)/n)
	fmt.Fprintf(w, "compression vs 144-byte records: %.1fx\n", 144*n/float64(t.size))
}
