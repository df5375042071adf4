/**
 * The arithmetics the reference layer interpreter (./interpreter.ts) evaluates a layer in, and their
 * number formats. One list: the reference adapter's precisions are the subset of it that a whole
 * model runs in, and the diagnosis tests an adapter's layers against all of it.
 *
 *   fp64  float64 storage and arithmetic.
 *   fp32  float32 storage (weights, inputs and every materialised tensor rounded with Math.fround),
 *         float64 accumulation inside each op, so each op's result is the float32 rounding of the
 *         exact result. Real fp32 kernels differ from it only by summation order.
 *   tf32  fp32, plus the two operands of the Conv2D/Dense products (activations and kernel) rounded
 *         to TF32 (float32 with 10 explicit mantissa bits, round to nearest even) before multiplying,
 *         which is what NVIDIA tensor cores do when TF32 is enabled.
 *   bf16  fp32, but the Conv2D/Dense operands are rounded to bfloat16 (7 explicit mantissa bits)
 *         — oneDNN/AMX "bf16 fpmath" mode, TPUs at default matmul precision.
 *   fp16  float16 storage: every layer input, weight and output rounded to IEEE binary16,
 *         products accumulated in float32 — typical half-precision GPU inference.
 *
 * The reference adapter's precision 'tf32' runs its selected Conv2D/Dense layers in the tf32
 * arithmetic and every other layer in fp32.
 */

/*
 * Math/Number are read once into module constants: inside Jest's vm context every global lookup in
 * a hot loop is slow.
 */
const M = Math;
const N = Number;

export const ARITHMETICS = ['fp64', 'fp32', 'tf32', 'bf16', 'fp16'] as const;

export type Arithmetic = (typeof ARITHMETICS)[number];

export function isArithmetic(v: unknown): v is Arithmetic {
  return typeof v === 'string' && (ARITHMETICS as readonly string[]).includes(v);
}

/** Precisions a whole ReferenceAdapter model runs in: arithmetics by construction (`satisfies`). */
export const REFERENCE_PRECISIONS = ['fp64', 'fp32', 'tf32'] as const satisfies readonly Arithmetic[];

export type ReferencePrecision = (typeof REFERENCE_PRECISIONS)[number];

export function isReferencePrecision(v: unknown): v is ReferencePrecision {
  return typeof v === 'string' && (REFERENCE_PRECISIONS as readonly string[]).includes(v);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Bits dropped by TF32 relative to float32 (23 - 10 mantissa bits). */
const TF32_DROPPED_BITS = 13;
const TF32_HALF_MINUS_ONE = (1 << (TF32_DROPPED_BITS - 1)) - 1; // 0xFFF
const TF32_CLEAR_MASK = ~((1 << TF32_DROPPED_BITS) - 1) >>> 0; // 0xFFFFE000

/** Rounds a float32 bit pattern to TF32 (round to nearest, ties to even); NaN and ±Inf unchanged. */
export function tf32Bits(u: number): number {
  if ((u & 0x7f800000) === 0x7f800000) return u >>> 0; // NaN or Inf
  const lsb = (u >>> TF32_DROPPED_BITS) & 1;
  return ((u + TF32_HALF_MINUS_ONE + lsb) & TF32_CLEAR_MASK) >>> 0;
}

/** The value `x` would have after conversion to float32 and then to TF32. */
export function roundToTf32(x: number): number {
  f32[0] = x;
  u32[0] = tf32Bits(u32[0]);
  return f32[0];
}

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
export const FP16_MAX = 65504;
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

const identity = (x: number): number => x;

/** Rounding applied to one value stored in the format of `a` (identity for fp64). */
export function storageRounder(a: Arithmetic): (x: number) => number {
  switch (a) {
    case 'fp64':
      return identity;
    case 'fp16':
      return roundToFp16;
    default:
      return M.fround;
  }
}

/** Rounding applied to Conv2D/Dense product operands under `a`. */
export function operandRounder(a: Arithmetic): (x: number) => number {
  switch (a) {
    case 'fp64':
      return identity;
    case 'tf32':
      return roundToTf32;
    case 'bf16':
      return roundToBf16;
    case 'fp16':
      return roundToFp16;
    default:
      return M.fround;
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

/** Rounds every element to float32 in place. */
export function roundFloat32InPlace(a: Float64Array): Float64Array {
  const fround = M.fround;
  for (let i = 0; i < a.length; i++) a[i] = fround(a[i]);
  return a;
}

/** A float64 copy of `a`, rounded to TF32. */
export function tf32Copy(a: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = roundToTf32(a[i]);
  return out;
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

/** Rounds `a` in place to the storage format of `arithmetic` (nothing for fp64). */
export function storeInPlace(a: Float64Array, arithmetic: Arithmetic): Float64Array {
  if (arithmetic === 'fp64') return a;
  if (arithmetic === 'fp16') return roundInPlace(a, roundToFp16);
  return roundFloat32InPlace(a);
}

/**
 * `src` in the storage format of `arithmetic`: `src` itself when that changes nothing (fp64, or
 * float32-exact data in a float32-storage arithmetic), else a rounded copy.
 */
export function stored(src: Float64Array, arithmetic: Arithmetic): Float64Array {
  if (arithmetic === 'fp64' || (arithmetic !== 'fp16' && isFloat32Exact(src))) return src;
  return mapRound(src, storageRounder(arithmetic));
}

/**
 * `src` as a Conv2D/Dense product operand under `arithmetic`: `src` itself when rounding changes
 * nothing (fp64, or float32-exact data under fp32), else a rounded copy.
 */
export function operand(src: Float64Array, arithmetic: Arithmetic): Float64Array {
  if (arithmetic === 'fp64' || (arithmetic === 'fp32' && isFloat32Exact(src))) return src;
  if (arithmetic === 'tf32') return tf32Copy(src);
  return mapRound(src, operandRounder(arithmetic));
}
