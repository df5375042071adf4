/**
 * The diagnosis's view of the number formats. The arithmetics themselves (the one list, their
 * rounding) live with the reference layer interpreter in src/adapters/reference/precision.ts, which
 * both the reference adapter and the diagnosis evaluate layers with; this module adds what only the
 * diagnosis needs: display labels and the float32 ULP its distances are measured in.
 */
import type { Arithmetic } from '../adapters/reference/precision';

export {
  ARITHMETICS,
  isArithmetic,
  isFloat32Exact,
  mapRound,
  operandRounder,
  roundInPlace,
  roundToBf16,
  roundToFp16,
  storageRounder,
  type Arithmetic,
} from '../adapters/reference/precision';

const M = Math;

/** Display names, as a kernel developer would write them. */
export const ARITHMETIC_LABEL: Record<Arithmetic, string> = {
  fp64: 'float64',
  fp32: 'fp32',
  tf32: 'TF32',
  bf16: 'bf16',
  fp16: 'fp16',
};

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

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
