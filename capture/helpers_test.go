package capture

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// sharedData returns ../shared/data relative to the module root (the
// directory holding go.mod), or skips the test when it is missing (unless
// CI=true, where it must exist).
func sharedData(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "data")
	if _, err := os.Stat(filepath.Join(data, "MANIFEST.md")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared test data missing: %v", err)
		}
		t.Skipf("shared test data not present (%v)", err)
	}
	return data
}

// pcapPath is a file under shared/data/pcap.
func pcapPath(t testing.TB, name string) string {
	return filepath.Join(sharedData(t), "pcap", name)
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
