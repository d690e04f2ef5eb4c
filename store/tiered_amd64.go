package store

// tieredValues is tieredValuesGo in assembly: the Go compiler keeps too
// few of the loop's values in registers, and a spilled bit buffer puts a
// store and a load on the code-to-code dependency (about 3x slower). Two
// tiers (tt.two) have a loop of their own whose dependency is shorter
// still.
func tieredValues(body []byte, pos uint, dst []uint64, k int, tt *tierTabs) (int, uint) {
	return tieredAsm(body, pos, dst, k, tt)
}

//go:noescape
func tieredAsm(body []byte, pos uint, dst []uint64, k int, tabs *tierTabs) (n int, end uint)

// tieredPair is tieredPairGo in assembly, tieredValues' loops on two
// chains.
func tieredPair(body []byte, posA, posB uint, dst []uint64, offB, k int, tt *tierTabs) (int, uint, uint) {
	return tieredPairAsm(body, posA, posB, dst, offB, k, tt)
}

//go:noescape
func tieredPairAsm(body []byte, posA, posB uint, dst []uint64, offB int, k int, tabs *tierTabs) (n int, endA, endB uint)
