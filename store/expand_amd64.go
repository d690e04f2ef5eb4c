package store

import (
	"unsafe"

	"github.com/flowkit/flowkit/flow"

	"golang.org/x/sys/cpu"
)

// canExpand says whether the AVX-512 expand instructions (byte and word
// forms from VBMI2) are there, and the OS saves their registers.
var canExpand = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VBMI2

// canWiden says whether widen4's byte permutation (AVX-512 VBMI) is
// there.
var canWiden = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VBMI

//go:noescape
func widen4(dst []byte, src []uint32, tab *[5][64]byte)

// widenTab is widen4's table: for output vector j (addresses 4j..4j+3
// of a group of 16), the source byte of each lane's bytes 12-15 (the
// number big-endian); then the 0xff bytes 10 and 11 of every lane.
var widenTab = func() (t [5][64]byte) {
	for j := 0; j < 4; j++ {
		for l := 0; l < 4; l++ {
			for b := 0; b < 4; b++ {
				t[j][16*l+12+b] = byte(4*(4*j+l) + 3 - b)
			}
		}
	}
	for l := 0; l < 4; l++ {
		t[4][16*l+10], t[4][16*l+11] = 0xff, 0xff
	}
	return t
}()

// widenAddrs4 writes the IPv4-mapped form of the first values of src
// into dst (as many as it can in whole groups of 16, with AVX-512) and
// returns how many it wrote.
func widenAddrs4(dst []flow.Addr, src []uint32) int {
	n := min(len(dst), len(src)) &^ 15
	if !canWiden || n == 0 {
		return 0
	}
	widen4(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), 16*n), src[:n], &widenTab)
	return n
}

//go:noescape
func narrowAsm(dst unsafe.Pointer, size int, src []uint64, acc *[8]uint64)

// narrowVec copies the first values of src into dst (of 1, 2 or 4-byte
// elements), as many as it can in whole groups of 8 with AVX-512, and
// returns how many and the OR of those values.
func narrowVec[T streamValue](dst []T, src []uint64) (int, uint64) {
	n := min(len(dst), len(src)) &^ 7
	if !canExpand || n == 0 {
		return 0, 0
	}
	size := int(unsafe.Sizeof(dst[0]))
	if size != 1 && size != 2 && size != 4 {
		return 0, 0
	}
	var acc [8]uint64
	narrowAsm(unsafe.Pointer(unsafe.SliceData(dst)), size, src[:n], &acc)
	return n, acc[0] | acc[1] | acc[2] | acc[3] | acc[4] | acc[5] | acc[6] | acc[7]
}

//go:noescape
func expandAsm(dst unsafe.Pointer, size int, words []uint64, flip uint64, exc unsafe.Pointer)

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
	size := int(unsafe.Sizeof(z))
	if size != 1 && size != 2 && size != 4 {
		return false
	}
	expandAsm(unsafe.Pointer(unsafe.SliceData(dst)), size, words, flip, unsafe.Pointer(unsafe.SliceData(exc)))
	return true
}
