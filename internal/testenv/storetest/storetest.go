// Package storetest holds the test helpers that need package store:
// testenv cannot import it, since store's own tests import testenv.
package storetest

import (
	"testing"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/store"
)

// Records returns every record of the repository at root, in the order
// the store reads them (all columns), and fails the test on any error.
func Records(t testing.TB, root string) []flow.Record {
	t.Helper()
	repo, err := store.OpenRepo(root)
	if err != nil {
		t.Fatal(err)
	}
	var recs []flow.Record
	var rerr error
	for r := range repo.Records(store.Selection{}, store.AllColumns, &rerr) {
		recs = append(recs, r)
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
	return recs
}
