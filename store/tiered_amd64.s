#include "textflag.h"

// The tierTabs offsets: shift 0, mask 64, usedTab 128, base 136, g 144,
// used0 152, used1 160.

// The two routines below share their bounds and group loads, written once
// in these macros. Argument loads and results stay in each routine, where
// go vet checks their frame offsets (it does not look inside a #define,
// only at the operands a use passes).

// SET_LIMITS, with SI body, AX body length, BX pos, DI dst, CX dst length
// and R13 k, turns AX into the bit limit (a load at pos>>3 stays inside
// body while pos <= AX) and keeps in last-8(SP) where the last whole group
// of k values starts; it jumps to none when there is no such load or group.
#define SET_LIMITS(none) \
	SUBQ $8, AX; \
	JLT  none; \
	SHLQ $3, AX; \
	SUBQ R13, CX; \
	JLT  none; \
	LEAQ (DI)(CX*8), CX; \
	MOVQ CX, last-8(SP)

// LOAD_GROUP jumps to done when no whole group or load is left, else loads
// into DX the bits from BX on and into R13 the k codes they hold.
#define LOAD_GROUP(done, k) \
	CMPQ DI, last-8(SP); \
	JHI  done; \
	CMPQ BX, AX; \
	JHI  done; \
	MOVQ BX, CX; \
	SHRQ $3, CX; \
	MOVQ (SI)(CX*1), DX; \
	MOVQ BX, CX; \
	ANDQ $7, CX; \
	SHRQ CX, DX; \
	MOVQ k, R13

// func tieredAsm(body []byte, pos uint, dst []uint64, k int, tabs *tierTabs) (n int, end uint)
//
// Registers: SI body, AX bit limit, BX bit position, DI next value slot,
// DX the loaded bits, R11 the used-bits table, R12 tabs, R13 codes left
// in the load, R10 tier index, R8 and R9 scratch. The code-to-code
// dependency is AND, SHL, SHR, MOVBQZX, SHR: about five cycles.
TEXT ·tieredAsm(SB), NOSPLIT, $8-88
	MOVQ body_base+0(FP), SI
	MOVQ body_len+8(FP), AX
	MOVQ pos+24(FP), BX
	MOVQ dst_base+32(FP), DI
	MOVQ dst_len+40(FP), CX
	MOVQ k+56(FP), R13
	MOVQ tabs+64(FP), R12
	MOVQ 128(R12), R11
	SET_LIMITS(none)

group:
	LOAD_GROUP(done, k+56(FP))

code:
	MOVQ DX, R10
	ANDQ $7, R10
	MOVQ (R12)(R10*8), CX   // shift past the selector
	MOVQ DX, R8
	SHRQ CX, R8
	ANDQ 64(R12)(R10*8), R8 // mask of the tier's width
	IMULQ 144(R12), R8
	ADDQ 136(R12), R8       // base + code·gcd
	MOVQ R8, (DI)
	ADDQ $8, DI
	MOVQ R10, CX
	SHLQ $3, CX
	MOVQ R11, R9
	SHRQ CX, R9
	MOVBQZX R9, CX          // bits used by the code with its selector
	SHRQ CX, DX
	ADDQ CX, BX
	DECQ R13
	JNZ  code
	JMP  group

done:
	MOVQ DI, CX
	SUBQ dst_base+32(FP), CX
	SHRQ $3, CX
	MOVQ CX, n+72(FP)
	MOVQ BX, end+80(FP)
	RET

none:
	MOVQ $0, n+72(FP)
	MOVQ BX, end+80(FP)
	RET

// func tiered2Asm(body []byte, pos uint, dst []uint64, k int, tabs *tierTabs) (n int, end uint)
//
// tieredAsm for two tiers: the selector is the lowest bit and the code
// starts past it, so the bits used are a conditional move between R8
// (used0) and R9 (used1): the code-to-code dependency is TEST, CMOV, SHR.
TEXT ·tiered2Asm(SB), NOSPLIT, $8-88
	MOVQ body_base+0(FP), SI
	MOVQ body_len+8(FP), AX
	MOVQ pos+24(FP), BX
	MOVQ dst_base+32(FP), DI
	MOVQ dst_len+40(FP), CX
	MOVQ k+56(FP), R13
	MOVQ tabs+64(FP), R12
	MOVQ 152(R12), R8
	MOVQ 160(R12), R9
	SET_LIMITS(none2)

group2:
	LOAD_GROUP(done2, k+56(FP))

code2:
	MOVQ DX, R10
	ANDQ $1, R10
	MOVQ DX, R11
	SHRQ $1, R11
	ANDQ 64(R12)(R10*8), R11
	IMULQ 144(R12), R11
	ADDQ 136(R12), R11
	MOVQ R11, (DI)
	ADDQ $8, DI
	MOVQ R8, CX
	TESTQ $1, DX
	CMOVQNE R9, CX
	SHRQ CX, DX
	ADDQ CX, BX
	DECQ R13
	JNZ  code2
	JMP  group2

done2:
	MOVQ DI, CX
	SUBQ dst_base+32(FP), CX
	SHRQ $3, CX
	MOVQ CX, n+72(FP)
	MOVQ BX, end+80(FP)
	RET

none2:
	MOVQ $0, n+72(FP)
	MOVQ BX, end+80(FP)
	RET

// LOAD_PAIR jumps to done when chain A has no whole group left or a load
// of either chain would pass the bit limit (lim-16(SP)), else loads A's
// bits into DX, B's into R11 and the group size into R13.
#define LOAD_PAIR(done, k) \
	CMPQ DI, last-8(SP); \
	JHI  done; \
	CMPQ BX, lim-16(SP); \
	JHI  done; \
	CMPQ AX, lim-16(SP); \
	JHI  done; \
	MOVQ BX, CX; \
	SHRQ $3, CX; \
	MOVQ (SI)(CX*1), DX; \
	MOVQ BX, CX; \
	ANDQ $7, CX; \
	SHRQ CX, DX; \
	MOVQ AX, CX; \
	SHRQ $3, CX; \
	MOVQ (SI)(CX*1), R11; \
	MOVQ AX, CX; \
	ANDQ $7, CX; \
	SHRQ CX, R11; \
	MOVQ k, R13

// func tiered2PairAsm(body []byte, posA, posB uint, dst []uint64, offB int, k int, tabs *tierTabs) (n int, endA, endB uint)
//
// tiered2Asm on two chains at once: chain A decodes from bit posA into
// dst, chain B from bit posB into dst[offB:] (which the caller makes
// valid for as many values as A gets), a group of k codes each per
// round. The two code-to-code dependencies are independent, so the core
// overlaps them: one chain alone waits on its reload every k codes.
TEXT ·tiered2PairAsm(SB), NOSPLIT, $16-112
	MOVQ body_base+0(FP), SI
	MOVQ body_len+8(FP), CX
	MOVQ posA+24(FP), BX
	MOVQ posB+32(FP), AX
	MOVQ dst_base+40(FP), DI
	MOVQ dst_len+48(FP), R10
	MOVQ offB+64(FP), R14
	SHLQ $3, R14
	MOVQ k+72(FP), R13
	MOVQ tabs+80(FP), R12
	MOVQ 152(R12), R8
	MOVQ 160(R12), R9
	SUBQ $8, CX
	JLT  nonep
	SHLQ $3, CX
	MOVQ CX, lim-16(SP)
	SUBQ R13, R10
	JLT  nonep
	LEAQ (DI)(R10*8), R10
	MOVQ R10, last-8(SP)

groupp:
	LOAD_PAIR(donep, k+72(FP))

codep:
	// chain A
	MOVQ DX, R10
	ANDQ $1, R10
	MOVQ DX, CX
	SHRQ $1, CX
	ANDQ 64(R12)(R10*8), CX
	IMULQ 144(R12), CX
	ADDQ 136(R12), CX
	MOVQ CX, (DI)
	MOVQ R8, CX
	TESTQ $1, DX
	CMOVQNE R9, CX
	SHRQ CX, DX
	ADDQ CX, BX
	// chain B
	MOVQ R11, R10
	ANDQ $1, R10
	MOVQ R11, CX
	SHRQ $1, CX
	ANDQ 64(R12)(R10*8), CX
	IMULQ 144(R12), CX
	ADDQ 136(R12), CX
	MOVQ CX, (DI)(R14*1)
	MOVQ R8, CX
	TESTQ $1, R11
	CMOVQNE R9, CX
	SHRQ CX, R11
	ADDQ CX, AX
	ADDQ $8, DI
	DECQ R13
	JNZ  codep
	JMP  groupp

donep:
	MOVQ DI, CX
	SUBQ dst_base+40(FP), CX
	SHRQ $3, CX
	MOVQ CX, n+88(FP)
	MOVQ BX, endA+96(FP)
	MOVQ AX, endB+104(FP)
	RET

nonep:
	MOVQ $0, n+88(FP)
	MOVQ BX, endA+96(FP)
	MOVQ AX, endB+104(FP)
	RET

// func tieredPairAsm(body []byte, posA, posB uint, dst []uint64, offB int, k int, tabs *tierTabs) (n int, endA, endB uint)
//
// tieredAsm on two chains, as tiered2PairAsm: R8 holds the used-bits
// table, CX, R9 and R10 are scratch for both chains (renamed by the core,
// they tie nothing together).
TEXT ·tieredPairAsm(SB), NOSPLIT, $16-112
	MOVQ body_base+0(FP), SI
	MOVQ body_len+8(FP), CX
	MOVQ posA+24(FP), BX
	MOVQ posB+32(FP), AX
	MOVQ dst_base+40(FP), DI
	MOVQ dst_len+48(FP), R10
	MOVQ offB+64(FP), R14
	SHLQ $3, R14
	MOVQ k+72(FP), R13
	MOVQ tabs+80(FP), R12
	MOVQ 128(R12), R8
	SUBQ $8, CX
	JLT  nonen
	SHLQ $3, CX
	MOVQ CX, lim-16(SP)
	SUBQ R13, R10
	JLT  nonen
	LEAQ (DI)(R10*8), R10
	MOVQ R10, last-8(SP)

groupn:
	LOAD_PAIR(donen, k+72(FP))

coden:
	// chain A
	MOVQ DX, R10
	ANDQ $7, R10
	MOVQ (R12)(R10*8), CX
	MOVQ DX, R9
	SHRQ CX, R9
	ANDQ 64(R12)(R10*8), R9
	IMULQ 144(R12), R9
	ADDQ 136(R12), R9
	MOVQ R9, (DI)
	MOVQ R10, CX
	SHLQ $3, CX
	MOVQ R8, R9
	SHRQ CX, R9
	MOVBQZX R9, CX
	SHRQ CX, DX
	ADDQ CX, BX
	// chain B
	MOVQ R11, R10
	ANDQ $7, R10
	MOVQ (R12)(R10*8), CX
	MOVQ R11, R9
	SHRQ CX, R9
	ANDQ 64(R12)(R10*8), R9
	IMULQ 144(R12), R9
	ADDQ 136(R12), R9
	MOVQ R9, (DI)(R14*1)
	MOVQ R10, CX
	SHLQ $3, CX
	MOVQ R8, R9
	SHRQ CX, R9
	MOVBQZX R9, CX
	SHRQ CX, R11
	ADDQ CX, AX
	ADDQ $8, DI
	DECQ R13
	JNZ  coden
	JMP  groupn

donen:
	MOVQ DI, CX
	SUBQ dst_base+40(FP), CX
	SHRQ $3, CX
	MOVQ CX, n+88(FP)
	MOVQ BX, endA+96(FP)
	MOVQ AX, endB+104(FP)
	RET

nonen:
	MOVQ $0, n+88(FP)
	MOVQ BX, endA+96(FP)
	MOVQ AX, endB+104(FP)
	RET
