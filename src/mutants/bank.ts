/**
 * The mutant bank: realistic kernel and converter defects, each ONE change to the float32
 * reference runtime (`reference-fp32`), plus negative controls that a conformant runtime may
 * legitimately do and that must pass. docs/mutants.md lists them with what catches each one.
 *
 * A mutant names the layers it changes in a model (`targets`), and changes them either through the
 * reference executor's per-layer seam (`evaluate`: src/adapters/reference/interpreter.ts
 * LayerOverride) or, for wiring defects a converter makes, by rewiring the graph the executor runs
 * (`rewire`). `inert` says why, at one targeted layer, the change cannot alter any value whatever
 * the weights and input (e.g. moving the extra 'same' padding where the padding is symmetric): a
 * mutant whose every target in every model of the case set is inert, or that targets nothing, is
 * *equivalent* for that case set and is listed with those reasons instead of being scored.
 */
import type { PrecisionProfile } from '../adapters/types';
import { prepareLayer, type LayerEvaluation, type PreparedLayer } from '../adapters/reference/interpreter';
import { layerRoles } from '../diagnose/roles';
import { samePadding } from '../model/shapes';
import type {
  AddSpec,
  BatchNormalizationSpec,
  Conv2DSpec,
  DenseSpec,
  LayerSpec,
  ModelSpec,
  ModelWeights,
} from '../model/types';
import {
  convWithGeometry,
  defectiveBatchNorm,
  editProduct,
  firstImageEverywhere,
  flattenChannelMajor,
  permuteTaps,
  poolWith,
  replaceLinear,
  reverseChannels,
  roundedAccumulationConv,
  roundToFloat32,
  roundToFp16,
  softmaxOverBatch,
  ulpAwayFromZero,
  withInput,
  withWeights,
  type BatchNormDefect,
} from './kernels';

export type MutantKind = 'mutant' | 'control';

export type MutantCategory =
  | 'padding'
  | 'kernel layout'
  | 'stride'
  | 'channels'
  | 'bias'
  | 'batchnorm'
  | 'activation'
  | 'shortcut'
  | 'pooling'
  | 'flatten/softmax'
  | 'precision'
  | 'batch/size'
  | 'control';

export interface LayerContext {
  spec: ModelSpec;
  weights: ModelWeights;
  prepared: PreparedLayer;
}

export interface Mutant {
  /** Stable id (the adapter id is `mutant-<id>`). */
  id: string;
  kind: MutantKind;
  category: MutantCategory;
  /** What the defective runtime does, in one line. */
  title: string;
  /** The layers of `spec` it changes (creation order); empty when the model has none. */
  targets(spec: ModelSpec): string[];
  /** Why the change is the identity at target `l` of `spec` whatever the weights and input (undefined: it is not). */
  inert?(l: LayerSpec, spec: ModelSpec): string | undefined;
  /** The replacement evaluation of a target layer (through the executor's per-layer seam). */
  evaluate?(l: LayerSpec, ctx: LayerContext): LayerEvaluation;
  /** The rewired graph the defective runtime executes (same layer names and shapes). */
  rewire?(spec: ModelSpec, targets: readonly string[]): ModelSpec;
  /** What a case needs so that this mutant changes its values (reported for survivors). */
  needs: string;
  /** The tolerance column its results are judged by (default fp32-cpu). */
  profile?: PrecisionProfile;
}

// ---------------------------------------------------------------------------------------------
// Layer selection

const ofClass =
  <T extends LayerSpec>(cls: T['className'], pred: (l: T, spec: ModelSpec) => boolean = () => true) =>
  (spec: ModelSpec): string[] =>
    spec.layers.filter((l): l is T => l.className === cls && pred(l as T, spec)).map((l) => l.name);

const firstOf =
  (select: (spec: ModelSpec) => string[]) =>
  (spec: ModelSpec): string[] =>
    select(spec).slice(0, 1);

const withRole =
  (role: string) =>
  (spec: ModelSpec): string[] => {
    const roles = layerRoles(spec);
    return spec.layers.filter((l) => roles.get(l.name)?.role === role).map((l) => l.name);
  };

function layerOf(spec: ModelSpec, name: string): LayerSpec {
  const l = spec.layers.find((x) => x.name === name);
  if (!l) throw new Error(`mutant: no layer '${name}' in ${spec.model}`);
  return l;
}

/** [h, w] of the input of `l` (its first inbound layer's output). */
function inputHW(l: LayerSpec, spec: ModelSpec): [number, number] {
  const src = layerOf(spec, l.inbound[0]);
  return [src.outputShape[0], src.outputShape[1]];
}

const conv = (l: LayerSpec): Conv2DSpec => l as Conv2DSpec;
const bn = (l: LayerSpec): BatchNormalizationSpec => l as BatchNormalizationSpec;
const hasSpatialKernel = (l: Conv2DSpec): boolean => l.kernelSize[0] * l.kernelSize[1] > 1;

/** Returns a copy of `spec` whose layers are in an order where every layer follows its inbound layers. */
function topoSorted(spec: ModelSpec, layers: LayerSpec[]): ModelSpec {
  const done = new Set<string>();
  const out: LayerSpec[] = [];
  const pending = [...layers];
  while (pending.length) {
    const i = pending.findIndex((l) => l.inbound.every((s) => done.has(s)));
    if (i < 0) throw new Error(`mutant: rewired ${spec.model} has a cycle`);
    const [l] = pending.splice(i, 1);
    out.push(l);
    done.add(l.name);
  }
  return { ...spec, layers: out };
}

/** Copies `spec` with inbound lists changed: `edits` maps a layer name to its new inbound list. */
function rewired(spec: ModelSpec, edits: Record<string, string[]>): ModelSpec {
  return topoSorted(
    spec,
    spec.layers.map((l) => (edits[l.name] ? ({ ...l, inbound: edits[l.name] } as LayerSpec) : l)),
  );
}

/** Layers that take `name` as an input. */
const consumers = (spec: ModelSpec, name: string): LayerSpec[] => spec.layers.filter((l) => l.inbound.includes(name));

/** The first Conv2D → BatchNormalization → Activation chain of a model: [conv, bn, relu]. */
function firstConvBnRelu(spec: ModelSpec): [string, string, string] | undefined {
  for (const c of spec.layers) {
    if (c.className !== 'Conv2D') continue;
    const b = consumers(spec, c.name).find((l) => l.className === 'BatchNormalization');
    const r = b && consumers(spec, b.name).find((l) => l.className === 'Activation');
    if (b && r) return [c.name, b.name, r.name];
  }
  return undefined;
}

/** The first Add and, of its operands, the main path's (role 'bn 3') and the other one. */
function firstAdd(spec: ModelSpec): { add: AddSpec; main: string; other: string } | undefined {
  const add = spec.layers.find((l): l is AddSpec => l.className === 'Add');
  if (!add) return undefined;
  const roles = layerRoles(spec);
  const main = add.inbound.find((s) => roles.get(s)?.role === 'bn 3');
  if (!main) return undefined;
  return { add, main, other: add.inbound.find((s) => s !== main) ?? main };
}

// ---------------------------------------------------------------------------------------------
// Builders for families of mutants

function batchNormMutant(
  id: string,
  title: string,
  d: BatchNormDefect,
  needs: string,
  inert?: Mutant['inert'],
): Mutant {
  return {
    id,
    kind: 'mutant',
    category: 'batchnorm',
    title,
    targets: ofClass('BatchNormalization'),
    evaluate: (l, ctx) => defectiveBatchNorm(bn(l), ctx.prepared, d),
    needs,
    ...(inert ? { inert } : {}),
  };
}

function biasMutant(cls: 'Conv2D' | 'Dense', change: 'dropped' | 'doubled'): Mutant {
  const word = cls === 'Conv2D' ? 'conv' : 'dense';
  return {
    id: `${word}-bias-${change}`,
    kind: 'mutant',
    category: 'bias',
    title: `every ${cls} ${change === 'dropped' ? 'ignores its bias' : 'adds its bias twice (bias fused in and added again)'}`,
    targets: ofClass(cls),
    evaluate: (l, ctx) =>
      withWeights(
        l,
        replaceLinear(l, ctx.prepared, {
          bias: (b) => (change === 'dropped' ? new Float64Array(b.length) : b.map((v) => 2 * v)),
        }),
      ),
    needs:
      cls === 'Conv2D'
        ? 'non-zero Conv2D biases in an inference-mode case (in training mode the following BatchNormalization subtracts the batch mean, which cancels a per-channel constant)'
        : 'non-zero Dense biases (ResNet-50 cases)',
  };
}

// ---------------------------------------------------------------------------------------------
// The bank

export const MUTANTS: readonly Mutant[] = [
  {
    id: 'conv-same-pad-top-left',
    kind: 'mutant',
    category: 'padding',
    title: "'same' padding: the extra row/column at the top/left (SAME_LOWER) instead of bottom/right (TF)",
    targets: ofClass<Conv2DSpec>('Conv2D', (l) => l.padding === 'same'),
    inert: (l, spec) => {
      const c = conv(l);
      const [h, w] = inputHW(l, spec);
      const [t, b] = samePadding(h, c.kernelSize[0], c.strides[0]);
      const [le, r] = samePadding(w, c.kernelSize[1], c.strides[1]);
      return t === b && le === r ? `pads symmetrically (${t},${b})x(${le},${r}): odd kernel at stride 1` : undefined;
    },
    evaluate: (l, ctx) => editProduct(conv(l), ctx.prepared, () => undefined, { samePadding: 'before' }),
    needs: "an even kernel size (f=2, f=4) in a 'same' convolution",
  },
  {
    id: 'conv-same-pad-amount-at-stride',
    kind: 'mutant',
    category: 'padding',
    title: "'same' padding amount computed as for stride 1 (k-1 in total) in strided convolutions",
    targets: ofClass<Conv2DSpec>('Conv2D', (l) => l.padding === 'same' && (l.strides[0] > 1 || l.strides[1] > 1)),
    evaluate: (l, ctx) =>
      convWithGeometry(conv(l), ctx.prepared, (g) => ({
        ...g,
        padTop: Math.floor((g.kh - 1) / 2),
        padLeft: Math.floor((g.kw - 1) / 2),
      })),
    needs: "a 'same' Conv2D with stride > 1 (the notebook's models have none: their strided convolutions are 'valid')",
  },
  {
    id: 'conv-kernel-flipped',
    kind: 'mutant',
    category: 'kernel layout',
    title: 'every Conv2D kernel rotated by 180° (true convolution instead of cross-correlation)',
    targets: ofClass<Conv2DSpec>('Conv2D', hasSpatialKernel),
    evaluate: (l, ctx) => {
      const [kh, kw] = conv(l).kernelSize;
      return withWeights(
        l,
        replaceLinear(l, ctx.prepared, {
          kernel: (k) => permuteTaps(conv(l), k, (ky, kx) => [kh - 1 - ky, kw - 1 - kx]),
        }),
      );
    },
    needs: 'a kernel that is not symmetric under rotation (random weights; constant kernels hide it)',
  },
  {
    id: 'conv-kernel-hw-transposed',
    kind: 'mutant',
    category: 'kernel layout',
    title: 'every Conv2D kernel read with H and W swapped (HWIO taken as WHIO)',
    targets: ofClass<Conv2DSpec>('Conv2D', (l) => hasSpatialKernel(l) && l.kernelSize[0] === l.kernelSize[1]),
    evaluate: (l, ctx) =>
      withWeights(l, replaceLinear(l, ctx.prepared, { kernel: (k) => permuteTaps(conv(l), k, (ky, kx) => [kx, ky]) })),
    needs: 'a kernel that is not symmetric under transposition (random weights)',
  },
  {
    id: 'conv-stride-off-by-one',
    kind: 'mutant',
    category: 'stride',
    title: 'the first strided Conv2D reads its input at stride s+1 (output size from the graph)',
    targets: firstOf(ofClass<Conv2DSpec>('Conv2D', (l) => l.strides[0] > 1 || l.strides[1] > 1)),
    evaluate: (l, ctx) => convWithGeometry(conv(l), ctx.prepared, (g) => ({ ...g, sh: g.sh + 1, sw: g.sw + 1 })),
    needs: 'a Conv2D with stride > 1 (convolutional block, ResNet-50)',
  },
  {
    id: 'conv-input-channels-reversed',
    kind: 'mutant',
    category: 'channels',
    title: "the model's first Conv2D reads its input channels in reverse order (RGB/BGR confusion)",
    targets: firstOf(ofClass('Conv2D')),
    inert: (l, spec) => (layerOf(spec, l.inbound[0]).outputShape[2] === 1 ? 'one input channel' : undefined),
    evaluate: (l, ctx) => withInput(l, ctx.prepared, reverseChannels),
    needs: 'an input whose channels differ and kernels that differ per input channel',
  },
  biasMutant('Conv2D', 'dropped'),
  biasMutant('Conv2D', 'doubled'),
  biasMutant('Dense', 'dropped'),
  biasMutant('Dense', 'doubled'),
  batchNormMutant(
    'bn-epsilon-1e-5',
    "every BatchNormalization uses epsilon 1e-5 (PyTorch's default) instead of the layer's",
    { epsilon: 1e-5 },
    'any case (the variance is close to 1, so epsilon matters at the 1e-4 level)',
    (l) =>
      bn(l).epsilon === roundToFloat32(1e-5) || bn(l).epsilon === 1e-5 ? "the layer's epsilon is 1e-5" : undefined,
  ),
  batchNormMutant(
    'bn-moving-mean-ignored',
    'inference-mode BatchNormalization ignores the moving mean (uses 0)',
    { meanZero: true },
    'a non-zero moving mean in an inference-mode case (freshly initialised models have 0)',
  ),
  batchNormMutant(
    'bn-moving-variance-ignored',
    'inference-mode BatchNormalization ignores the moving variance (uses 1)',
    { varianceOne: true },
    'a moving variance other than 1 in an inference-mode case (freshly initialised models have 1)',
  ),
  batchNormMutant(
    'bn-variance-without-epsilon',
    'BatchNormalization divides by sqrt(variance) without adding epsilon',
    { epsilon: 0 },
    'any case',
  ),
  batchNormMutant(
    'bn-gamma-ignored',
    'BatchNormalization ignores gamma (uses 1)',
    { gammaOne: true },
    'gamma other than 1 (freshly initialised models have 1)',
  ),
  batchNormMutant(
    'bn-beta-ignored',
    'BatchNormalization ignores beta (uses 0)',
    { betaZero: true },
    'beta other than 0 (freshly initialised models have 0)',
  ),
  batchNormMutant(
    'bn-gamma-beta-swapped',
    'BatchNormalization takes gamma for beta and beta for gamma (weights loaded in the wrong order)',
    { swapGammaBeta: true },
    'gamma different from beta (true of any initialisation: 1 and 0)',
  ),
  batchNormMutant(
    'bn-unbiased-batch-variance',
    'training-mode BatchNormalization normalizes with the unbiased batch variance (n-1)',
    { unbiasedVariance: true },
    'a training-mode case',
  ),
  batchNormMutant(
    'bn-per-sample-statistics',
    'training-mode BatchNormalization takes statistics per sample (over H,W) instead of over N,H,W',
    { perSample: true },
    'a training-mode case with batch > 1 and distinct images',
  ),
  batchNormMutant(
    'bn-training-flag-ignored',
    'BatchNormalization always uses the moving statistics (training=True ignored)',
    { statistics: 'moving' },
    'a training-mode case',
  ),
  batchNormMutant(
    'bn-always-batch-statistics',
    'BatchNormalization always uses batch statistics (training=False ignored)',
    { statistics: 'batch' },
    'an inference-mode case',
  ),
  {
    id: 'relu-missing',
    kind: 'mutant',
    category: 'activation',
    title: "the model's first ReLU is missing (the activation is the identity)",
    targets: firstOf(ofClass('Activation')),
    evaluate: () => (inputs) => ({ output: Float64Array.from(inputs[0].data) }),
    needs: 'negative values before the ReLU (any case)',
  },
  {
    id: 'relu-before-batchnorm',
    kind: 'mutant',
    category: 'activation',
    title: 'the first Conv2D → BatchNormalization → ReLU runs as Conv2D → ReLU → BatchNormalization',
    targets: (spec) => {
      const t = firstConvBnRelu(spec);
      return t ? [t[1], t[2]] : [];
    },
    rewire: (spec) => {
      const [c, b, r] = firstConvBnRelu(spec)!;
      const edits: Record<string, string[]> = { [r]: [c], [b]: [r] };
      for (const u of consumers(spec, r)) edits[u.name] = u.inbound.map((s) => (s === r ? b : s));
      return rewired(spec, edits);
    },
    needs: 'any case',
  },
  {
    id: 'relu-before-add',
    kind: 'mutant',
    category: 'activation',
    title: "the first block's output ReLU is applied to the main path before the Add instead of after it",
    targets: (spec) => {
      const a = firstAdd(spec);
      const r = a && consumers(spec, a.add.name).find((l) => l.className === 'Activation');
      return a && r ? [a.add.name, r.name] : [];
    },
    rewire: (spec) => {
      const a = firstAdd(spec)!;
      const r = consumers(spec, a.add.name).find((l) => l.className === 'Activation')!;
      const edits: Record<string, string[]> = {
        [r.name]: [a.main],
        [a.add.name]: a.add.inbound.map((s) => (s === a.main ? r.name : s)),
      };
      for (const u of consumers(spec, r.name)) edits[u.name] = u.inbound.map((s) => (s === r.name ? a.add.name : s));
      return rewired(spec, edits);
    },
    needs: 'any case',
  },
  {
    id: 'shortcut-bn-missing',
    kind: 'mutant',
    category: 'shortcut',
    title: "convolutional blocks' shortcut BatchNormalization is skipped",
    targets: withRole('shortcut bn'),
    evaluate: () => (inputs) => ({ output: Float64Array.from(inputs[0].data) }),
    needs: 'a convolutional block',
  },
  {
    id: 'shortcut-conv-missing',
    kind: 'mutant',
    category: 'shortcut',
    title: "convolutional blocks' shortcut Conv2D is skipped (its BatchNormalization reads the block input)",
    targets: withRole('shortcut bn'),
    rewire: (spec, targets) =>
      rewired(spec, Object.fromEntries(targets.map((b) => [b, layerOf(spec, layerOf(spec, b).inbound[0]).inbound]))),
    needs: 'a convolutional block (the shapes then disagree at the Add: the run fails)',
  },
  {
    id: 'add-reads-pre-bn',
    kind: 'mutant',
    category: 'shortcut',
    title: "the first Add reads the main path's last Conv2D output instead of its BatchNormalization output",
    targets: (spec) => {
      const a = firstAdd(spec);
      return a ? [a.add.name] : [];
    },
    rewire: (spec) => {
      const a = firstAdd(spec)!;
      const pre = layerOf(spec, a.main).inbound[0];
      return rewired(spec, { [a.add.name]: a.add.inbound.map((s) => (s === a.main ? pre : s)) });
    },
    needs: 'any case',
  },
  {
    id: 'add-shortcut-aliased',
    kind: 'mutant',
    category: 'shortcut',
    title: 'the first Add adds the main path to itself (its shortcut operand aliased to the main buffer)',
    targets: (spec) => {
      const a = firstAdd(spec);
      return a ? [a.add.name] : [];
    },
    rewire: (spec) => {
      const a = firstAdd(spec)!;
      return rewired(spec, { [a.add.name]: [a.main, a.main] });
    },
    needs: 'any case',
  },
  {
    id: 'maxpool-window-off-by-one',
    kind: 'mutant',
    category: 'pooling',
    title: 'MaxPooling2D uses a window one smaller (2x2 instead of 3x3), output size from the graph',
    targets: ofClass('MaxPooling2D'),
    evaluate: (l, ctx) =>
      poolWith(l as never, ctx.prepared, (g) => ({ ...g, ph: Math.max(1, g.ph - 1), pw: Math.max(1, g.pw - 1) })),
    needs: 'ResNet-50',
  },
  {
    id: 'maxpool-stride-off-by-one',
    kind: 'mutant',
    category: 'pooling',
    title: 'MaxPooling2D steps one less (stride 1 instead of 2), output size from the graph',
    targets: ofClass('MaxPooling2D'),
    evaluate: (l, ctx) =>
      poolWith(l as never, ctx.prepared, (g) => ({ ...g, sh: Math.max(1, g.sh - 1), sw: Math.max(1, g.sw - 1) })),
    needs: 'ResNet-50',
  },
  {
    id: 'avgpool-window-off-by-one',
    kind: 'mutant',
    category: 'pooling',
    title: 'AveragePooling2D uses a window one smaller (1x1 instead of 2x2): it takes the top-left value',
    targets: ofClass('AveragePooling2D'),
    evaluate: (l, ctx) =>
      poolWith(l as never, ctx.prepared, (g) => ({ ...g, ph: Math.max(1, g.ph - 1), pw: Math.max(1, g.pw - 1) })),
    needs: 'ResNet-50',
  },
  {
    id: 'flatten-nchw',
    kind: 'mutant',
    category: 'flatten/softmax',
    title: 'Flatten in channel-major (NCHW, PyTorch) order instead of NHWC',
    targets: ofClass('Flatten'),
    inert: (l, spec) => {
      const [h, w] = inputHW(l, spec);
      return h * w === 1
        ? `its input is ${h}x${w} spatially (ResNet-50 at 64x64 pools stage 5 to 1x1): both orders are the same`
        : undefined;
    },
    evaluate: (_l, ctx) => flattenChannelMajor(ctx.prepared),
    needs: 'a Flatten whose input is larger than 1x1 (ResNet-50 with an input of 96x96 or more)',
  },
  {
    id: 'softmax-over-batch-axis',
    kind: 'mutant',
    category: 'flatten/softmax',
    title: 'the softmax Dense normalizes over the batch axis instead of the classes',
    targets: ofClass<DenseSpec>('Dense', (l) => l.activation === 'softmax'),
    evaluate: (l, ctx) => softmaxOverBatch(l as DenseSpec, ctx.prepared),
    needs: 'ResNet-50',
  },
  {
    id: 'conv-fp16-accumulation',
    kind: 'mutant',
    category: 'precision',
    title: "the model's first Conv2D accumulates in float16 (every product and partial sum rounded to binary16)",
    targets: firstOf(ofClass('Conv2D')),
    evaluate: (l, ctx) => roundedAccumulationConv(conv(l), ctx.prepared, roundToFp16, 'reference'),
    needs: 'any case',
  },
  {
    id: 'conv-batch-offset-missing',
    kind: 'mutant',
    category: 'batch/size',
    title: "the model's first Conv2D computes every image of the batch from the first image (batch offset not applied)",
    targets: firstOf(ofClass('Conv2D')),
    evaluate: (l, ctx) => withInput(l, ctx.prepared, firstImageEverywhere),
    needs: 'batch > 1 with distinct images',
  },
  {
    id: 'conv-odd-width-tail',
    kind: 'mutant',
    category: 'batch/size',
    title:
      'every Conv2D with an odd output width leaves the last column uncomputed (a 2-wide vector loop without its tail)',
    targets: ofClass('Conv2D'),
    inert: (l) => (l.outputShape[1] % 2 === 0 ? `even output width ${l.outputShape[1]}` : undefined),
    evaluate: (l, ctx) =>
      editProduct(conv(l), ctx.prepared, (y) => {
        const [, ow, c] = l.outputShape;
        if (ow % 2 === 0) return;
        for (let r = 0; r < y.length / (ow * c); r++) y.fill(0, (r * ow + ow - 1) * c, (r * ow + ow) * c);
      }),
    needs: 'an odd spatial size (5x5, 7x7 blocks; ResNet-50 stage 2 is 15x15)',
  },
  {
    id: 'conv-first-pixel-only',
    kind: 'mutant',
    category: 'batch/size',
    title:
      'the first Conv2D with a spatial kernel computes only the first output pixel of each image; the others are 0 (the onnxruntime-web WebGPU defect)',
    targets: firstOf(ofClass<Conv2DSpec>('Conv2D', hasSpatialKernel)),
    inert: (l) => (l.outputShape[0] * l.outputShape[1] === 1 ? 'one output pixel' : undefined),
    evaluate: (l, ctx) =>
      editProduct(conv(l), ctx.prepared, (y) => {
        const [oh, ow, c] = l.outputShape;
        const per = oh * ow * c;
        for (let b = 0; b < y.length / per; b++) y.fill(0, b * per + c, (b + 1) * per);
      }),
    needs: 'an output larger than one pixel',
  },
  // --- negative controls: legitimate float32 behaviour that must pass ---
  {
    id: 'control-ulp-every-conv',
    kind: 'control',
    category: 'control',
    title: 'every Conv2D output element moved 1 float32 ULP away from zero',
    targets: ofClass('Conv2D'),
    evaluate: (l, ctx) => {
      const base = withWeights(l, ctx.prepared);
      return (inputs, mode) => {
        const out = base(inputs, mode);
        return { output: out.output.map(ulpAwayFromZero) };
      };
    },
    needs: '(control: must pass)',
  },
  {
    id: 'control-fp32-summation-order',
    kind: 'control',
    category: 'control',
    title:
      'every Conv2D accumulates in float32 (product and partial sums rounded) in reversed tap order (ci, kx, ky descending)',
    targets: ofClass('Conv2D'),
    evaluate: (l, ctx) => roundedAccumulationConv(conv(l), ctx.prepared, roundToFloat32, 'reversed'),
    needs: '(control: must pass)',
  },
  {
    id: 'control-tf32-one-layer',
    kind: 'control',
    category: 'control',
    title: "the model's first Conv2D in TF32 (operands rounded to 10 mantissa bits), judged under the tf32-gpu profile",
    targets: firstOf(ofClass('Conv2D')),
    evaluate: (l, ctx) => withWeights(l, prepareLayer(l, ctx.weights, 'tf32')),
    needs: '(control: must pass)',
    profile: 'tf32-gpu',
  },
];

export function mutantAdapterId(m: Pick<Mutant, 'id'>): string {
  return `mutant-${m.id}`;
}

/** The bank's mutants whose id matches one of the comma-separated patterns (`*` globs), or all. */
export function selectMutants(patterns?: string): Mutant[] {
  if (!patterns) return [...MUTANTS];
  const parts = patterns
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const tests = parts.map((p) => {
    const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*')}$`);
    return (id: string) => re.test(id);
  });
  const unknown = parts.filter((p, i) => !MUTANTS.some((m) => tests[i](m.id)));
  if (unknown.length)
    throw new Error(
      `--mutants: ${unknown.map((u) => `'${u}'`).join(', ')} match no mutant (known: ${MUTANTS.map((m) => m.id).join(', ')})`,
    );
  return MUTANTS.filter((m) => tests.some((t) => t(m.id)));
}

/** The targeted layers of `spec` and, for each one that is inert, why. */
export function mutantTargets(m: Mutant, spec: ModelSpec): { layers: string[]; inert: Record<string, string> } {
  const layers = m.targets(spec);
  const inert: Record<string, string> = {};
  for (const name of layers) {
    const why = m.inert?.(layerOf(spec, name), spec);
    if (why) inert[name] = why;
  }
  return { layers, inert };
}
