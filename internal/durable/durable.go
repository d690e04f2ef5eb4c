// Package durable holds the file-system step that the store's repository
// writer and the NATS repository sink both need to make a rename survive a
// crash.
package durable

import (
	"fmt"
	"os"
)

// SyncDir fsyncs directory dir, so that the entries created or renamed in
// it last are on disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	d.Close()
	if err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
