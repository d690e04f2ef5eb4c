package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/internal/testenv/storetest"
	"github.com/flowkit/flowkit/query"
	"github.com/flowkit/flowkit/store"
)

// TestSortRepoByHour: sorting a repository by start time an hour at a time
// gives exactly a stable sort of the repository's records in file order,
// forward and reverse, with a second key too.
func TestSortRepoByHour(t *testing.T) {
	_, _, _, repoDir := qTestData(t)
	inOrder := storetest.Records(t, repoDir)
	hours := map[int64]bool{}
	for _, r := range inOrder {
		hours[r.Start/3600e9] = true
	}
	if len(hours) < 10 {
		t.Fatalf("only %d hours of data: the test would not cross hours", len(hours))
	}
	for _, c := range []struct {
		fields  string
		keys    []query.Field
		reverse bool
	}{
		{"stime", []query.Field{query.Start}, false},
		{"stime", []query.Field{query.Start}, true},
		{"stime,bytes", []query.Field{query.Start, query.Bytes}, false},
	} {
		want := append([]flow.Record(nil), inOrder...)
		query.SortRecords(want, c.keys, c.reverse)
		var wb bytes.Buffer
		wb.WriteString(flowtext.FormatFields(flowtext.AllFields, "|") + "\n")
		w := flowtext.NewWriter(&wb, flowtext.AllFields, flowtext.Text)
		w.WriteBatch(want)
		w.Flush()
		args := []string{"sort", "-repo", repoDir, "-fields", c.fields, "-format", "text", "-buffer", "1000000"}
		if c.reverse {
			args = append(args, "-reverse")
		}
		out, errs, code := qRun(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		if out != wb.String() {
			t.Fatalf("%v: output differs from a stable sort of the repository's records", args)
		}
	}
}

// TestSortRepoByHourRefusesMisplacedFile: a file moved into another hour's
// directory would come out unsorted; sort names it and leaves no output.
func TestSortRepoByHourRefusesMisplacedFile(t *testing.T) {
	_, _, _, repoDir := qTestData(t)
	repo, err := store.OpenRepo(repoDir)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := repo.Files(store.Selection{})
	if err != nil || len(refs) < 2 {
		t.Fatalf("%d files, %v", len(refs), err)
	}
	// Move the first file two days later, keeping its name.
	from := refs[0]
	to := filepath.Join(repoDir, filepath.Dir(strings.TrimPrefix(from.Path, repoDir)), "..", "..", "..", "..",
		from.Hour.AddDate(0, 0, 2).Format("2006/01/02/15"), filepath.Base(from.Path))
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(from.Path, to); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(t.TempDir(), "sorted.ipfix")
	_, errs, code := qRun(t, "sort", "-repo", repoDir, "-fields", "stime", "-w", outFile)
	if code != 1 || !strings.Contains(errs, "outside the file's hour") || !strings.Contains(errs, filepath.Base(from.Path)) {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat(outFile); !os.IsNotExist(err) {
		t.Fatalf("a half-sorted %s was left behind", outFile)
	}
}
