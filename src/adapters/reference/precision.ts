/**
 * Number formats the reference adapter emulates.
 *
 * - fp64: float64 everywhere.
 * - fp32: float32 storage (weights, inputs and every materialised tensor rounded with Math.fround),
 *   float64 accumulation inside each op (so each op is correctly rounded to float32).
 * - tf32: fp32, plus the two matmul operands of selected Conv2D/Dense layers (activations and kernel)
 *   rounded to TF32 (float32 with 10 explicit mantissa bits, round to nearest even) before multiplying,
 *   which is what NVIDIA tensor cores do when TF32 is enabled.
 */
export type ReferencePrecision = 'fp64' | 'fp32' | 'tf32';

export const REFERENCE_PRECISIONS: readonly ReferencePrecision[] = ['fp64', 'fp32', 'tf32'];

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

/** Rounds every element to float32 in place. */
export function roundFloat32InPlace(a: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] = Math.fround(a[i]);
}

/** Rounds every element to TF32 in place (through float32 first). */
export function roundTf32InPlace(a: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] = roundToTf32(a[i]);
}

/** A float64 copy of `a`, rounded to TF32. */
export function tf32Copy(a: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = roundToTf32(a[i]);
  return out;
}
