/**
 * Philox4x32-10 counter-based generator and the seed scrambling of TensorFlow's stateless
 * random ops, reproduced bit for bit (facts from TensorFlow's philox_random.h,
 * stateless_random_ops.cc GenerateKey and random_distributions.h Uint32ToFloat).
 *
 * All arithmetic is on unsigned 32-bit values held in JS numbers; the 32x32 -> 64-bit
 * products are split into 16-bit halves so that every intermediate stays an exact double.
 */

export const PHILOX_M0 = 0xd2511f53;
export const PHILOX_M1 = 0xcd9e8d57;
export const PHILOX_W0 = 0x9e3779b9;
export const PHILOX_W1 = 0xbb67ae85;

/** Initial key TensorFlow's GenerateKey uses before mixing the user seed in. */
export const TF_SEED_SCRAMBLE_KEY: readonly [number, number] = [0x3ec8f720, 0x02461e29];

export interface PhiloxState {
  /** Two 32-bit key words. */
  key: [number, number];
  /** 128-bit counter as four 32-bit words, least significant first. */
  counter: [number, number, number, number];
}

// Module-level aliases: inside Jest's vm sandbox every `Math.x` is a slow global lookup.
const imul = Math.imul;
const fround = Math.fround;
const floor = Math.floor;

const M0_LO = PHILOX_M0 & 0xffff;
const M0_HI = PHILOX_M0 >>> 16;
const M1_LO = PHILOX_M1 & 0xffff;
const M1_HI = PHILOX_M1 >>> 16;

/** High 32 bits of the 64-bit product a*b for unsigned 32-bit a, b. */
export function mulHi32(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const ll = aLo * bLo;
  const lh = aLo * bHi;
  const hl = aHi * bLo;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (aHi * bHi + (lh >>> 16) + (hl >>> 16) + floor(mid / 65536)) >>> 0;
}

/**
 * One Philox4x32-10 block: ten rounds on `counter` under `key`, result written to `out[0..3]`
 * (unsigned 32-bit values). Does not advance the counter.
 */
export function philoxBlock(
  counter: readonly [number, number, number, number] | Uint32Array,
  key: readonly [number, number] | Uint32Array,
  out: Uint32Array | number[],
): void {
  let c0 = counter[0] >>> 0;
  let c1 = counter[1] >>> 0;
  let c2 = counter[2] >>> 0;
  let c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let r = 0; r < 10; r++) {
    const lo0 = imul(PHILOX_M0, c0) >>> 0;
    const hi0 = mulHi32(PHILOX_M0, c0);
    const lo1 = imul(PHILOX_M1, c2) >>> 0;
    const hi1 = mulHi32(PHILOX_M1, c2);
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    if (r < 9) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

function checkInt32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new Error(`philox: ${what} must be an int32 integer, got ${value}`);
  }
}

/**
 * Key and counter that TensorFlow derives from an int32 seed pair for its stateless ops
 * (GenerateKey): each int32 seed is sign-extended to 64 bits and split into two counter words,
 * one Philox call under a fixed key mixes them, and the mix becomes key = [m0, m1],
 * counter = [0, 0, m2, m3].
 */
export function tfStatelessKeyCounter(seed0: number, seed1: number): PhiloxState {
  checkInt32(seed0, 'seed[0]');
  checkInt32(seed1, 'seed[1]');
  const counter: [number, number, number, number] = [
    seed0 >>> 0,
    seed0 < 0 ? 0xffffffff : 0,
    seed1 >>> 0,
    seed1 < 0 ? 0xffffffff : 0,
  ];
  const mix = new Uint32Array(4);
  philoxBlock(counter, TF_SEED_SCRAMBLE_KEY, mix);
  return { key: [mix[0], mix[1]], counter: [0, 0, mix[2], mix[3]] };
}

/**
 * Fills `out` with consecutive Philox4x32-10 outputs starting at `state.counter`: element i
 * comes from block floor(i/4), lane i%4, the 128-bit counter advancing by one per block.
 * A final partial block is truncated (as TensorFlow does). `state` is not modified.
 */
export function philoxFillUint32(state: PhiloxState, out: Uint32Array): void {
  fillGeneric(state, out.length, (i, v) => {
    out[i] = v;
  });
}

/**
 * Uniform float32 samples in [0, 1) exactly as TensorFlow's Uint32ToFloat: the low 23 bits of
 * each Philox word become the mantissa of a float in [1, 2), minus 1 — i.e. (x & 0x7fffff) * 2^-23,
 * then `value = fround(fround(u * range) + minval)` (range and minval must already be float32 values).
 * With range = 1 and minval = 0 this returns the raw unit samples.
 */
export function philoxUniformFloat32(state: PhiloxState, n: number, range: number, minval: number): Float32Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`philox: sample count must be a non-negative integer, got ${n}`);
  const out = new Float32Array(n);
  const SCALE = 1 / 8388608; // 2^-23
  const k0init = state.key[0] >>> 0;
  const k1init = state.key[1] >>> 0;
  let c0 = state.counter[0] >>> 0;
  let c1 = state.counter[1] >>> 0;
  let c2 = state.counter[2] >>> 0;
  let c3 = state.counter[3] >>> 0;
  let i = 0;
  while (i < n) {
    // --- ten Philox rounds, inlined (hot loop) ---
    let x0 = c0;
    let x1 = c1;
    let x2 = c2;
    let x3 = c3;
    let k0 = k0init;
    let k1 = k1init;
    for (let r = 0; r < 10; r++) {
      // product PHILOX_M0 * x0 split into 16-bit halves
      const a0l = x0 & 0xffff;
      const a0h = x0 >>> 16;
      const p0ll = a0l * M0_LO;
      const p0lh = a0l * M0_HI;
      const p0hl = a0h * M0_LO;
      const mid0 = (p0ll >>> 16) + (p0lh & 0xffff) + (p0hl & 0xffff);
      const hi0 = (a0h * M0_HI + (p0lh >>> 16) + (p0hl >>> 16) + (mid0 >>> 16)) >>> 0;
      const lo0 = imul(x0, PHILOX_M0) >>> 0;
      const a2l = x2 & 0xffff;
      const a2h = x2 >>> 16;
      const p1ll = a2l * M1_LO;
      const p1lh = a2l * M1_HI;
      const p1hl = a2h * M1_LO;
      const mid1 = (p1ll >>> 16) + (p1lh & 0xffff) + (p1hl & 0xffff);
      const hi1 = (a2h * M1_HI + (p1lh >>> 16) + (p1hl >>> 16) + (mid1 >>> 16)) >>> 0;
      const lo1 = imul(x2, PHILOX_M1) >>> 0;
      const y0 = (hi1 ^ x1 ^ k0) >>> 0;
      const y2 = (hi0 ^ x3 ^ k1) >>> 0;
      x0 = y0;
      x1 = lo1;
      x2 = y2;
      x3 = lo0;
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
    // (the key bump after round 10 is never used, so bumping every round is harmless)
    if (i + 4 <= n) {
      out[i] = fround(fround((x0 & 0x7fffff) * SCALE * range) + minval);
      out[i + 1] = fround(fround((x1 & 0x7fffff) * SCALE * range) + minval);
      out[i + 2] = fround(fround((x2 & 0x7fffff) * SCALE * range) + minval);
      out[i + 3] = fround(fround((x3 & 0x7fffff) * SCALE * range) + minval);
      i += 4;
    } else {
      const lanes = [x0, x1, x2, x3];
      for (let l = 0; i < n; l++, i++) out[i] = fround(fround((lanes[l] & 0x7fffff) * SCALE * range) + minval);
    }
    // 128-bit counter increment
    c0 = (c0 + 1) >>> 0;
    if (c0 === 0) {
      c1 = (c1 + 1) >>> 0;
      if (c1 === 0) {
        c2 = (c2 + 1) >>> 0;
        if (c2 === 0) c3 = (c3 + 1) >>> 0;
      }
    }
  }
  return out;
}

function fillGeneric(state: PhiloxState, n: number, put: (i: number, v: number) => void): void {
  const ctr = new Uint32Array(state.counter);
  const block = new Uint32Array(4);
  for (let i = 0; i < n; i += 4) {
    philoxBlock(ctr, state.key, block);
    for (let l = 0; l < 4 && i + l < n; l++) put(i + l, block[l]);
    ctr[0] = ctr[0] + 1;
    if (ctr[0] === 0) {
      ctr[1] = ctr[1] + 1;
      if (ctr[1] === 0) {
        ctr[2] = ctr[2] + 1;
        if (ctr[2] === 0) ctr[3] = ctr[3] + 1;
      }
    }
  }
}
