#include "textflag.h"

// func endRemAsm(body []byte, pos uint, pk []uint64, start []int64, end []int64, gcd uint64) (n int, endPos uint)
//
// The per-packet end column's rows 8 at a time (see readEnd): each
// row's remainder width w = bitlen(max(packets, 1) - 1) (VPLZCNTQ), the
// rows' bit positions as pos plus the running sum of the widths before
// them (three shift-and-add steps), the remainders gathered from body
// (VPGATHERQQ) and shifted into place, and end = start + (q·p + r)·g.
// It stops before a group with a width over 56 or whose loads could
// pass the end of body, and returns the rows done and the bit reached.
TEXT ·endRemAsm(SB), NOSPLIT, $0-128
	MOVQ body_base+0(FP), SI
	MOVQ body_len+8(FP), DX
	MOVQ pos+24(FP), BX
	MOVQ pk_base+32(FP), R8
	MOVQ start_base+56(FP), R9
	MOVQ end_base+80(FP), R10
	MOVQ end_len+88(FP), CX
	MOVQ gcd+104(FP), AX
	XORQ R11, R11              // rows done
	SHRQ $3, CX                // whole groups
	// the last row of a group starts at most 7·56 bits past the group's
	// pos, and its load reads 8 bytes: pos <= (len-8)·8 - 392
	SUBQ $8, DX
	JLT  done
	SHLQ $3, DX
	SUBQ $392, DX
	JLT  done
	TESTQ CX, CX
	JZ   done
	VPBROADCASTQ AX, Z26       // g
	MOVQ $1, AX
	VPBROADCASTQ AX, Z21       // 1
	MOVQ $64, AX
	VPBROADCASTQ AX, Z22       // 64
	MOVQ $56, AX
	VPBROADCASTQ AX, Z23       // 56
	MOVQ $7, AX
	VPBROADCASTQ AX, Z24       // 7
	VPXORQ Z25, Z25, Z25       // 0

loop:
	CMPQ BX, DX
	JHI  done
	VMOVDQU64 (R8), Z0
	VPMAXUQ Z21, Z0, Z0        // p = max(packets, 1)
	VPSUBQ Z21, Z0, Z1
	VPLZCNTQ Z1, Z1
	VPSUBQ Z1, Z22, Z1         // w = 64 - lzcnt(p - 1)
	VPCMPUQ $6, Z23, Z1, K2    // w > 56
	KORTESTB K2, K2
	JNZ  done
	VALIGNQ $7, Z25, Z1, Z3    // widths one row up
	VPADDQ Z3, Z1, Z2
	VALIGNQ $6, Z25, Z2, Z3
	VPADDQ Z3, Z2, Z2
	VALIGNQ $4, Z25, Z2, Z3
	VPADDQ Z3, Z2, Z2          // running sum, this row's width included
	VPSUBQ Z1, Z2, Z3
	VPBROADCASTQ BX, Z20
	VPADDQ Z20, Z3, Z3         // each row's bit position
	VPSRLQ $3, Z3, Z4
	VPANDQ Z24, Z3, Z5
	KXNORW K3, K3, K3
	VPGATHERQQ (SI)(Z4*1), K3, Z6
	VPSRLVQ Z5, Z6, Z6
	VPSLLVQ Z1, Z21, Z7
	VPSUBQ Z21, Z7, Z7
	VPANDQ Z7, Z6, Z6          // r
	VMOVDQU64 (R10), Z8        // q
	VPMULLQ Z0, Z8, Z8
	VPADDQ Z6, Z8, Z8
	VPMULLQ Z26, Z8, Z8
	VPADDQ (R9), Z8, Z8
	VMOVDQU64 Z8, (R10)
	VEXTRACTI64X2 $3, Z2, X9
	VPEXTRQ $1, X9, AX
	ADDQ AX, BX
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $8, R11
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	MOVQ R11, n+112(FP)
	MOVQ BX, endPos+120(FP)
	RET
