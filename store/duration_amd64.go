package store

import "golang.org/x/sys/cpu"

// canEndVec says whether endRemAsm's instructions (AVX-512 F, CD for
// VPLZCNTQ, DQ for VPMULLQ) are there.
var canEndVec = cpu.X86.HasAVX512F && cpu.X86.HasAVX512CD && cpu.X86.HasAVX512DQ

//go:noescape
func endRemAsm(body []byte, pos uint, pk []uint64, start []int64, end []int64, gcd uint64) (n int, endPos uint)

// endRemainders finishes the first rows of a per-packet end column 8 at
// a time with AVX-512 where the machine has it (end[i] holds q and
// becomes start[i] + (q·p + r)·g) and returns how many rows it did and
// the bit of body reached. pk, start and end have the same length.
func endRemainders(body []byte, pos uint, pk []uint64, start, end []int64, g uint64) (int, uint) {
	if !canEndVec {
		return 0, pos
	}
	return endRemAsm(body, pos, pk, start, end, g)
}
