package store

// tieredCodes is tieredCodesGo in assembly: the Go compiler keeps too few
// of the loop's values in registers, and a spilled bit buffer puts a
// store and a load on the code-to-code dependency (about 3x slower).
//
//go:noescape
func tieredCodes(body []byte, pos uint, dst []uint64, k int, tabs *tierTabs) (n int, end uint)
