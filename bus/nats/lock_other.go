//go:build !unix

package nats

import (
	"errors"
	"fmt"
	"os"
)

// lockFile is unsupported without flock: RepoSink needs a lock that dies
// with its holder.
func lockFile(f *os.File, wait bool) error {
	return fmt.Errorf("lock %s: %w", f.Name(), errors.ErrUnsupported)
}

func unlockFile(f *os.File) error { return nil }
