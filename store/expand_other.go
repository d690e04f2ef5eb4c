//go:build !amd64

package store

// placeWords has no vector routine here: fillIndexed places every
// exception itself.
func placeWords[T any](dst []T, words []uint64, flip uint64, exc []T) bool { return false }
