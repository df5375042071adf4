import { GraphBuilder, type SymbolicTensor } from './graph-builder';
import { glorotUniform, randomUniform } from './initializers';
import type { Boundary, InitializerSpec, ModelSpec } from './types';

export type Filters = [number, number, number];

export interface BlockOptions {
  /** Input shape (h, w, c) of the block model. */
  inputShape?: [number, number, number];
  /** Kernel initializer of every Conv2D (the notebook passes `initializer(seed=0)`). */
  initializer?: InitializerSpec;
  /** The `training=` the notebook passes to each BatchNormalization call (default True, as in the seed). */
  training?: boolean;
  /** Epsilon of every BatchNormalization (default Keras's 1e-3; older revisions are explained with others). */
  bnEpsilon?: number;
}

function checkFilters(filters: number[], what: string): Filters {
  if (filters.length !== 3 || filters.some((f) => !Number.isInteger(f) || f <= 0)) {
    throw new Error(`${what}: filters must be three positive integers, got [${filters.join(',')}]`);
  }
  return filters as Filters;
}

function checkPositiveInt(v: number, what: string): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${what} must be a positive integer, got ${v}`);
}

/**
 * The main path both blocks of the seed share, in creation order: 1x1 Conv2D (stride s, valid),
 * BN, ReLU, fxf Conv2D (same), BN, ReLU, 1x1 Conv2D (valid), BN.
 */
function mainPath(
  g: GraphBuilder,
  x: SymbolicTensor,
  f: number,
  filters: Filters,
  s: number,
  training: boolean,
  init: InitializerSpec,
): SymbolicTensor {
  const [F1, F2, F3] = filters;
  let y = g.conv2D(x, { filters: F1, kernel: 1, strides: s, padding: 'valid', init });
  y = g.batchNorm(y, training);
  y = g.relu(y);
  y = g.conv2D(y, { filters: F2, kernel: f, strides: 1, padding: 'same', init });
  y = g.batchNorm(y, training);
  y = g.relu(y);
  y = g.conv2D(y, { filters: F3, kernel: 1, strides: 1, padding: 'valid', init });
  return g.batchNorm(y, training);
}

/** identity_block of the seed, applied to `x` inside graph `g`, layer by layer in creation order. */
export function identityBlockLayers(
  g: GraphBuilder,
  x: SymbolicTensor,
  f: number,
  filters: Filters,
  training: boolean,
  init: InitializerSpec,
): SymbolicTensor {
  const F3 = filters[2];
  if (x.shape[2] !== F3) {
    throw new Error(
      `identity_block: input has ${x.shape[2]} channels but F3 = ${F3}; the shortcut Add needs them equal`,
    );
  }
  const y = mainPath(g, x, f, filters, 1, training, init);
  return g.relu(g.addLayer(x, y));
}

/** convolutional_block of the seed (shortcut Conv2D created after the main path's third BN). */
export function convolutionalBlockLayers(
  g: GraphBuilder,
  x: SymbolicTensor,
  f: number,
  filters: Filters,
  s: number,
  training: boolean,
  init: InitializerSpec,
): SymbolicTensor {
  const y = mainPath(g, x, f, filters, s, training, init);
  let sc = g.conv2D(x, { filters: filters[2], kernel: 1, strides: s, padding: 'valid', init });
  sc = g.batchNorm(sc, training);
  return g.relu(g.addLayer(y, sc));
}

function finish(
  g: GraphBuilder,
  model: ModelSpec['model'],
  args: Record<string, unknown>,
  out: SymbolicTensor,
  boundaries: Boundary[],
): ModelSpec {
  return { model, args, layers: g.layers, input: g.layers[0].name, output: out.layer, boundaries };
}

/** The notebook's identity block as a model. Defaults: the notebook test (4x4xF3 input, random_uniform(seed=0)). */
export function identityBlock(f: number, filters: number[], opts: BlockOptions = {}): ModelSpec {
  checkPositiveInt(f, 'identity_block: f');
  const fl = checkFilters(filters, 'identity_block');
  const inputShape = opts.inputShape ?? [4, 4, fl[2]];
  const init = opts.initializer ?? randomUniform(0);
  const training = opts.training ?? true;
  const g = new GraphBuilder(opts.bnEpsilon);
  const x = g.input([...inputShape]);
  const out = identityBlockLayers(g, x, f, fl, training, init);
  return finish(g, 'identity_block', { f, filters: fl, inputShape, initializer: init, training }, out, [
    { label: 'output', layer: out.layer },
  ]);
}

/** The notebook's convolutional block as a model. Defaults: the notebook test (4x4x3 input, s=2, glorot_uniform(seed=0)). */
export function convolutionalBlock(f: number, filters: number[], s = 2, opts: BlockOptions = {}): ModelSpec {
  checkPositiveInt(f, 'convolutional_block: f');
  checkPositiveInt(s, 'convolutional_block: s');
  const fl = checkFilters(filters, 'convolutional_block');
  const inputShape = opts.inputShape ?? [4, 4, 3];
  const init = opts.initializer ?? glorotUniform(0);
  const training = opts.training ?? true;
  const g = new GraphBuilder(opts.bnEpsilon);
  const x = g.input([...inputShape]);
  const out = convolutionalBlockLayers(g, x, f, fl, s, training, init);
  return finish(g, 'convolutional_block', { f, filters: fl, s, inputShape, initializer: init, training }, out, [
    { label: 'output', layer: out.layer },
  ]);
}

export interface ResNet50Options {
  inputShape?: [number, number, number];
  classes?: number;
}

const STAGES: { filters: Filters; s: number; identityBlocks: number }[] = [
  { filters: [64, 64, 256], s: 1, identityBlocks: 2 },
  { filters: [128, 128, 512], s: 2, identityBlocks: 3 },
  { filters: [256, 256, 1024], s: 2, identityBlocks: 5 },
  { filters: [512, 512, 2048], s: 2, identityBlocks: 2 },
];

/**
 * The notebook's ResNet50: blocks are called with their default training=True and
 * initializers (convolutional_block: glorot_uniform(seed=0), identity_block: random_uniform(seed=0)).
 */
export function resnet50(opts: ResNet50Options = {}): ModelSpec {
  const inputShape = opts.inputShape ?? [64, 64, 3];
  const classes = opts.classes ?? 6;
  checkPositiveInt(classes, 'resnet50: classes');
  const g = new GraphBuilder();
  const input = g.input([...inputShape]);
  let x = g.zeroPadding2D(input, 3);
  x = g.conv2D(x, { filters: 64, kernel: 7, strides: 2, padding: 'valid', init: glorotUniform(0) });
  x = g.batchNorm(x, null);
  x = g.relu(x);
  x = g.maxPool(x, 3, 2);
  const boundaries: Boundary[] = [{ label: 'stage1', layer: x.layer }];
  STAGES.forEach((stage, i) => {
    const n = i + 2;
    x = convolutionalBlockLayers(g, x, 3, stage.filters, stage.s, true, glorotUniform(0));
    boundaries.push({ label: `stage${n}_block1_conv`, layer: x.layer });
    for (let b = 0; b < stage.identityBlocks; b++) {
      x = identityBlockLayers(g, x, 3, stage.filters, true, randomUniform(0));
      boundaries.push({ label: `stage${n}_block${b + 2}_identity`, layer: x.layer });
    }
  });
  x = g.avgPool(x, 2);
  boundaries.push({ label: 'avgpool', layer: x.layer });
  x = g.flatten(x);
  const out = g.dense(x, classes, 'softmax', glorotUniform(0));
  boundaries.push({ label: 'logits', layer: `${out.layer}${LOGITS_SUFFIX}` });
  boundaries.push({ label: 'probabilities', layer: out.layer });
  return finish(g, 'resnet50', { inputShape, classes }, out, boundaries);
}

/**
 * Capture name for the pre-softmax output of a Dense layer with softmax activation
 * (`dense:logits`). Keras fuses softmax into Dense, so this is not a Keras layer output.
 */
export const LOGITS_SUFFIX = ':logits';
