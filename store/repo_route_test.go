package store

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// repoContents maps each partition directory of a repository to the
// contents of its files, sorted (file names hold the time of writing).
func repoContents(t *testing.T, root string) map[string][][]byte {
	t.Helper()
	out := map[string][][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		out[dir] = append(out[dir], b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, files := range out {
		slices.SortFunc(files, bytes.Compare)
	}
	return out
}

// TestRouteSameFiles checks that routing whole batches (route) writes the
// same files as buffering record by record (writeOne), with spills
// (MaxBuffered) and commits of the least recently used partition (MaxOpen)
// in the middle of batches.
func TestRouteSameFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	var recs []flow.Record
	// runs of records of six hours, revisiting each hour
	for k := range 30 {
		recs = append(recs, randomRecords(rng, 100+rng.IntN(900), 1767225600e9+int64(k%6)*int64(time.Hour))...)
	}
	for _, opts := range []WriterOptions{
		{Classifier: internal},
		{Classifier: internal, BlockRows: 1000, MaxBuffered: 3000, MaxOpen: 14},
		{BlockRows: 700, MaxBuffered: 5000, MaxOpen: 20},
	} {
		write := func(batched bool) map[string][][]byte {
			repo, err := OpenRepo(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			w := repo.NewWriter(opts)
			for i := 0; i < len(recs); i += 4096 {
				batch := recs[i:min(i+4096, len(recs))]
				if batched {
					err = w.WriteBatch(batch)
				} else {
					for j := range batch {
						if err = w.writeOne(&batch[j]); err != nil {
							break
						}
					}
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if w.Records() != int64(len(recs)) {
				t.Fatalf("%+v: Records %d, want %d", opts, w.Records(), len(recs))
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			return repoContents(t, repo.root)
		}
		want, got := write(false), write(true)
		if len(want) < 6*3 {
			t.Fatalf("%+v: %d partitions, want at least 18", opts, len(want))
		}
		for dir, files := range want {
			if len(got[dir]) != len(files) {
				t.Fatalf("%+v: %s: %d files batched, %d record by record", opts, dir, len(got[dir]), len(files))
			}
			for i := range files {
				if !bytes.Equal(got[dir][i], files[i]) {
					t.Fatalf("%+v: %s: file %d differs", opts, dir, i)
				}
			}
		}
		reopened := false
		for _, files := range want {
			reopened = reopened || len(files) > 1
		}
		if opts.MaxOpen > 0 && !reopened {
			t.Fatalf("%+v: no partition committed before the end", opts)
		}
		if len(got) != len(want) {
			t.Fatalf("%+v: %d partitions batched, %d record by record", opts, len(got), len(want))
		}
	}
}
