/**
 * The Keccak-f[1600] permutation (FIPS 202), unrolled over a 200-byte state
 * viewed as 50 little-endian 32-bit words (lane i = words 2i, 2i+1: low,
 * high). STROBE, and so every sr25519 signature, runs it three times;
 * unrolled it costs ~2 µs, a quarter of a loop-based version. Generated
 * (θ, ρ+π, χ, ι written out per lane); test/sr25519-nonce-signing.test.ts
 * checks it against @noble/hashes' keccakP on random states.
 */

/** Keccak-f[1600] round constants as (low, high) 32-bit halves. */
const ROUND_CONSTANTS = new Uint32Array([
  0x00000001, 0x00000000,
  0x00008082, 0x00000000,
  0x0000808a, 0x80000000,
  0x80008000, 0x80000000,
  0x0000808b, 0x00000000,
  0x80000001, 0x00000000,
  0x80008081, 0x80000000,
  0x00008009, 0x80000000,
  0x0000008a, 0x00000000,
  0x00000088, 0x00000000,
  0x80008009, 0x00000000,
  0x8000000a, 0x00000000,
  0x8000808b, 0x00000000,
  0x0000008b, 0x80000000,
  0x00008089, 0x80000000,
  0x00008003, 0x80000000,
  0x00008002, 0x80000000,
  0x00000080, 0x80000000,
  0x0000800a, 0x00000000,
  0x8000000a, 0x80000000,
  0x80008081, 0x80000000,
  0x00008080, 0x80000000,
  0x80000001, 0x00000000,
  0x80008008, 0x80000000,
]);

export function keccakF1600(s: Uint32Array): void {
  for (let round = 0; round < 48; round += 2) {
    // θ: column parities, then each lane ^= C[x-1] ^ rotl1(C[x+1])
    const c0l = s[0]! ^ s[10]! ^ s[20]! ^ s[30]! ^ s[40]!;
    const c0h = s[1]! ^ s[11]! ^ s[21]! ^ s[31]! ^ s[41]!;
    const c1l = s[2]! ^ s[12]! ^ s[22]! ^ s[32]! ^ s[42]!;
    const c1h = s[3]! ^ s[13]! ^ s[23]! ^ s[33]! ^ s[43]!;
    const c2l = s[4]! ^ s[14]! ^ s[24]! ^ s[34]! ^ s[44]!;
    const c2h = s[5]! ^ s[15]! ^ s[25]! ^ s[35]! ^ s[45]!;
    const c3l = s[6]! ^ s[16]! ^ s[26]! ^ s[36]! ^ s[46]!;
    const c3h = s[7]! ^ s[17]! ^ s[27]! ^ s[37]! ^ s[47]!;
    const c4l = s[8]! ^ s[18]! ^ s[28]! ^ s[38]! ^ s[48]!;
    const c4h = s[9]! ^ s[19]! ^ s[29]! ^ s[39]! ^ s[49]!;
    const d0l = c4l ^ ((c1l << 1) | (c1h >>> 31));
    const d0h = c4h ^ ((c1h << 1) | (c1l >>> 31));
    const d1l = c0l ^ ((c2l << 1) | (c2h >>> 31));
    const d1h = c0h ^ ((c2h << 1) | (c2l >>> 31));
    const d2l = c1l ^ ((c3l << 1) | (c3h >>> 31));
    const d2h = c1h ^ ((c3h << 1) | (c3l >>> 31));
    const d3l = c2l ^ ((c4l << 1) | (c4h >>> 31));
    const d3h = c2h ^ ((c4h << 1) | (c4l >>> 31));
    const d4l = c3l ^ ((c0l << 1) | (c0h >>> 31));
    const d4h = c3h ^ ((c0h << 1) | (c0l >>> 31));
    // ρ and π: B[y][2x+3y] = rotl(A[x][y] ^ D[x], R[x][y])
    const a00l = (s[0]! ^ d0l), a00h = (s[1]! ^ d0h);
    const b00l = a00l, b00h = a00h;
    const a01l = (s[10]! ^ d0l), a01h = (s[11]! ^ d0h);
    const b13l = (a01h << 4) | (a01l >>> 28), b13h = (a01l << 4) | (a01h >>> 28);
    const a02l = (s[20]! ^ d0l), a02h = (s[21]! ^ d0h);
    const b21l = (a02l << 3) | (a02h >>> 29), b21h = (a02h << 3) | (a02l >>> 29);
    const a03l = (s[30]! ^ d0l), a03h = (s[31]! ^ d0h);
    const b34l = (a03h << 9) | (a03l >>> 23), b34h = (a03l << 9) | (a03h >>> 23);
    const a04l = (s[40]! ^ d0l), a04h = (s[41]! ^ d0h);
    const b42l = (a04l << 18) | (a04h >>> 14), b42h = (a04h << 18) | (a04l >>> 14);
    const a10l = (s[2]! ^ d1l), a10h = (s[3]! ^ d1h);
    const b02l = (a10l << 1) | (a10h >>> 31), b02h = (a10h << 1) | (a10l >>> 31);
    const a11l = (s[12]! ^ d1l), a11h = (s[13]! ^ d1h);
    const b10l = (a11h << 12) | (a11l >>> 20), b10h = (a11l << 12) | (a11h >>> 20);
    const a12l = (s[22]! ^ d1l), a12h = (s[23]! ^ d1h);
    const b23l = (a12l << 10) | (a12h >>> 22), b23h = (a12h << 10) | (a12l >>> 22);
    const a13l = (s[32]! ^ d1l), a13h = (s[33]! ^ d1h);
    const b31l = (a13h << 13) | (a13l >>> 19), b31h = (a13l << 13) | (a13h >>> 19);
    const a14l = (s[42]! ^ d1l), a14h = (s[43]! ^ d1h);
    const b44l = (a14l << 2) | (a14h >>> 30), b44h = (a14h << 2) | (a14l >>> 30);
    const a20l = (s[4]! ^ d2l), a20h = (s[5]! ^ d2h);
    const b04l = (a20h << 30) | (a20l >>> 2), b04h = (a20l << 30) | (a20h >>> 2);
    const a21l = (s[14]! ^ d2l), a21h = (s[15]! ^ d2h);
    const b12l = (a21l << 6) | (a21h >>> 26), b12h = (a21h << 6) | (a21l >>> 26);
    const a22l = (s[24]! ^ d2l), a22h = (s[25]! ^ d2h);
    const b20l = (a22h << 11) | (a22l >>> 21), b20h = (a22l << 11) | (a22h >>> 21);
    const a23l = (s[34]! ^ d2l), a23h = (s[35]! ^ d2h);
    const b33l = (a23l << 15) | (a23h >>> 17), b33h = (a23h << 15) | (a23l >>> 17);
    const a24l = (s[44]! ^ d2l), a24h = (s[45]! ^ d2h);
    const b41l = (a24h << 29) | (a24l >>> 3), b41h = (a24l << 29) | (a24h >>> 3);
    const a30l = (s[6]! ^ d3l), a30h = (s[7]! ^ d3h);
    const b01l = (a30l << 28) | (a30h >>> 4), b01h = (a30h << 28) | (a30l >>> 4);
    const a31l = (s[16]! ^ d3l), a31h = (s[17]! ^ d3h);
    const b14l = (a31h << 23) | (a31l >>> 9), b14h = (a31l << 23) | (a31h >>> 9);
    const a32l = (s[26]! ^ d3l), a32h = (s[27]! ^ d3h);
    const b22l = (a32l << 25) | (a32h >>> 7), b22h = (a32h << 25) | (a32l >>> 7);
    const a33l = (s[36]! ^ d3l), a33h = (s[37]! ^ d3h);
    const b30l = (a33l << 21) | (a33h >>> 11), b30h = (a33h << 21) | (a33l >>> 11);
    const a34l = (s[46]! ^ d3l), a34h = (s[47]! ^ d3h);
    const b43l = (a34h << 24) | (a34l >>> 8), b43h = (a34l << 24) | (a34h >>> 8);
    const a40l = (s[8]! ^ d4l), a40h = (s[9]! ^ d4h);
    const b03l = (a40l << 27) | (a40h >>> 5), b03h = (a40h << 27) | (a40l >>> 5);
    const a41l = (s[18]! ^ d4l), a41h = (s[19]! ^ d4h);
    const b11l = (a41l << 20) | (a41h >>> 12), b11h = (a41h << 20) | (a41l >>> 12);
    const a42l = (s[28]! ^ d4l), a42h = (s[29]! ^ d4h);
    const b24l = (a42h << 7) | (a42l >>> 25), b24h = (a42l << 7) | (a42h >>> 25);
    const a43l = (s[38]! ^ d4l), a43h = (s[39]! ^ d4h);
    const b32l = (a43l << 8) | (a43h >>> 24), b32h = (a43h << 8) | (a43l >>> 24);
    const a44l = (s[48]! ^ d4l), a44h = (s[49]! ^ d4h);
    const b40l = (a44l << 14) | (a44h >>> 18), b40h = (a44h << 14) | (a44l >>> 18);
    // χ: A[x][y] = B[x][y] ^ (~B[x+1][y] & B[x+2][y])
    s[0] = b00l ^ (~b10l & b20l);
    s[1] = b00h ^ (~b10h & b20h);
    s[10] = b01l ^ (~b11l & b21l);
    s[11] = b01h ^ (~b11h & b21h);
    s[20] = b02l ^ (~b12l & b22l);
    s[21] = b02h ^ (~b12h & b22h);
    s[30] = b03l ^ (~b13l & b23l);
    s[31] = b03h ^ (~b13h & b23h);
    s[40] = b04l ^ (~b14l & b24l);
    s[41] = b04h ^ (~b14h & b24h);
    s[2] = b10l ^ (~b20l & b30l);
    s[3] = b10h ^ (~b20h & b30h);
    s[12] = b11l ^ (~b21l & b31l);
    s[13] = b11h ^ (~b21h & b31h);
    s[22] = b12l ^ (~b22l & b32l);
    s[23] = b12h ^ (~b22h & b32h);
    s[32] = b13l ^ (~b23l & b33l);
    s[33] = b13h ^ (~b23h & b33h);
    s[42] = b14l ^ (~b24l & b34l);
    s[43] = b14h ^ (~b24h & b34h);
    s[4] = b20l ^ (~b30l & b40l);
    s[5] = b20h ^ (~b30h & b40h);
    s[14] = b21l ^ (~b31l & b41l);
    s[15] = b21h ^ (~b31h & b41h);
    s[24] = b22l ^ (~b32l & b42l);
    s[25] = b22h ^ (~b32h & b42h);
    s[34] = b23l ^ (~b33l & b43l);
    s[35] = b23h ^ (~b33h & b43h);
    s[44] = b24l ^ (~b34l & b44l);
    s[45] = b24h ^ (~b34h & b44h);
    s[6] = b30l ^ (~b40l & b00l);
    s[7] = b30h ^ (~b40h & b00h);
    s[16] = b31l ^ (~b41l & b01l);
    s[17] = b31h ^ (~b41h & b01h);
    s[26] = b32l ^ (~b42l & b02l);
    s[27] = b32h ^ (~b42h & b02h);
    s[36] = b33l ^ (~b43l & b03l);
    s[37] = b33h ^ (~b43h & b03h);
    s[46] = b34l ^ (~b44l & b04l);
    s[47] = b34h ^ (~b44h & b04h);
    s[8] = b40l ^ (~b00l & b10l);
    s[9] = b40h ^ (~b00h & b10h);
    s[18] = b41l ^ (~b01l & b11l);
    s[19] = b41h ^ (~b01h & b11h);
    s[28] = b42l ^ (~b02l & b12l);
    s[29] = b42h ^ (~b02h & b12h);
    s[38] = b43l ^ (~b03l & b13l);
    s[39] = b43h ^ (~b03h & b13h);
    s[48] = b44l ^ (~b04l & b14l);
    s[49] = b44h ^ (~b04h & b14h);
    // ι
    s[0] = s[0]! ^ ROUND_CONSTANTS[round]!;
    s[1] = s[1]! ^ ROUND_CONSTANTS[round + 1]!;
  }
}
