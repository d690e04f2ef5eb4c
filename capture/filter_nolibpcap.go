//go:build !libpcap

package capture

// compileFilter needs libpcap; this build has none.
func compileFilter(expr string, snapLen int) ([]BPFInstruction, error) {
	return nil, ErrNoLibpcap
}
