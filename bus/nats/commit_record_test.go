package nats

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzCommitRecord feeds arbitrary bytes to the commit record reader: it
// must return a record or ErrCommitRecord, never panic, and a record it
// accepts must read back the same after marshal.
func FuzzCommitRecord(f *testing.F) {
	f.Add((&commitRecord{stage: "x-1", msgs: []MsgRef{{Key: "a b", Seq: 3}, {Key: "k", Seq: 9}},
		files: []string{"S1/in/2026/12/01/f.fkb"}}).marshal())
	f.Add([]byte(commitMagic + "\nstage s\nend\n"))
	f.Add([]byte(commitMagic + "\nstage s\nmsg 1\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "r"+commitExt)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := readCommitRecord(p)
		if err != nil {
			if !errors.Is(err, ErrCommitRecord) {
				t.Fatalf("error %v is not ErrCommitRecord", err)
			}
			return
		}
		if err := os.WriteFile(p, r.marshal(), 0o644); err != nil {
			t.Fatal(err)
		}
		again, err := readCommitRecord(p)
		if err != nil {
			t.Fatalf("a record read from %q does not read back: %v", data, err)
		}
		if again.stage != r.stage || !slices.Equal(again.msgs, r.msgs) || !slices.Equal(again.files, r.files) {
			t.Fatalf("read back %+v, want %+v", again, r)
		}
	})
}
