/**
 * The "perturbed parameters" weight set (fixture cases whose `weights.perturb` names it): seeded,
 * deterministic values for every conv/dense bias and every BatchNormalization gamma, beta, moving
 * mean and moving variance, on top of the notebook's seeded initial kernels (kept as they are).
 *
 * A freshly initialised notebook model has biases 0, gamma 1, beta 0, moving mean 0 and moving
 * variance 1, so a runtime that never reads those parameters passes cases built from it; these
 * cases make every parameter count (issue 23).
 *
 * The TypeScript twin of fixtures/generate/perturb.py, which gives the recipe (and produced the
 * golden values): both must give bit-identical float32 values, which the manifest's per-case
 * sha256 of the perturbed tensors checks on every build (perturbModelWeights throws on a mismatch).
 * Integer hashing only, then float64 +, * and exact powers of two, rounded once to float32
 * (Math.fround: round to nearest even, as NumPy's astype(float32)).
 */
import { createHash } from 'crypto';
import { endianness } from 'os';
import type { ModelWeights, WeightTensor } from '../model/types';

export const PERTURB_RECIPE = 'perturbed-parameters-v1';
const LITTLE_ENDIAN = endianness() === 'LE';
const PERTURBED = new Set(['bias', 'gamma', 'beta', 'moving_mean', 'moving_variance']);

export interface PerturbRecipe {
  recipe: string;
  seed: number;
}

/** 32-bit FNV-1a of the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** murmur3's 32-bit finaliser. */
export function fmix32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The recipe's float32 values of tensor `layer/name` (n of them), or null for a tensor it keeps. */
export function perturbedValues(p: PerturbRecipe, layer: string, name: string, n: number): Float32Array | null {
  if (p.recipe !== PERTURB_RECIPE)
    throw new Error(`weights.perturb: unknown recipe '${p.recipe}' (this harness knows '${PERTURB_RECIPE}')`);
  if (!PERTURBED.has(name)) return null;
  const key = fnv1a32(`${p.recipe}/${p.seed}/${layer}/${name}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const h0 = fmix32((key ^ fmix32(2 * i)) >>> 0);
    const a = (h0 >>> 8) / 2 ** 24;
    let v: number;
    switch (name) {
      case 'bias':
        v = (a - 0.5) * 0.5;
        break;
      case 'gamma':
        v = 0.5 + a;
        break;
      case 'beta':
      case 'moving_mean':
        v = a - 0.5;
        break;
      default: {
        const h1 = fmix32((key ^ fmix32(2 * i + 1)) >>> 0);
        v = (1 + a) * 2 ** ((h1 % 6) - 2);
      }
    }
    out[i] = Math.fround(v);
  }
  return out;
}

export interface PerturbedWeights {
  weights: ModelWeights;
  /** sha256 over the replaced tensors' float32 little-endian bytes, in sorted `<layer>/<name>` order. */
  sha256: string;
}

/**
 * `weights` with the recipe's tensors replaced by new ones (the input is not modified; kept tensors
 * are shared). Throws when `expectedSha256` is given and the values' digest differs (the recipe here
 * and the generator's disagree: the golden values were not made with these weights).
 */
export function perturbModelWeights(
  weights: ModelWeights,
  p: PerturbRecipe,
  expectedSha256?: string,
): PerturbedWeights {
  const out: ModelWeights = new Map();
  const changed = new Map<string, Float32Array>();
  for (const [layer, list] of weights) {
    out.set(
      layer,
      list.map((w): WeightTensor => {
        const data = perturbedValues(p, layer, w.name, w.data.length);
        if (!data) return w;
        changed.set(`${layer}/${w.name}`, data);
        return { ...w, shape: [...w.shape], data };
      }),
    );
  }
  const h = createHash('sha256');
  for (const k of [...changed.keys()].sort()) {
    const d = changed.get(k)!;
    if (LITTLE_ENDIAN) h.update(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    else {
      const le = Buffer.alloc(d.length * 4);
      for (let i = 0; i < d.length; i++) le.writeFloatLE(d[i], i * 4);
      h.update(le);
    }
  }
  const sha256 = h.digest('hex');
  if (expectedSha256 !== undefined && sha256 !== expectedSha256)
    throw new Error(
      `weights.perturb ${p.recipe} seed ${p.seed}: the perturbed tensors' sha256 is ${sha256}, the fixture records ${expectedSha256} (src/init/perturb.ts and fixtures/generate/perturb.py disagree)`,
    );
  return { weights: out, sha256 };
}
