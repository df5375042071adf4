/**
 * TensorFlow's STATEFUL seeded random ops (`tf.random.uniform(shape, seed=op)` after
 * `tf.random.set_seed(global)`), reproduced bit for bit on top of the Philox core in ./philox.
 *
 * Facts (TensorFlow random_seed.get_seed, GuardedPhiloxRandom, PhiloxRandom(seed_lo, seed_hi),
 * PhiloxRandomOpKernel): the op gets the seed pair (global, op) (if both are 0, (0, 2^31-1));
 * its generator starts with key = [lo32(global), hi32(global)] and 128-bit counter
 * [0, 0, lo32(op), hi32(op)]; every call reserves `256 * n` 128-bit samples (n = output elements),
 * i.e. the counter advances by 256*n after the call, and the values are the first ceil(n/4) blocks
 * from the counter at the start of the call, mapped to float32 exactly as the stateless op does
 * (low 23 bits -> [0,1), then fround(fround(u * range) + min)).
 *
 * In eager TensorFlow the op kernel (and so its generator state) is shared by every call with the
 * same (seed, seed2, dtype) until `tf.random.set_seed` clears the kernel cache: that is why the
 * n-th `glorot_uniform(seed=0)` of a session differs from the first in TF releases whose Keras
 * initializers used the legacy stateful op (Keras 2.x up to the switch to stateless initializers).
 * A `StatefulRandomSession` models one such session: one stream per (global, op) seed pair.
 */
import { checkShape, glorotLimit } from './initializers';
import { philoxUniformFloat32, type PhiloxState } from './philox';

/** Samples of 128 bits TensorFlow reserves per output element of a random op. */
export const TF_RESERVED_SAMPLES_PER_OUTPUT = 256;

const MAXINT32 = 0x7fffffff;

function checkSeed(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0)
    throw new Error(`stateful philox: ${what} must be a non-negative integer, got ${String(v)}`);
}

/** random_seed.get_seed's final rule: (0, 0) would mean "nondeterministic", so TF uses (0, 2^31-1). */
export function tfSeedPair(globalSeed: number, opSeed: number): [number, number] {
  checkSeed(globalSeed, 'global seed');
  checkSeed(opSeed, 'op seed');
  // _truncate_seed: `seed % _MAXINT32` with _MAXINT32 = 2^31 - 1.
  const g = globalSeed % MAXINT32;
  const o = opSeed % MAXINT32;
  return g === 0 && o === 0 ? [0, MAXINT32] : [g, o];
}

/** Adds `k` (a non-negative safe integer) to a 128-bit counter of four 32-bit words. */
export function counterAdd(counter: readonly number[], k: number): [number, number, number, number] {
  if (!Number.isSafeInteger(k) || k < 0)
    throw new Error(`stateful philox: counter step must be a non-negative integer, got ${k}`);
  const out: [number, number, number, number] = [
    counter[0] >>> 0,
    counter[1] >>> 0,
    counter[2] >>> 0,
    counter[3] >>> 0,
  ];
  let carry = k;
  for (let i = 0; i < 4 && carry > 0; i++) {
    const s = out[i] + (carry % 0x100000000);
    out[i] = s >>> 0;
    carry = Math.floor(carry / 0x100000000) + (s >= 0x100000000 ? 1 : 0);
  }
  return out;
}

/** One op kernel's generator: key from the global seed, counter from the op seed, advanced per call. */
export class StatefulPhiloxStream {
  readonly key: [number, number];
  private counter: [number, number, number, number];
  /** Calls made so far and the counter each started at (provenance for reports). */
  readonly calls: { n: number; counter: [number, number, number, number] }[] = [];

  constructor(
    readonly globalSeed: number,
    readonly opSeed: number,
  ) {
    const [g, o] = tfSeedPair(globalSeed, opSeed);
    this.key = [g >>> 0, Math.floor(g / 0x100000000) >>> 0];
    this.counter = [0, 0, o >>> 0, Math.floor(o / 0x100000000) >>> 0];
  }

  state(): PhiloxState {
    return { key: [...this.key], counter: [...this.counter] };
  }

  /** 128-bit samples reserved since the stream started (the low 64 bits of the counter). */
  samplesUsed(): number {
    const n = this.counter[0] + this.counter[1] * 0x100000000;
    if (!Number.isSafeInteger(n)) throw new Error('stateful philox: stream position beyond 2^53 samples');
    return n;
  }

  /** Moves the stream on by `samples` 128-bit samples, as calls reserving them would. */
  advance(samples: number): void {
    this.counter = counterAdd(this.counter, samples);
  }

  /** `tf.random.uniform(shape, minval, maxval, float32, seed=op)`: values, then the counter moves by 256*n. */
  uniform(shape: readonly number[], minval: number, maxval: number): Float32Array {
    const n = checkShape(shape);
    if (!Number.isFinite(minval) || !Number.isFinite(maxval)) {
      throw new Error(`stateful uniform: bounds must be finite, got minval=${minval}, maxval=${maxval}`);
    }
    const lo = Math.fround(minval);
    const hi = Math.fround(maxval);
    const range = Math.fround(hi - lo);
    const start = this.state();
    this.calls.push({ n, counter: [...this.counter] });
    this.counter = counterAdd(this.counter, TF_RESERVED_SAMPLES_PER_OUTPUT * n);
    return philoxUniformFloat32(start, n, range, lo);
  }
}

/**
 * One TensorFlow session after `tf.random.set_seed(globalSeed)`: a stream per op seed, created on
 * first use (the eager kernel cache), so successive initializer calls continue the same stream.
 */
export class StatefulRandomSession {
  private readonly streams = new Map<number, StatefulPhiloxStream>();

  constructor(readonly globalSeed: number) {
    checkSeed(globalSeed, 'global seed');
  }

  /**
   * A session whose streams stand where `positions` says (samples consumed since set_seed per op
   * seed; others fresh): what a call sees after the earlier calls since set_seed.
   */
  static at(globalSeed: number, positions: readonly { opSeed: number; samples: number }[]): StatefulRandomSession {
    const s = new StatefulRandomSession(globalSeed);
    for (const p of positions) {
      checkSeed(p.samples, `stream position of op seed ${p.opSeed}`);
      s.stream(p.opSeed).advance(p.samples);
    }
    return s;
  }

  /** Where every stream used so far stands (op seeds ascending; fresh streams left out). */
  positions(): { opSeed: number; samples: number }[] {
    return [...this.streams.entries()]
      .map(([opSeed, st]) => ({ opSeed, samples: st.samplesUsed() }))
      .filter((p) => p.samples > 0)
      .sort((a, b) => a.opSeed - b.opSeed);
  }

  stream(opSeed: number): StatefulPhiloxStream {
    let s = this.streams.get(opSeed);
    if (!s) {
      s = new StatefulPhiloxStream(this.globalSeed, opSeed);
      this.streams.set(opSeed, s);
    }
    return s;
  }

  /** Keras 2 legacy `RandomUniform(minval, maxval, seed=op)` on this session. */
  randomUniform(shape: readonly number[], opSeed: number, minval = -0.05, maxval = 0.05): Float32Array {
    return this.stream(opSeed).uniform(shape, minval, maxval);
  }

  /** Keras 2 legacy `GlorotUniform(seed=op)`: same limit as Keras 3, values from the stateful stream. */
  glorotUniform(shape: readonly number[], opSeed: number): Float32Array {
    checkShape(shape);
    const limit = glorotLimit(shape);
    return this.stream(opSeed).uniform(shape, -limit, limit);
  }
}
