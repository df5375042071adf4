/**
 * The sweep's configurations: one layer (Conv2D, BatchNormalization, Max/AveragePooling2D, Dense)
 * or one notebook block, with its batch, sizes and a value seed. A configuration is a pure function
 * of (seed, index); its model, weights and input are a pure function of the configuration, so a
 * failure is reproduced from its JSON alone.
 */
import { convolutionalBlock, identityBlock } from '../model/builders';
import { GraphBuilder } from '../model/graph-builder';
import { windowOutput } from '../model/shapes';
import type { LayerSpec, ModelSpec, ModelWeights, Padding, WeightTensor } from '../model/types';
import type { Tensor } from '../tensor';
import { deriveSeed, Rng } from './rng';

export const SWEEP_KINDS = ['conv', 'bn', 'pool', 'dense', 'block'] as const;
export type SweepKind = (typeof SWEEP_KINDS)[number];

export function isSweepKind(v: string): v is SweepKind {
  return (SWEEP_KINDS as readonly string[]).includes(v);
}

/**
 * `spread`: exact zeros, negatives and magnitudes over 2^-5..2^2 (float32 values);
 * `quarters`: multiples of 1/4 in [-1, 1] (the shrinker's simpler values: every product and short
 * sum is exact in float32, so a correct kernel gives the exact result).
 */
export type ValueStyle = 'spread' | 'quarters';

export interface SweepConfig {
  kind: SweepKind;
  batch: number;
  h: number;
  w: number;
  /** Input channels. */
  cin: number;
  /** conv: filters; dense: units; otherwise unused (0). */
  cout: number;
  /** conv: kernel size; pool: pool size; block: f. */
  kernel: number;
  /** conv/pool/block: stride (block: s of the convolutional block; 1 for identity). */
  stride: number;
  /** conv/pool: padding (blocks fix their own). */
  padding: Padding;
  /** pool only. */
  pool?: 'max' | 'avg';
  /** block only. */
  block?: 'identity' | 'convolutional';
  /** block only: F1, F2, F3 (identity: F3 = cin). */
  filters?: [number, number, number];
  /** BatchNormalization mode (bn and block; false elsewhere). */
  training: boolean;
  values: ValueStyle;
  /** Seed of the inputs and weights. */
  valueSeed: number;
}

/** The channel counts the issue names (odd, prime, one past a vector width). */
export const EDGE_CHANNELS = [1, 3, 5, 7, 13, 17, 65];

/** Multiply-accumulates of a configuration (the cost cap of the generator). */
export function configCost(c: SweepConfig): number {
  switch (c.kind) {
    case 'conv': {
      const oh = windowOutput(c.h, c.kernel, c.stride, c.padding);
      const ow = windowOutput(c.w, c.kernel, c.stride, c.padding);
      return c.batch * oh * ow * c.cout * c.kernel * c.kernel * c.cin;
    }
    case 'dense':
      return c.batch * c.h * c.w * c.cin * c.cout;
    case 'block': {
      const [f1, f2, f3] = c.filters!;
      const hw = c.h * c.w;
      return c.batch * hw * (c.cin * f1 + f1 * f2 * c.kernel * c.kernel + f2 * f3 + c.cin * f3);
    }
    default:
      return c.batch * c.h * c.w * c.cin * Math.max(1, c.kernel * c.kernel);
  }
}

/** Why a configuration cannot be built (null: it can). */
export function configProblem(c: SweepConfig): string | null {
  const pos = (v: number) => Number.isInteger(v) && v >= 1;
  if (![c.batch, c.h, c.w, c.cin].every(pos)) return 'batch, h, w and cin must be positive integers';
  if (c.kind === 'conv' || c.kind === 'pool') {
    if (!pos(c.kernel) || !pos(c.stride)) return 'kernel and stride must be positive integers';
    if (c.padding === 'valid' && (c.h < c.kernel || c.w < c.kernel)) return "'valid' window larger than the input";
  }
  if ((c.kind === 'conv' || c.kind === 'dense') && !pos(c.cout)) return 'cout must be a positive integer';
  if (c.kind === 'block') {
    if (!c.filters || !c.filters.every(pos) || !pos(c.kernel) || !pos(c.stride)) return 'bad block arguments';
    if (c.block === 'identity' && (c.filters[2] !== c.cin || c.stride !== 1))
      return 'identity block needs F3 = cin and stride 1';
  }
  return null;
}

/** A short stable text of a configuration (report rows, group keys). */
export function describeConfig(c: SweepConfig): string {
  const io = `x[${c.batch},${c.h},${c.w},${c.cin}]`;
  const v = `${c.values}#${c.valueSeed}`;
  switch (c.kind) {
    case 'conv':
      return `Conv2D ${io} k${c.kernel} s${c.stride} ${c.padding} -> ${c.cout} (${v})`;
    case 'bn':
      return `BatchNormalization ${io} training=${c.training} (${v})`;
    case 'pool':
      return `${c.pool === 'max' ? 'MaxPooling2D' : 'AveragePooling2D'} ${io} pool ${c.kernel} s${c.stride} ${c.padding} (${v})`;
    case 'dense':
      return `Flatten+Dense ${io} -> ${c.cout} (${v})`;
    case 'block':
      return `${c.block}_block ${io} f${c.kernel} s${c.stride} filters ${c.filters!.join(',')} training=${c.training} (${v})`;
  }
}

function pickChannels(r: Rng): number {
  return r.chance(0.5) ? r.pick(EDGE_CHANNELS) : r.int(1, 67);
}

/** A spatial size biased to the edges around `k`: below, equal, one above, tiny, or anything in 1..max. */
function pickSize(r: Rng, k: number, max: number): number {
  const u = r.next();
  if (u < 0.3) return Math.min(max, k);
  if (u < 0.45) return Math.max(1, Math.min(max, k + r.pick([-1, 1])));
  if (u < 0.6) return r.int(1, 3);
  return r.int(1, max);
}

/** A window size over 1..max, half the time one of the small ones networks use most (1, 2, 3). */
function pickKernel(r: Rng, max: number): number {
  return r.chance(0.5) ? r.int(1, Math.min(3, max)) : r.int(1, max);
}

/** A stride over 1..4, biased to 1 and 2. */
function pickStride(r: Rng): number {
  const u = r.next();
  return u < 0.5 ? 1 : u < 0.75 ? 2 : r.int(3, 4);
}

/** Largest multiply-accumulate count a generated configuration may have (keeps the oracle and slow adapters fast). */
export const MAX_COST = 1_500_000;

function capCost(c: SweepConfig, maxCost: number): SweepConfig {
  const x = { ...c };
  // Halve the largest of the free sizes until under the cap (deterministic; edges stay edges
  // often enough since the cap rarely binds for small sizes).
  for (let guard = 0; configCost(x) > maxCost && guard < 64; guard++) {
    const cands: Array<keyof SweepConfig> = ['h', 'w', 'batch', 'cin', 'cout'];
    let best: keyof SweepConfig = 'h';
    for (const k of cands) if ((x[k] as number) > (x[best] as number)) best = k;
    if (x.kind === 'block' && (best === 'cin' || best === 'cout')) best = x.h >= x.w ? 'h' : 'w';
    const v = Math.max(1, Math.floor((x[best] as number) / 2));
    (x[best] as number) = v;
    if (x.padding === 'valid' && (x.h < x.kernel || x.w < x.kernel)) x.padding = 'same';
  }
  return x;
}

/**
 * The configuration number `index` of the sweep `seed` over `kinds` (round robin over kinds), its
 * sizes halved until it costs at most `maxCost` multiply-accumulates (the unit tests use small ones).
 */
export function generateConfig(
  seed: number,
  index: number,
  kinds: readonly SweepKind[],
  maxCost = MAX_COST,
): SweepConfig {
  const kind = kinds[index % kinds.length];
  const r = new Rng(deriveSeed(seed, index));
  const batch = r.chance(0.4) ? 1 : r.int(1, 9);
  const base = { batch, training: false, values: 'spread' as ValueStyle, valueSeed: r.int(0, 2 ** 31 - 1) };
  let c: SweepConfig;
  switch (kind) {
    case 'conv': {
      const kernel = pickKernel(r, 7);
      const stride = pickStride(r);
      let padding: Padding = r.chance(0.5) ? 'same' : 'valid';
      const h = pickSize(r, kernel, 33);
      const w = r.chance(0.5) ? h : pickSize(r, kernel, 33);
      if (padding === 'valid' && (h < kernel || w < kernel)) padding = 'same';
      c = { ...base, kind, h, w, cin: pickChannels(r), cout: pickChannels(r), kernel, stride, padding };
      break;
    }
    case 'bn': {
      const h = r.int(1, 17);
      c = {
        ...base,
        kind,
        h,
        w: r.chance(0.5) ? h : r.int(1, 17),
        cin: pickChannels(r),
        cout: 0,
        kernel: 0,
        stride: 0,
        padding: 'valid',
        training: r.chance(0.5),
      };
      break;
    }
    case 'pool': {
      const kernel = pickKernel(r, 4);
      const stride = pickStride(r);
      let padding: Padding = r.chance(0.5) ? 'same' : 'valid';
      const h = pickSize(r, kernel, 33);
      const w = r.chance(0.5) ? h : pickSize(r, kernel, 33);
      if (padding === 'valid' && (h < kernel || w < kernel)) padding = 'same';
      c = { ...base, kind, h, w, cin: pickChannels(r), cout: 0, kernel, stride, padding };
      c.pool = r.chance(0.5) ? 'max' : 'avg';
      break;
    }
    case 'dense': {
      const h = r.int(1, 5);
      c = {
        ...base,
        kind,
        h,
        w: r.int(1, 5),
        cin: pickChannels(r),
        cout: pickChannels(r),
        kernel: 0,
        stride: 0,
        padding: 'valid',
      };
      break;
    }
    case 'block': {
      const block = r.chance(0.5) ? 'identity' : 'convolutional';
      const filters: [number, number, number] = [r.int(1, 9), r.int(1, 9), r.int(1, 9)];
      const h = r.int(1, 12);
      c = {
        ...base,
        kind,
        block,
        h,
        w: r.chance(0.5) ? h : r.int(1, 12),
        cin: block === 'identity' ? filters[2] : r.int(1, 9),
        cout: 0,
        kernel: r.int(1, 4),
        stride: block === 'identity' ? 1 : r.int(1, 3),
        padding: 'same',
        filters,
        training: r.chance(0.5),
      };
      break;
    }
  }
  return capCost(c, maxCost);
}

/** Float32 values of one tensor. `role` positive: BatchNormalization moving variance. */
function values(r: Rng, n: number, style: ValueStyle, role: 'data' | 'positive', scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (style === 'quarters') {
      out[i] = role === 'positive' ? r.int(1, 8) / 4 : r.int(-4, 4) / 4;
      continue;
    }
    if (role === 'positive') {
      out[i] = Math.fround(0.25 + r.next() * 3.75);
      continue;
    }
    if (r.chance(0.08)) {
      out[i] = 0;
      continue;
    }
    const mag = (1 + r.next()) * 2 ** r.int(-5, 1) * scale;
    out[i] = Math.fround(r.chance(0.5) ? -mag : mag);
  }
  return out;
}

/** A power of two near 1/sqrt(fanIn) (exact scaling, keeps block activations in range). */
function fanScale(fanIn: number): number {
  return 2 ** -Math.floor(Math.log2(Math.sqrt(Math.max(1, fanIn))));
}

export interface SweepCase {
  spec: ModelSpec;
  weights: ModelWeights;
  input: Tensor;
  training: boolean;
}

function weightsFor(spec: ModelSpec, r: Rng, style: ValueStyle): ModelWeights {
  const byName = new Map(spec.layers.map((l) => [l.name, l]));
  const inC = (l: LayerSpec): number => {
    const s = byName.get(l.inbound[0])!.outputShape;
    return s[s.length - 1];
  };
  const wt = (name: string, shape: number[], data: Float32Array, trainable = true): WeightTensor => ({
    name,
    shape,
    data,
    trainable,
  });
  const weights: ModelWeights = new Map();
  for (const l of spec.layers) {
    if (l.className === 'Conv2D') {
      const [kh, kw] = l.kernelSize;
      const cin = inC(l);
      const n = kh * kw * cin * l.filters;
      weights.set(l.name, [
        wt('kernel', [kh, kw, cin, l.filters], values(r, n, style, 'data', fanScale(kh * kw * cin))),
        wt('bias', [l.filters], values(r, l.filters, style, 'data')),
      ]);
    } else if (l.className === 'Dense') {
      const din = byName.get(l.inbound[0])!.outputShape[0];
      weights.set(l.name, [
        wt('kernel', [din, l.units], values(r, din * l.units, style, 'data', fanScale(din))),
        wt('bias', [l.units], values(r, l.units, style, 'data')),
      ]);
    } else if (l.className === 'BatchNormalization') {
      const c = l.outputShape[l.outputShape.length - 1];
      weights.set(l.name, [
        wt('gamma', [c], values(r, c, style, 'data')),
        wt('beta', [c], values(r, c, style, 'data')),
        wt('moving_mean', [c], values(r, c, style, 'data'), false),
        wt('moving_variance', [c], values(r, c, style, 'positive'), false),
      ]);
    }
  }
  return weights;
}

function singleLayerSpec(c: SweepConfig): ModelSpec {
  const g = new GraphBuilder();
  const x = g.input([c.h, c.w, c.cin]);
  let out;
  switch (c.kind) {
    case 'conv':
      out = g.conv2D(x, {
        filters: c.cout,
        kernel: c.kernel,
        strides: c.stride,
        padding: c.padding,
        init: { kind: 'zeros' },
      });
      break;
    case 'bn':
      out = g.batchNorm(x, null);
      break;
    case 'dense':
      out = g.dense(g.flatten(x), c.cout, 'linear', { kind: 'zeros' });
      break;
    case 'pool': {
      const oh = windowOutput(c.h, c.kernel, c.stride, c.padding);
      const ow = windowOutput(c.w, c.kernel, c.stride, c.padding);
      const max = c.pool === 'max';
      const layer: LayerSpec = {
        className: max ? 'MaxPooling2D' : 'AveragePooling2D',
        name: max ? 'max_pooling2d' : 'average_pooling2d',
        inbound: [x.layer],
        poolSize: [c.kernel, c.kernel],
        strides: [c.stride, c.stride],
        padding: c.padding,
        outputShape: [oh, ow, c.cin],
      };
      g.layers.push(layer);
      out = { layer: layer.name, shape: layer.outputShape };
      break;
    }
    default:
      throw new Error(`singleLayerSpec: ${c.kind} is not a single layer`);
  }
  return {
    model: 'layer',
    args: { sweep: describeConfig(c) },
    layers: g.layers,
    input: g.layers[0].name,
    output: out.layer,
    boundaries: [{ label: 'output', layer: out.layer }],
  };
}

/** The model, weights and input of a configuration (throws with the reason when it cannot be built). */
export function buildSweepCase(c: SweepConfig): SweepCase {
  const problem = configProblem(c);
  if (problem) throw new Error(`sweep configuration ${describeConfig(c)}: ${problem}`);
  let spec: ModelSpec;
  if (c.kind === 'block') {
    const inputShape: [number, number, number] = [c.h, c.w, c.cin];
    spec =
      c.block === 'identity'
        ? identityBlock(c.kernel, c.filters!, { inputShape, training: c.training })
        : convolutionalBlock(c.kernel, c.filters!, c.stride, { inputShape, training: c.training });
  } else {
    spec = singleLayerSpec(c);
  }
  const r = new Rng(c.valueSeed);
  const input: Tensor = {
    shape: [c.batch, c.h, c.w, c.cin],
    data: values(r, c.batch * c.h * c.w * c.cin, c.values, 'data'),
  };
  const weights = weightsFor(spec, r, c.values);
  return { spec, weights, input, training: c.kind === 'bn' || c.kind === 'block' ? c.training : false };
}
