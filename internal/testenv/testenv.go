// Package testenv finds what flowkit's tests need from outside the module:
// the shared captures and benchmark corpus that lie beside the checkout
// (../shared), and peer programs such as tshark, nfdump and softflowd.
//
// Where something is missing a test skips, except under CI=true, where
// CI has installed everything and a missing piece must fail the test.
//
// Helpers that need package store are in storetest: store's own tests
// import testenv.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// root is the module root: this file is internal/testenv/testenv.go.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Shared returns the path of ../shared/<elem...> beside the module root,
// e.g. Shared(t, "data", "pcap", "ndpi_ftp.pcap").
func Shared(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{root(), "..", "shared"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		missing(t, "shared test data missing: %v", err)
	}
	return p
}

// NeedPeer returns the path of a peer program on PATH.
func NeedPeer(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, "peer %s is not installed: %v", name, err)
	}
	return p
}

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (required under CI=true)", args...)
	}
	t.Skipf(format, args...)
}
