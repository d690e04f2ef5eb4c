//go:build !amd64

package store

func tieredValues(body []byte, pos uint, dst []uint64, k int, tt *tierTabs) (int, uint) {
	return tieredValuesGo(body, pos, dst, k, tt)
}
