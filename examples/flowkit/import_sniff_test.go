package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/ipfix"
)

// TestImportSniffsFormat: without -format, import tells IPFIX, CSV and
// pipe text apart by their first bytes, as -r does in the other verbs, and
// refuses a store file with a pointer to what to do instead.
func TestImportSniffsFormat(t *testing.T) {
	dir := t.TempDir()
	recs := collectRecords()
	var ipf, csv, txt bytes.Buffer
	fw := ipfix.NewFileWriter(&ipf)
	if err := fw.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	cw := flowtext.NewWriter(&csv, flowtext.DefaultFields, flowtext.CSV)
	cw.WriteBatch(recs)
	cw.Flush()
	tw := flowtext.NewWriter(&txt, flowtext.DefaultFields, flowtext.Text)
	tw.WriteBatch(recs)
	tw.Flush()
	for name, data := range map[string][]byte{"flows.ipfix": ipf.Bytes(), "flows.csv": csv.Bytes(), "flows.txt": txt.Bytes()} {
		in := filepath.Join(dir, name)
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		if code := run([]string{"import", "-q", "-repo", filepath.Join(dir, "repo-"+name), in}, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errb.String())
		}
		if want := "imported 100 records"; !strings.Contains(out.String(), want) {
			t.Fatalf("%s: %q, want %q", name, out.String(), want)
		}
	}
	fkb := filepath.Join(dir, "flows.fkb")
	var o, e bytes.Buffer
	if code := run([]string{"cut", "-r", filepath.Join(dir, "flows.ipfix"), "-w", fkb}, &o, &e); code != 0 {
		t.Fatalf("cut -w fkb: %s", e.String())
	}
	o.Reset()
	e.Reset()
	if code := run([]string{"import", "-q", "-repo", filepath.Join(dir, "repo-fkb"), fkb}, &o, &e); code != 2 || !strings.Contains(e.String(), "store file") {
		t.Fatalf("store file: exit %d: %s", code, e.String())
	}
}
