/**
 * Keras 3 initializers on the TensorFlow backend, reproduced bit for bit in float32.
 *
 * Keras `RandomUniform(minval, maxval, seed=s)` and `GlorotUniform(seed=s)` (VarianceScaling,
 * scale 1, mode fan_avg, uniform) both end in `tf.random.stateless_uniform(shape, seed=[s', 0])`
 * with s' = floormod(s, 2^31 - 2) as int32 (Keras's `_cast_seed` floormod), which draws Philox4x32-10
 * words, maps each to u in [0, 1) and returns `fround(fround(u * (max - min)) + min)` with
 * min, max and (max - min) all float32.
 */
import type { InitializerSpec } from '../model/types';
import { philoxUniformFloat32, tfStatelessKeyCounter } from './philox';

/** Keras's `_cast_seed` reduces 64-bit seeds with floormod(seed, int32.max - 1). */
export const KERAS_SEED_MODULUS = 0x7fffffff - 1;

export function checkShape(shape: readonly number[], what = 'shape'): number {
  if (!Array.isArray(shape)) throw new Error(`${what} must be an array of dimensions, got ${String(shape)}`);
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(
        `${what} [${shape.join(',')}] has an invalid dimension ${String(d)} (must be a non-negative integer)`,
      );
    }
    n *= d;
  }
  if (!Number.isSafeInteger(n) || n > 0x7fffffff)
    throw new Error(`${what} [${shape.join(',')}] has too many elements (${n})`);
  return n;
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`initializer seed must be an integer (within ±2^53), got ${String(seed)}`);
  }
}

/**
 * The int32 seed pair Keras passes to tf.random.stateless_uniform for an integer seed:
 * draw_seed gives int64 [seed, 0]; _cast_seed applies floormod(·, 2^31 - 2) (result takes the
 * divisor's sign, so negative seeds map into [0, 2^31 - 3]) and casts to int32.
 */
export function kerasSeedPair(seed: number): [number, number] {
  checkSeed(seed);
  const m = ((seed % KERAS_SEED_MODULUS) + KERAS_SEED_MODULUS) % KERAS_SEED_MODULUS;
  return [m, 0];
}

/** Keras `compute_fans`: kernels [..., in, out] with receptive field = product of leading dims. */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  let receptive = 1;
  for (let i = 0; i < shape.length - 2; i++) receptive *= shape[i];
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

/**
 * Glorot uniform limit in float64, in Keras's operation order:
 * scale = 1 / max(1, (fan_in + fan_out) / 2); limit = sqrt(3 * scale).
 */
export function glorotLimit(shape: readonly number[]): number {
  const { fanIn, fanOut } = computeFans(shape);
  const scale = 1.0 / Math.max(1.0, (fanIn + fanOut) / 2.0);
  return Math.sqrt(3.0 * scale);
}

/** `tf.random.stateless_uniform(shape, seed, minval, maxval, float32)` with min/max given as numbers. */
export function statelessUniform(
  shape: readonly number[],
  seedPair: readonly [number, number],
  minval: number,
  maxval: number,
): Float32Array {
  const n = checkShape(shape);
  if (!Number.isFinite(minval) || !Number.isFinite(maxval)) {
    throw new Error(`uniform initializer bounds must be finite, got minval=${minval}, maxval=${maxval}`);
  }
  const lo = Math.fround(minval);
  const hi = Math.fround(maxval);
  const range = Math.fround(hi - lo);
  return philoxUniformFloat32(tfStatelessKeyCounter(seedPair[0], seedPair[1]), n, range, lo);
}

/** Keras `RandomUniform(minval, maxval, seed)` on the TensorFlow backend, float32. */
export function randomUniform(shape: readonly number[], seed: number, minval = -0.05, maxval = 0.05): Float32Array {
  return statelessUniform(shape, kerasSeedPair(seed), minval, maxval);
}

/** Keras `GlorotUniform(seed)` on the TensorFlow backend, float32. */
export function glorotUniform(shape: readonly number[], seed: number): Float32Array {
  checkShape(shape);
  const limit = glorotLimit(shape);
  return statelessUniform(shape, kerasSeedPair(seed), -limit, limit);
}

/** Keras `Constant(value)`: the value cast to float32, repeated. */
export function constant(shape: readonly number[], value: number): Float32Array {
  const n = checkShape(shape);
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new Error(`constant initializer value must be a number, got ${String(value)}`);
  const out = new Float32Array(n);
  out.fill(Math.fround(value));
  return out;
}

export function zeros(shape: readonly number[]): Float32Array {
  return new Float32Array(checkShape(shape));
}

export function ones(shape: readonly number[]): Float32Array {
  return constant(shape, 1);
}

/** Runs the initializer described by `spec` for `shape` (row-major float32). */
export function initialize(spec: InitializerSpec, shape: readonly number[]): Float32Array {
  switch (spec.kind) {
    case 'glorot_uniform':
      return glorotUniform(shape, spec.seed);
    case 'random_uniform':
      return randomUniform(shape, spec.seed, spec.minval, spec.maxval);
    case 'constant':
      return constant(shape, spec.value);
    case 'zeros':
      return zeros(shape);
    case 'ones':
      return ones(shape);
    default: {
      const bad: never = spec;
      throw new Error(`initialize: unknown initializer kind ${JSON.stringify((bad as { kind?: unknown }).kind)}`);
    }
  }
}
