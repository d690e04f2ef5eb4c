//go:build !amd64

package store

func tieredCodes(body []byte, pos uint, dst []uint64, k int, tabs *tierTabs) (n int, end uint) {
	return tieredCodesGo(body, pos, dst, k, tabs)
}
