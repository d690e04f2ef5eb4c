package store

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// canExpand says whether the AVX-512 expand instructions (byte and word
// forms from VBMI2) are there, and the OS saves their registers.
var canExpand = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VBMI2

//go:noescape
func expand8(dst []uint8, words []uint64, flip uint64, exc []uint8)

//go:noescape
func expand16(dst []uint16, words []uint64, flip uint64, exc []uint16)

//go:noescape
func expand32(dst []uint32, words []uint64, flip uint64, exc []uint32)

// placeWords places exceptions over whole words of 64 rows with AVX-512
// where it can, and reports whether it did (not without AVX-512, nor for
// an element size it has no routine for): the rows whose bit is set in
// words XOR flip take the values of exc in row order. The caller has
// checked that exc holds exactly one value per such row, and that dst
// has a row for each bit of words.
func placeWords[T any](dst []T, words []uint64, flip uint64, exc []T) bool {
	if !canExpand || len(words) == 0 {
		return false
	}
	n := len(words) * 64
	if len(dst) < n {
		return false
	}
	var z T
	switch unsafe.Sizeof(z) {
	case 1:
		expand8(unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(dst))), n), words, flip,
			unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(exc))), len(exc)))
	case 2:
		expand16(unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(dst))), n), words, flip,
			unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(exc))), len(exc)))
	case 4:
		expand32(unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(dst))), n), words, flip,
			unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(exc))), len(exc)))
	default:
		return false
	}
	return true
}
