//go:build !amd64

package store

// canEndVec: no vector routine here.
const canEndVec = false

// endRemainders has no vector routine here: readEnd does every row.
func endRemainders(body []byte, pos uint, pk []uint64, start, end []int64, g uint64) (int, uint) {
	return 0, pos
}
