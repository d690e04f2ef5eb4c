package store

// tieredValues is tieredValuesGo in assembly: the Go compiler keeps too
// few of the loop's values in registers, and a spilled bit buffer puts a
// store and a load on the code-to-code dependency (about 3x slower). Two
// tiers have a loop of their own whose dependency is shorter still.
func tieredValues(body []byte, pos uint, dst []uint64, k int, tt *tierTabs) (int, uint) {
	if tt.two {
		return tiered2Asm(body, pos, dst, k, tt)
	}
	return tieredAsm(body, pos, dst, k, tt)
}

//go:noescape
func tieredAsm(body []byte, pos uint, dst []uint64, k int, tabs *tierTabs) (n int, end uint)

//go:noescape
func tiered2Asm(body []byte, pos uint, dst []uint64, k int, tabs *tierTabs) (n int, end uint)
