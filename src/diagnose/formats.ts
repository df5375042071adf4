/**
 * Number formats the diagnosis tests an adapter's arithmetic against, and their rounding.
 *
 * An "arithmetic" is a hypothesis about how a runtime computes one layer:
 *   fp64  float64 storage and arithmetic.
 *   fp32  float32 storage; each op's result is the float32 rounding of the exact result
 *         (the reference's fp32 mode). Real fp32 kernels differ from it only by summation order.
 *   tf32  fp32, but the two operands of the Conv2D/Dense products are rounded to TF32
 *         (10 explicit mantissa bits, round to nearest even) — NVIDIA tensor cores with TF32 on.
 *   bf16  fp32, but the Conv2D/Dense operands are rounded to bfloat16 (7 explicit mantissa bits)
 *         — oneDNN/AMX "bf16 fpmath" mode, TPUs at default matmul precision.
 *   fp16  float16 storage: every layer input, weight and output rounded to IEEE binary16,
 *         products accumulated in float32 — typical half-precision GPU inference.
 */
import { roundToTf32 } from '../adapters/reference/precision';

/*
 * Math/Number are read once into module constants: inside Jest's vm context every global lookup in
 * a hot loop is slow (measured: Number.isFinite over ResNet-50's kernels took 20 s under Jest, 0.1 s
 * under plain Node).
 */
const M = Math;
const N = Number;

export type Arithmetic = 'fp64' | 'fp32' | 'tf32' | 'bf16' | 'fp16';

export const ARITHMETICS: readonly Arithmetic[] = ['fp64', 'fp32', 'tf32', 'bf16', 'fp16'];

/** Display names, as a kernel developer would write them. */
export const ARITHMETIC_LABEL: Record<Arithmetic, string> = {
  fp64: 'float64', fp32: 'fp32', tf32: 'TF32', bf16: 'bf16', fp16: 'fp16',
};

export function isArithmetic(v: unknown): v is Arithmetic {
  return typeof v === 'string' && (ARITHMETICS as readonly string[]).includes(v);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> bfloat16, round to nearest even; NaN and ±Inf kept. */
export function roundToBf16(x: number): number {
  f32[0] = x;
  const u = u32[0];
  if ((u & 0x7f800000) === 0x7f800000) return f32[0];
  const lsb = (u >>> 16) & 1;
  u32[0] = ((u + 0x7fff + lsb) & 0xffff0000) >>> 0;
  return f32[0];
}

/** Largest finite binary16 value. */
const FP16_MAX = 65504;
const FP16_MIN_NORMAL = 2 ** -14;

/** Rounds `q` to the nearest integer, ties to even. */
function roundHalfEven(q: number): number {
  const r = M.round(q);
  // Math.round rounds ties up; fix ties that landed on an odd integer.
  if (r - q === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/**
 * x -> IEEE binary16 (through float32 first, as a float32 tensor would be converted),
 * round to nearest even, with subnormals (2^-24 steps) and overflow to ±Inf.
 * In the normal range binary16 keeps 10 mantissa bits like TF32, so the TF32 rounding applies;
 * below it the step is fixed at 2^-24.
 */
export function roundToFp16(x: number): number {
  const v = M.fround(x);
  if (v !== v || v === 0 || !N.isFinite(v)) return v;
  const a = M.abs(v);
  if (a < FP16_MIN_NORMAL) {
    const r = roundHalfEven(a * 2 ** 24) * 2 ** -24;
    return v < 0 ? -r : r;
  }
  const r = roundToTf32(v);
  if (M.abs(r) > FP16_MAX) return r > 0 ? Infinity : -Infinity;
  return r;
}

/** Rounding applied to one value stored in the format of `a` (identity for fp64). */
export function storageRounder(a: Arithmetic): (x: number) => number {
  switch (a) {
    case 'fp64': return (x) => x;
    case 'fp16': return roundToFp16;
    default: return M.fround;
  }
}

/** Rounding applied to Conv2D/Dense product operands under `a`. */
export function operandRounder(a: Arithmetic): (x: number) => number {
  switch (a) {
    case 'fp64': return (x) => x;
    case 'tf32': return roundToTf32;
    case 'bf16': return roundToBf16;
    case 'fp16': return roundToFp16;
    default: return M.fround;
  }
}

export function mapRound(src: ArrayLike<number>, r: (x: number) => number): Float64Array {
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = r(src[i]);
  return out;
}

export function roundInPlace(a: Float64Array, r: (x: number) => number): Float64Array {
  for (let i = 0; i < a.length; i++) a[i] = r(a[i]);
  return a;
}

/**
 * Size of one float32 unit in the last place at magnitude |s|: 2^(exponent(s) - 23) for normal
 * numbers, 2^-149 below the normal range, and the ULP of FLT_MAX beyond it.
 */
export function ulp32(s: number): number {
  const a = M.abs(s);
  if (!(a >= 2 ** -126)) return 2 ** -149; // also NaN -> smallest
  if (a >= 2 ** 128) return 2 ** 104;
  f32[0] = a;
  u32[0] &= 0x7f800000; // 2^exponent of fround(a)
  let p = f32[0];
  if (p > a) p *= 0.5; // fround rounded a up across a power of two
  return p * 2 ** -23;
}

/** True when every value of `a` is exactly representable in float32. */
export function isFloat32Exact(a: ArrayLike<number>): boolean {
  if (a instanceof Float32Array) return true;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v === v && M.fround(v) !== v) return false;
  }
  return true;
}
