#include "textflag.h"

// The tierTabs offsets: shift 0, mask 64, usedTab 128, base 136, g 144,
// used0 152, used1 160, two 168 (TestTierTabsOffsets checks them).

// The routines below share their bounds, group loads and code steps, written once
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

// LOAD_BITS loads into B the bits of body from bit position P on.
#define LOAD_BITS(P, B) \
	MOVQ P, CX; \
	SHRQ $3, CX; \
	MOVQ (SI)(CX*1), B; \
	MOVQ P, CX; \
	ANDQ $7, CX; \
	SHRQ CX, B

// LOAD_GROUP jumps to done when no whole group or load is left, else loads
// into DX the bits from BX on and into R13 the k codes they hold.
#define LOAD_GROUP(done, k) \
	CMPQ DI, last-8(SP); \
	JHI  done; \
	CMPQ BX, AX; \
	JHI  done; \
	LOAD_BITS(BX, DX); \
	MOVQ k, R13

// PUT stores into DST the value of the code in S, shifted down but
// not yet masked: the mask of tier R10, times gcd, plus base.
#define PUT(S, DST) \
	ANDQ 64(R12)(R10*8), S; \
	IMULQ 144(R12), S; \
	ADDQ 136(R12), S; \
	MOVQ S, DST

// CODE decodes the code at the bottom of B (any number of tiers) into
// DST and drops it, adding its bits to P: R10 the tier index, S1 and S2
// scratch (they may be the same register), UT the used-bits table.
#define CODE(B, P, DST, UT, S1, S2) \
	MOVQ B, R10; \
	ANDQ $7, R10; \
	MOVQ (R12)(R10*8), CX; \
	MOVQ B, S1; \
	SHRQ CX, S1; \
	PUT(S1, DST); \
	MOVQ R10, CX; \
	SHLQ $3, CX; \
	MOVQ UT, S2; \
	SHRQ CX, S2; \
	MOVBQZX S2, CX; \
	SHRQ CX, B; \
	ADDQ CX, P

// CODE2 is CODE for two tiers: the selector is the lowest bit and the
// code starts past it, so the bits used are a conditional move between
// R8 (used0) and R9 (used1). S is scratch.
#define CODE2(B, P, DST, S) \
	MOVQ B, R10; \
	ANDQ $1, R10; \
	MOVQ B, S; \
	SHRQ $1, S; \
	PUT(S, DST); \
	MOVQ R8, CX; \
	TESTQ $1, B; \
	CMOVQNE R9, CX; \
	SHRQ CX, B; \
	ADDQ CX, P

// func tieredAsm(body []byte, pos uint, dst []uint64, k int, tabs *tierTabs) (n int, end uint)
//
// Registers: SI body, AX bit limit, BX bit position, DI next value slot,
// DX the loaded bits, R12 tabs, R13 codes left in the load, R10 tier
// index, R11 the used-bits table (R8 and R9 scratch), or for two tiers
// (tabs.two) R8 and R9 the bits each tier uses (R11 scratch). The
// code-to-code dependency is AND, SHL, SHR, MOVBQZX, SHR, about five
// cycles; with two tiers TEST, CMOV, SHR. (With no whole group, DI stays
// at dst and n is 0.)
TEXT ·tieredAsm(SB), NOSPLIT, $8-88
	MOVQ body_base+0(FP), SI
	MOVQ body_len+8(FP), AX
	MOVQ pos+24(FP), BX
	MOVQ dst_base+32(FP), DI
	MOVQ dst_len+40(FP), CX
	MOVQ k+56(FP), R13
	MOVQ tabs+64(FP), R12
	MOVQ 128(R12), R11
	MOVQ 152(R12), R8
	MOVQ 160(R12), R9
	SET_LIMITS(done)
	CMPB 168(R12), $0
	JNE  group2

group:
	LOAD_GROUP(done, k+56(FP))

code:
	CODE(DX, BX, (DI), R11, R8, R9)
	ADDQ $8, DI
	DECQ R13
	JNZ  code
	JMP  group

group2:
	LOAD_GROUP(done, k+56(FP))

code2:
	CODE2(DX, BX, (DI), R11)
	ADDQ $8, DI
	DECQ R13
	JNZ  code2
	JMP  group2

done:
	MOVQ DI, CX
	SUBQ dst_base+32(FP), CX
	SHRQ $3, CX
	MOVQ CX, n+72(FP)
	MOVQ BX, end+80(FP)
	RET

// PAIR_LIMITS, with CX body length, DI dst, R10 dst length and R13 k,
// keeps in lim-16(SP) the highest bit position a load may start at and
// in last-8(SP) where chain A's last whole group starts; it jumps to none
// when there is no such load or group.
#define PAIR_LIMITS(none) \
	SUBQ $8, CX; \
	JLT  none; \
	SHLQ $3, CX; \
	MOVQ CX, lim-16(SP); \
	SUBQ R13, R10; \
	JLT  none; \
	LEAQ (DI)(R10*8), R10; \
	MOVQ R10, last-8(SP)

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
	LOAD_BITS(BX, DX); \
	LOAD_BITS(AX, R11); \
	MOVQ k, R13

// func tieredPairAsm(body []byte, posA, posB uint, dst []uint64, offB int, k int, tabs *tierTabs) (n int, endA, endB uint)
//
// tieredAsm on two chains at once: chain A decodes from bit posA into
// dst, chain B from bit posB into dst[offB:] (which the caller makes
// valid for as many values as A gets), a group of k codes each per
// round. The two code-to-code dependencies are independent, so the core
// overlaps them: one chain alone waits on its reload every k codes.
// Scratch registers are shared by the chains (the core renames them):
// R9 (R8 holds the used-bits table), or for two tiers CX (R8 and R9 hold
// the bits each tier uses).
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
	PAIR_LIMITS(donep)
	CMPB 168(R12), $0
	JNE  two

	MOVQ 128(R12), R8

groupn:
	LOAD_PAIR(donep, k+72(FP))

coden:
	CODE(DX, BX, (DI), R8, R9, R9)
	CODE(R11, AX, (DI)(R14*1), R8, R9, R9)
	ADDQ $8, DI
	DECQ R13
	JNZ  coden
	JMP  groupn

two:
	MOVQ 152(R12), R8
	MOVQ 160(R12), R9

groupp:
	LOAD_PAIR(donep, k+72(FP))

codep:
	CODE2(DX, BX, (DI), CX)
	CODE2(R11, AX, (DI)(R14*1), CX)
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
