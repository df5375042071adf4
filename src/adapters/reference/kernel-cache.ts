/**
 * Conv2D/Dense kernels prepared once per process and shared by the executors that would prepare
 * them identically: ResNet-50's 23.5 M kernel values converted to float64 (and for tf32 rounded)
 * are most of a build, and a run builds the same kernels again and again (the perturbed weight set
 * keeps the notebook's kernel arrays; the fp64, fp32 and tf32 adapters may share one process).
 * Sharing the prepared array also shares its packed copy in the SIMD engine (keyed by the array).
 *
 * What is shared, and why it is the same data:
 *   - The key is the weight tensor's own Float32Array (WeakMap: freed with the weights).
 *   - `base` is the exact float64 value of every element. It is the prepared kernel of fp64 and of
 *     fp32 (a Float32Array is float32-exact, so fp32's operand rounding changes nothing): both
 *     arithmetics used `new Float64Array(k)` before, so they get the same values.
 *   - tf32's kernel is every element rounded to TF32, computed from the same float32 bits
 *     roundToTf32 reads (see tf32Kernel). bf16/fp16 are not cached (the caller prepares them).
 *   - Only finite kernels are cached (a NaN payload could differ between conversions; a NaN also
 *     makes the comparison below fail on every hit).
 *   - Weight arrays can be written between builds, so every hit first compares `base` with the
 *     array element by element (exact, the sign of zero included; far cheaper than the conversion),
 *     or, where only the tf32 kernel was made, rounds the array again and compares with it: any
 *     difference drops the entry and prepares again. Executors built earlier keep the arrays they got (never modified).
 *   - The returned arrays are shared: nobody may modify them (they are marked constant for the
 *     SIMD packed-kernel cache). Executors with a per-layer override do not use this cache.
 */
import { tf32Bits } from './precision';

/** A shared prepared kernel and whether it is finite. */
export interface SharedKernel {
  kernel: Float64Array;
  finite: boolean;
}

/** What was prepared from one array (at least one of the two), from the values it holds now. */
interface Entry {
  /** Exact float64 copy of the key's values (finite), the fp64 and fp32 kernel. */
  base?: Float64Array;
  tf32?: SharedKernel;
}

const entries = new WeakMap<Float32Array, Entry>();

/** Counts for tests and probes: prepared (conversions done), reused (hits), dropped (mismatches). */
export const kernelCacheStats = { prepared: 0, reused: 0, dropped: 0 };

/** `a` and `b` are the same value, the sign of a zero included (for non-NaN values). */
function same(a: number, b: number): boolean {
  return a === b && (a !== 0 || 1 / a === 1 / b);
}

/** True when `base` still holds exactly the values of `src` (a NaN in `src` never matches). */
function sameValues(base: Float64Array, src: Float32Array): boolean {
  const n = src.length;
  if (base.length !== n) return false;
  for (let i = 0; i < n; i++) if (!same(base[i], src[i])) return false;
  return true;
}

/** No NaN or ±Inf in `src`, read from its float32 bits (half the bytes of its float64 copy). */
function finiteBits(src: Float32Array): boolean {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) if ((bits[i] & 0x7f800000) === 0x7f800000) return false;
  return true;
}

/** Elements rounded per chunk in tf32Kernel (a 256 KiB scratch stays in cache). */
const CHUNK = 1 << 16;

/**
 * `src` rounded to TF32, as float64, and whether the result is finite: the same values as tf32Copy(new Float64Array(src)), whose
 * roundToTf32 writes each (float32-exact) value to a float32 and rounds its bits with tf32Bits;
 * here the bits are read from `src` directly. `src` must be finite (NaN bits are not canonical).
 */
function tf32Kernel(src: Float32Array): SharedKernel {
  const out = new Float64Array(src.length);
  return { kernel: out, finite: tf32Pass(src, out, false) };
}

/**
 * Rounds `src` to TF32 chunk by chunk. Writing (check false): stores the values in `out`, returns
 * whether all are finite. Checking (check true): returns whether `out` holds exactly those values.
 */
function tf32Pass(src: Float32Array, out: Float64Array, check: boolean): boolean {
  const n = src.length;
  if (out.length !== n) return false;
  const bits = new Uint32Array(src.buffer, src.byteOffset, n);
  const scratch = new Uint32Array(Math.min(CHUNK, n));
  const scratchF = new Float32Array(scratch.buffer);
  // Read once: a module import in the loop may be a property getter per element (CommonJS interop).
  const round = tf32Bits;
  // A finite float32 rounds to ±Inf when it is within half a TF32 step of the largest float32.
  let overflow = 0;
  for (let c = 0; c < n; c += CHUNK) {
    const m = Math.min(CHUNK, n - c);
    for (let i = 0; i < m; i++) {
      const r = round(bits[c + i]);
      scratch[i] = r;
      if ((r & 0x7f800000) === 0x7f800000) overflow++;
    }
    if (!check) out.set(m === scratchF.length ? scratchF : scratchF.subarray(0, m), c);
    else for (let i = 0; i < m; i++) if (!same(out[c + i], scratchF[i])) return false;
  }
  return check || overflow === 0;
}

/**
 * The prepared kernel of `src` for `a` (fp64, fp32 or tf32), shared with every other caller asking
 * for the same array and arithmetic while the values are unchanged; undefined when not cacheable
 * (another arithmetic, or a non-finite kernel): the caller then prepares its own.
 */
export function sharedKernel(src: Float32Array, a: 'fp64' | 'fp32' | 'tf32'): SharedKernel | undefined {
  let e = entries.get(src);
  // The exact copy proves everything derived from it; a TF32-only entry is checked by rounding again
  // (no float64 copy is made just for the check: a process running only tf32 never needs one).
  if (e && !(e.base ? sameValues(e.base, src) : tf32Pass(src, e.tf32!.kernel, true))) {
    entries.delete(src);
    kernelCacheStats.dropped++;
    e = undefined;
  }
  const fresh = e === undefined;
  if (e) kernelCacheStats.reused++;
  else {
    if (!finiteBits(src)) return undefined;
    entries.set(src, (e = {}));
    kernelCacheStats.prepared++;
  }
  if (a === 'tf32') return (e.tf32 ??= tf32Kernel(src));
  if (!e.base) {
    // A TF32-only entry vouches for the rounded values only (±Inf rounds to itself): check the array.
    if (!fresh && !finiteBits(src)) return undefined;
    e.base = new Float64Array(src);
  }
  return { kernel: e.base, finite: true };
}
