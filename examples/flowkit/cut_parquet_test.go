package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowkit/flowkit/export/parquet"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/testenv/storetest"
)

// readParquet reads every record of a Parquet export back.
func readParquet(t *testing.T, file string) []flow.Record {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	r, err := parquet.OpenReader(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []flow.Record
	buf := make([]flow.Record, 1000)
	for {
		n, err := r.ReadBatch(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// sortedText is recs as sorted lines of every field, to compare record
// sets whatever their order.
func sortedText(recs []flow.Record) []string {
	s := make([]string, len(recs))
	for i := range recs {
		s[i] = fmt.Sprintf("%+v", recs[i])
	}
	slices.Sort(s)
	return s
}

// TestCutParquet: cut -repo DIR -format parquet -o FILE exports every
// record of the repository, every field exact; a selection narrows it;
// -r from a file works too; misuse is a usage error.
func TestCutParquet(t *testing.T) {
	recs, text, _, repoDir := qTestData(t)
	dir := t.TempDir()

	// The repository's records as the store returns them (its classifier
	// may have set fields), in any order.
	want := storetest.Records(t, repoDir)
	if len(want) != len(recs) {
		t.Fatalf("repository: %d records of %d", len(want), len(recs))
	}

	file := filepath.Join(dir, "all.parquet")
	if _, errs, code := qRun(t, "cut", "-repo", repoDir, "-format", "parquet", "-o", file); code != 0 {
		t.Fatal(errs)
	}
	got := readParquet(t, file)
	if !slices.Equal(sortedText(got), sortedText(want)) {
		t.Fatalf("parquet export of the repository (%d records) differs from the repository (%d)", len(got), len(want))
	}

	// A selection, with snappy.
	sel := filepath.Join(dir, "sel.parquet")
	if _, errs, code := qRun(t, "cut", "-repo", repoDir, "-sensor", "0", "-end", "2026-01-01T12:00:00Z", "-format", "parquet", "-compression", "snappy", "-o", sel); code != 0 {
		t.Fatal(errs)
	}
	noon := int64(1767268800) * 1e9
	var wantSel []flow.Record
	for _, r := range want {
		if r.Sensor == 0 && r.Start < noon {
			wantSel = append(wantSel, r)
		}
	}
	if gotSel := readParquet(t, sel); len(wantSel) == 0 || len(wantSel) == len(want) || !slices.Equal(sortedText(gotSel), sortedText(wantSel)) {
		t.Fatalf("selection: %d records exported, want %d of %d", len(gotSel), len(wantSel), len(want))
	}

	// From a text file, keeping its order, with -num.
	fromText := filepath.Join(dir, "text.parquet")
	if _, errs, code := qRun(t, "cut", "-r", text, "-num", "100", "-format", "parquet", "-o", fromText); code != 0 {
		t.Fatal(errs)
	}
	if got := readParquet(t, fromText); !slices.Equal(got, recs[:100]) {
		t.Fatalf("cut -r text -num 100: %d records, not the first 100", len(got))
	}

	for _, args := range [][]string{
		{"cut", "-repo", repoDir, "-format", "parquet", "-fields", "sIP", "-o", file},
		{"cut", "-repo", repoDir, "-format", "parquet", "-compression", "lzma", "-o", file},
		{"cut", "-repo", repoDir, "-format", "parquet", "-w", file},
	} {
		if _, errs, code := qRun(t, args...); code != 2 || !strings.Contains(errs, "parquet") && !strings.Contains(errs, "compression") {
			t.Errorf("%v: exit %d, %q", args, code, errs)
		}
	}
}
