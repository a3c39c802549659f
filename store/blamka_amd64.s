//go:build amd64 && gc && !purego

#include "textflag.h"

// The argon2 compression function G (RFC 9106, section 3.5) with AVX2:
// see blamka_amd64.go. Each 1 KiB block is 32 YMM words; a row of the
// BLAKE2b state (16 words) is four YMM registers, one per row of the 4x4
// state, so the four column mixes of a round run side by side, and the
// diagonal ones after rotating the lanes of three registers.

// Byte shuffles that rotate each 64-bit lane right by 24 and by 16 bits.
DATA rot24<>+0(SB)/8, $0x0201000706050403
DATA rot24<>+8(SB)/8, $0x0a09080f0e0d0c0b
DATA rot24<>+16(SB)/8, $0x0201000706050403
DATA rot24<>+24(SB)/8, $0x0a09080f0e0d0c0b
GLOBL rot24<>(SB), RODATA|NOPTR, $32

DATA rot16<>+0(SB)/8, $0x0100070605040302
DATA rot16<>+8(SB)/8, $0x09080f0e0d0c0b0a
DATA rot16<>+16(SB)/8, $0x0100070605040302
DATA rot16<>+24(SB)/8, $0x09080f0e0d0c0b0a
GLOBL rot16<>(SB), RODATA|NOPTR, $32

// MIX is a += b + 2*lo(a)*lo(b) (lo: the low 32 bits), lane by lane.
#define MIX(a, b) \
	VPMULUDQ b, a, Y4 \
	VPADDQ   b, a, a  \
	VPADDQ   Y4, Y4, Y4 \
	VPADDQ   Y4, a, a

// G mixes the four columns held in A, B, C, D (Y0-Y3).
#define G \
	MIX(Y0, Y1)            \
	VPXOR   Y0, Y3, Y3     \
	VPSHUFD $0xb1, Y3, Y3  \ // rotate right 32
	MIX(Y2, Y3)            \
	VPXOR   Y2, Y1, Y1     \
	VPSHUFB Y5, Y1, Y1     \ // rotate right 24
	MIX(Y0, Y1)            \
	VPXOR   Y0, Y3, Y3     \
	VPSHUFB Y6, Y3, Y3     \ // rotate right 16
	MIX(Y2, Y3)            \
	VPXOR   Y2, Y1, Y1     \
	VPADDQ  Y1, Y1, Y4     \ // rotate right 63: left 1
	VPSRLQ  $63, Y1, Y1    \
	VPXOR   Y4, Y1, Y1

// ROUND is one BLAKE2b round with BlaMka's mixes on the state in Y0-Y3:
// the columns, then the diagonals (lanes of B, C, D rotated by 1, 2, 3
// and back).
#define ROUND \
	G                       \
	VPERMQ $0x39, Y1, Y1    \
	VPERMQ $0x4e, Y2, Y2    \
	VPERMQ $0x93, Y3, Y3    \
	G                       \
	VPERMQ $0x93, Y1, Y1    \
	VPERMQ $0x4e, Y2, Y2    \
	VPERMQ $0x39, Y3, Y3

// func compressAVX2(dst, x, y, r, q *argonBlock, xor bool)
TEXT ·compressAVX2(SB), NOSPLIT, $0-41
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ r+24(FP), R8
	MOVQ q+32(FP), R9
	MOVBLZX xor+40(FP), R10
	VMOVDQU rot24<>(SB), Y5
	VMOVDQU rot16<>(SB), Y6

	// r = x XOR y, and q a copy of it.
	XORQ AX, AX
xy:
	VMOVDQU (SI)(AX*1), Y0
	VPXOR   (DX)(AX*1), Y0, Y0
	VMOVDQU Y0, (R8)(AX*1)
	VMOVDQU Y0, (R9)(AX*1)
	ADDQ    $32, AX
	CMPQ    AX, $1024
	JB      xy

	// The rows of q: sixteen words each, at 128-byte steps.
	XORQ AX, AX
rows:
	VMOVDQU 0(R9)(AX*1), Y0
	VMOVDQU 32(R9)(AX*1), Y1
	VMOVDQU 64(R9)(AX*1), Y2
	VMOVDQU 96(R9)(AX*1), Y3
	ROUND
	VMOVDQU Y0, 0(R9)(AX*1)
	VMOVDQU Y1, 32(R9)(AX*1)
	VMOVDQU Y2, 64(R9)(AX*1)
	VMOVDQU Y3, 96(R9)(AX*1)
	ADDQ    $128, AX
	CMPQ    AX, $1024
	JB      rows

	// The columns of q: two words from each row, at 16-byte steps; the
	// state's row k holds those of rows 2k and 2k+1.
	XORQ AX, AX
cols:
	VMOVDQU    0(R9)(AX*1), X0
	VINSERTI128 $1, 128(R9)(AX*1), Y0, Y0
	VMOVDQU    256(R9)(AX*1), X1
	VINSERTI128 $1, 384(R9)(AX*1), Y1, Y1
	VMOVDQU    512(R9)(AX*1), X2
	VINSERTI128 $1, 640(R9)(AX*1), Y2, Y2
	VMOVDQU    768(R9)(AX*1), X3
	VINSERTI128 $1, 896(R9)(AX*1), Y3, Y3
	ROUND
	VMOVDQU      X0, 0(R9)(AX*1)
	VEXTRACTI128 $1, Y0, 128(R9)(AX*1)
	VMOVDQU      X1, 256(R9)(AX*1)
	VEXTRACTI128 $1, Y1, 384(R9)(AX*1)
	VMOVDQU      X2, 512(R9)(AX*1)
	VEXTRACTI128 $1, Y2, 640(R9)(AX*1)
	VMOVDQU      X3, 768(R9)(AX*1)
	VEXTRACTI128 $1, Y3, 896(R9)(AX*1)
	ADDQ    $16, AX
	CMPQ    AX, $128
	JB      cols

	// dst = r XOR q, or dst XOR= r XOR q.
	XORQ AX, AX
out:
	VMOVDQU (R8)(AX*1), Y0
	VPXOR   (R9)(AX*1), Y0, Y0
	TESTQ   R10, R10
	JZ      store
	VPXOR   (DI)(AX*1), Y0, Y0
store:
	VMOVDQU Y0, (DI)(AX*1)
	ADDQ    $32, AX
	CMPQ    AX, $1024
	JB      out

	// Leave nothing of the blocks in the vector registers.
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VZEROUPPER
	RET
