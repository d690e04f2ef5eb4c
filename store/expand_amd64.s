#include "textflag.h"

// EXPAND16 places the 32 rows of the low 32 bits of AX at off(DI).
#define EXPAND16(off) \
	KMOVD AX, K1; \
	VPEXPANDW (SI), K1, Z0; \
	VMOVDQU16 Z0, K1, off(DI); \
	POPCNTL AX, CX; \
	LEAQ (SI)(CX*2), SI; \
	SHRQ $32, AX

// EXPAND32 places the 16 rows of the low 16 bits of AX at off(DI).
#define EXPAND32(off) \
	MOVWLZX AX, CX; \
	KMOVW CX, K1; \
	VPEXPANDD (SI), K1, Z0; \
	VMOVDQU32 Z0, K1, off(DI); \
	POPCNTL CX, CX; \
	LEAQ (SI)(CX*4), SI; \
	SHRQ $16, AX

// func expandAsm(dst unsafe.Pointer, size int, words []uint64, flip uint64, exc unsafe.Pointer)
//
// expandAsm places exceptions of size bytes (1, 2 or 4): for each 64-row
// word of words, XORed with flip, the rows whose bit is set take the next
// values of exc, in row order (flip is all ones for an implicit column's
// covered rows, whose free rows take them, and 0 for a bitmap of
// exception rows). VPEXPAND reads as many values as the mask has bits set
// (faults are suppressed past them) and spreads them over the set lanes;
// a masked store writes only those lanes, so the other rows keep their
// values. The caller checks that exc holds exactly one value per set bit
// and dst 64 rows per word.
TEXT ·expandAsm(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ size+8(FP), DX
	MOVQ words_base+16(FP), R8
	MOVQ words_len+24(FP), R9
	MOVQ flip+40(FP), R10
	MOVQ exc+48(FP), SI
	TESTQ R9, R9
	JZ   done
	CMPQ DX, $2
	JEQ  loop16
	JHI  loop32

loop8:
	MOVQ (R8), AX
	XORQ R10, AX
	KMOVQ AX, K1
	VPEXPANDB (SI), K1, Z0
	VMOVDQU8 Z0, K1, (DI)
	POPCNTQ AX, CX
	ADDQ CX, SI
	ADDQ $64, DI
	ADDQ $8, R8
	DECQ R9
	JNZ  loop8
	JMP  done

loop16:
	MOVQ (R8), AX
	XORQ R10, AX
	EXPAND16(0)
	EXPAND16(64)
	ADDQ $128, DI
	ADDQ $8, R8
	DECQ R9
	JNZ  loop16
	JMP  done

loop32:
	MOVQ (R8), AX
	XORQ R10, AX
	EXPAND32(0)
	EXPAND32(64)
	EXPAND32(128)
	EXPAND32(192)
	ADDQ $256, DI
	ADDQ $8, R8
	DECQ R9
	JNZ  loop32

done:
	VZEROUPPER
	RET

// func widen4(dst []byte, src []uint32, tab *[5][64]byte)
//
// widen4 turns 16 IPv4 addresses (numbers) at a time into 16-byte
// IPv4-mapped addresses: per group of four, a byte permutation (VPERMB,
// zeroing the lanes' first twelve bytes) puts each number big-endian in
// bytes 12-15 of its 16-byte lane, and an OR sets bytes 10 and 11 to
// 0xff. tab holds the four permutations and the OR. dst has 16 bytes for
// each value of src; src's length is a multiple of 16.
TEXT ·widen4(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	MOVQ tab+48(FP), R8
	SHRQ $4, CX
	JZ   donew
	VMOVDQU64 0(R8), Z8
	VMOVDQU64 64(R8), Z9
	VMOVDQU64 128(R8), Z10
	VMOVDQU64 192(R8), Z11
	VMOVDQU64 256(R8), Z12
	MOVQ $0xf000f000f000f000, AX
	KMOVQ AX, K1

loopw:
	VMOVDQU64 (SI), Z0
	VPERMB.Z Z0, Z8, K1, Z1
	VPORQ Z12, Z1, Z1
	VMOVDQU64 Z1, (DI)
	VPERMB.Z Z0, Z9, K1, Z2
	VPORQ Z12, Z2, Z2
	VMOVDQU64 Z2, 64(DI)
	VPERMB.Z Z0, Z10, K1, Z3
	VPORQ Z12, Z3, Z3
	VMOVDQU64 Z3, 128(DI)
	VPERMB.Z Z0, Z11, K1, Z4
	VPORQ Z12, Z4, Z4
	VMOVDQU64 Z4, 192(DI)
	ADDQ $64, SI
	ADDQ $256, DI
	DECQ CX
	JNZ  loopw

donew:
	VZEROUPPER
	RET

// func narrowAsm(dst unsafe.Pointer, size int, src []uint64, acc *[8]uint64)
//
// narrowAsm copies the values of src, in whole groups of 8, into dst of
// size-byte elements (1, 2 or 4: VPMOVQB, VPMOVQW, VPMOVQD keep the low
// bytes) and leaves in acc the OR of all of them per lane, which tells
// the caller whether they fit.
TEXT ·narrowAsm(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ size+8(FP), DX
	MOVQ src_base+16(FP), SI
	MOVQ src_len+24(FP), CX
	MOVQ acc+40(FP), R8
	VPXORQ Z1, Z1, Z1
	SHRQ $3, CX
	JZ   donen
	CMPQ DX, $2
	JEQ  loopn16
	JHI  loopn32

loopn8:
	VMOVDQU64 (SI), Z0
	VPORQ Z0, Z1, Z1
	VPMOVQB Z0, (DI)
	ADDQ $64, SI
	ADDQ $8, DI
	DECQ CX
	JNZ  loopn8
	JMP  donen

loopn16:
	VMOVDQU64 (SI), Z0
	VPORQ Z0, Z1, Z1
	VPMOVQW Z0, (DI)
	ADDQ $64, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  loopn16
	JMP  donen

loopn32:
	VMOVDQU64 (SI), Z0
	VPORQ Z0, Z1, Z1
	VPMOVQD Z0, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loopn32

donen:
	VMOVDQU64 Z1, (R8)
	VZEROUPPER
	RET
