//go:build !amd64

package store

func tieredValues(body []byte, pos uint, dst []uint64, k int, tt *tierTabs) (int, uint) {
	return tieredValuesGo(body, pos, dst, k, tt)
}

func tieredPair(body []byte, posA, posB uint, dst []uint64, offB, k int, tt *tierTabs) (int, uint, uint) {
	return tieredPairGo(body, posA, posB, dst, offB, k, tt)
}
