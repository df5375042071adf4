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
 *     array element by element (exact; far cheaper than the conversion): any difference drops the
 *     entry and prepares again. Executors built earlier keep the arrays they got (never modified).
 *   - The returned arrays are shared: nobody may modify them (they are marked constant for the
 *     SIMD packed-kernel cache). Executors with a per-layer override do not use this cache.
 */
import { tf32Bits } from './precision';
import { allFinite } from './weights';

/** A shared prepared kernel and whether it is finite. */
export interface SharedKernel {
  kernel: Float64Array;
  finite: boolean;
}

interface Entry {
  /** Exact float64 copy of the key's values (finite), the fp64 and fp32 kernel. */
  base: Float64Array;
  tf32?: SharedKernel;
}

const entries = new WeakMap<Float32Array, Entry>();

/** Counts for tests and probes: prepared (conversions done), reused (hits), dropped (mismatches). */
export const kernelCacheStats = { prepared: 0, reused: 0, dropped: 0 };

/** True when `base` still holds exactly the values of `src`. */
function sameValues(base: Float64Array, src: Float32Array): boolean {
  const n = src.length;
  if (base.length !== n) return false;
  for (let i = 0; i < n; i++) if (base[i] !== src[i]) return false;
  return true;
}

/** Elements rounded per chunk in tf32Kernel (a 256 KiB scratch stays in cache). */
const CHUNK = 1 << 16;

/**
 * `src` rounded to TF32, as float64: the same values as tf32Copy(new Float64Array(src)), whose
 * roundToTf32 writes each (float32-exact) value to a float32 and rounds its bits with tf32Bits;
 * here the bits are read from `src` directly. `src` must be finite (NaN bits are not canonical).
 */
function tf32Kernel(src: Float32Array): Float64Array {
  const n = src.length;
  const bits = new Uint32Array(src.buffer, src.byteOffset, n);
  const out = new Float64Array(n);
  const scratch = new Uint32Array(Math.min(CHUNK, n));
  const scratchF = new Float32Array(scratch.buffer);
  // Read once: a module import in the loop may be a property getter per element (CommonJS interop).
  const round = tf32Bits;
  for (let c = 0; c < n; c += CHUNK) {
    const m = Math.min(CHUNK, n - c);
    for (let i = 0; i < m; i++) scratch[i] = round(bits[c + i]);
    out.set(m === scratchF.length ? scratchF : scratchF.subarray(0, m), c);
  }
  return out;
}

/**
 * The prepared kernel of `src` for `a` (fp64, fp32 or tf32), shared with every other caller asking
 * for the same array and arithmetic while the values are unchanged; undefined when not cacheable
 * (another arithmetic, or a non-finite kernel): the caller then prepares its own.
 */
export function sharedKernel(src: Float32Array, a: 'fp64' | 'fp32' | 'tf32'): SharedKernel | undefined {
  let e = entries.get(src);
  if (e && !sameValues(e.base, src)) {
    entries.delete(src);
    kernelCacheStats.dropped++;
    e = undefined;
  }
  if (!e) {
    const base = new Float64Array(src);
    if (!allFinite(base)) return undefined;
    e = { base };
    entries.set(src, e);
    kernelCacheStats.prepared++;
  } else {
    kernelCacheStats.reused++;
  }
  if (a !== 'tf32') return { kernel: e.base, finite: true };
  if (!e.tf32) {
    const kernel = tf32Kernel(src);
    e.tf32 = { kernel, finite: allFinite(kernel) };
  }
  return e.tf32;
}
