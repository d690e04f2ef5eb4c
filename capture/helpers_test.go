package capture

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/flowkit/flowkit/internal/testenv"
)

// sharedData returns ../shared/data beside the module root.
func sharedData(t testing.TB) string { return testenv.Shared(t, "data") }

// pcapPath is a file under shared/data/pcap.
func pcapPath(t testing.TB, name string) string {
	return filepath.Join(sharedData(t), "pcap", name)
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
