/**
 * Builds a ModelSpec with the tfjs-layers API (tf.input, tf.layers.*, tf.model), so that the
 * framework's own layer semantics are what gets tested, and loads the src/init weights into it.
 * Backend-neutral: the caller selects the tfjs backend before calling.
 */
import type { LayerSpec, ModelSpec, ModelWeights, ParamCount } from '../../model/types';
import type { Tf } from './tf-loader';

type SymbolicTensor = import('@tensorflow/tfjs').SymbolicTensor;
type LayersModel = import('@tensorflow/tfjs').LayersModel;
type Layer = import('@tensorflow/tfjs').layers.Layer;

export interface BuiltLayersModel {
  model: LayersModel;
  /** Symbolic output of every spec layer, by spec layer name. */
  outputs: Map<string, SymbolicTensor>;
}

function one(x: SymbolicTensor | SymbolicTensor[], layer: LayerSpec): SymbolicTensor {
  if (Array.isArray(x))
    throw new Error(`tfjs: layer '${layer.name}' (${layer.className}) returned ${x.length} outputs, expected 1`);
  return x;
}

/**
 * One tfjs-layers layer per spec layer, named like the spec (Keras fresh-session names).
 * Initializers are 'zeros': every weight is overwritten by setWeights from src/init.
 */
function makeLayer(tf: Tf, l: LayerSpec): Layer {
  const name = l.name;
  switch (l.className) {
    case 'ZeroPadding2D':
      return tf.layers.zeroPadding2d({ name, padding: l.padding, dataFormat: 'channelsLast' });
    case 'Conv2D':
      return tf.layers.conv2d({
        name,
        filters: l.filters,
        kernelSize: l.kernelSize,
        strides: l.strides,
        padding: l.padding,
        dataFormat: 'channelsLast',
        dilationRate: 1,
        activation: 'linear',
        useBias: l.useBias,
        kernelInitializer: 'zeros',
        biasInitializer: 'zeros',
      });
    case 'BatchNormalization':
      return tf.layers.batchNormalization({
        name,
        axis: l.axis,
        epsilon: l.epsilon,
        momentum: l.momentum,
        center: l.center,
        scale: l.scale,
        gammaInitializer: 'ones',
        betaInitializer: 'zeros',
        movingMeanInitializer: 'zeros',
        movingVarianceInitializer: 'ones',
      });
    case 'Activation':
      return tf.layers.activation({ name, activation: l.activation });
    case 'MaxPooling2D':
      return tf.layers.maxPooling2d({
        name,
        poolSize: l.poolSize,
        strides: l.strides,
        padding: l.padding,
        dataFormat: 'channelsLast',
      });
    case 'AveragePooling2D':
      return tf.layers.averagePooling2d({
        name,
        poolSize: l.poolSize,
        strides: l.strides,
        padding: l.padding,
        dataFormat: 'channelsLast',
      });
    case 'Add':
      return tf.layers.add({ name });
    case 'Flatten':
      return tf.layers.flatten({ name });
    case 'Dense':
      return tf.layers.dense({
        name,
        units: l.units,
        activation: l.activation,
        useBias: l.useBias,
        kernelInitializer: 'zeros',
        biasInitializer: 'zeros',
      });
    case 'InputLayer':
      throw new Error(`tfjs: InputLayer '${name}' is created with tf.input, not as a layer`);
    default: {
      const never: never = l;
      throw new Error(`tfjs: unsupported layer class in spec: ${(never as LayerSpec).className}`);
    }
  }
}

/**
 * The weight's own name without the layer scope: `conv2d_3/kernel` -> `kernel`. Uses originalName:
 * `name` gets a `_N` suffix when another model in the process already has a variable of that name.
 */
function variableName(v: { originalName: string }): string {
  return v.originalName.slice(v.originalName.lastIndexOf('/') + 1);
}

/** Loads Keras-ordered weights (kernel, bias / gamma, beta, moving_mean, moving_variance) into the tfjs layers. */
export function loadWeights(tf: Tf, spec: ModelSpec, model: LayersModel, weights: ModelWeights): void {
  const specNames = new Set(spec.layers.map((l) => l.name));
  for (const name of weights.keys()) {
    if (!specNames.has(name))
      throw new Error(`tfjs: weights given for '${name}', which is not a layer of ${spec.model}`);
  }
  for (const l of spec.layers) {
    const layer = model.getLayer(l.name);
    const vars = layer.weights;
    const given = weights.get(l.name) ?? [];
    if (vars.length !== given.length) {
      throw new Error(
        `tfjs: layer '${l.name}' (${l.className}) has ${vars.length} weights in tfjs ` +
          `[${vars.map((v) => variableName(v)).join(', ')}] but ${given.length} were given [${given.map((w) => w.name).join(', ')}]`,
      );
    }
    if (vars.length === 0) continue;
    const byName = new Map(given.map((w) => [w.name, w]));
    const values = vars.map((v) => {
      const wname = variableName(v);
      const w = byName.get(wname);
      if (!w) {
        throw new Error(
          `tfjs: layer '${l.name}' weight '${wname}' has no counterpart in the given weights [${given.map((g) => g.name).join(', ')}]`,
        );
      }
      if (w.shape.join(',') !== v.shape.join(',')) {
        throw new Error(
          `tfjs: layer '${l.name}' weight '${wname}': tfjs shape [${v.shape.join(',')}] vs given [${w.shape.join(',')}]`,
        );
      }
      if (w.trainable !== v.trainable) {
        throw new Error(
          `tfjs: layer '${l.name}' weight '${wname}': trainable is ${v.trainable} in tfjs but ${w.trainable} in the given weights`,
        );
      }
      return tf.tensor(w.data, w.shape, 'float32');
    });
    try {
      layer.setWeights(values);
    } finally {
      tf.dispose(values);
    }
  }
}

/**
 * Builds the spec as a tfjs LayersModel (layers applied in the spec's creation order) and loads `weights`.
 * The caller owns the model (dispose it with model.dispose()).
 */
export function buildLayersModel(tf: Tf, spec: ModelSpec, weights: ModelWeights): BuiltLayersModel {
  const outputs = new Map<string, SymbolicTensor>();
  let input: SymbolicTensor | undefined;
  for (const l of spec.layers) {
    if (l.className === 'InputLayer') {
      if (input) throw new Error(`tfjs: ${spec.model} has more than one InputLayer ('${l.name}')`);
      input = tf.input({ shape: l.outputShape, name: l.name, dtype: 'float32' });
      outputs.set(l.name, input);
      continue;
    }
    const inbound = l.inbound.map((n) => {
      const t = outputs.get(n);
      if (!t) throw new Error(`tfjs: layer '${l.name}' takes '${n}', which is not defined before it`);
      return t;
    });
    const layer = makeLayer(tf, l);
    const out = layer.apply(inbound.length === 1 ? inbound[0] : inbound) as SymbolicTensor | SymbolicTensor[];
    outputs.set(l.name, one(out, l));
  }
  if (!input) throw new Error(`tfjs: ${spec.model} has no InputLayer`);
  const output = outputs.get(spec.output);
  if (!output) throw new Error(`tfjs: ${spec.model} output '${spec.output}' is not a layer of the spec`);
  const model = tf.model({ inputs: input, outputs: output, name: spec.model });
  try {
    loadWeights(tf, spec, model, weights);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, outputs };
}

/** Each tfjs layer's output shape without the batch dimension, by layer name (model.layers order). */
export function layerOutputShapes(model: LayersModel): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const layer of model.layers) {
    const s = layer.outputShape;
    if (!Array.isArray(s) || Array.isArray(s[0])) throw new Error(`tfjs: layer '${layer.name}' has several outputs`);
    const dims = s as (number | null)[];
    if (dims[0] !== null)
      throw new Error(`tfjs: layer '${layer.name}' output shape [${dims.join(',')}] has a fixed batch dimension`);
    shapes.set(layer.name, dims.slice(1) as number[]);
  }
  return shapes;
}

export interface TfjsLayerSummary {
  name: string;
  /** tfjs getClassName(), which uses the Keras class names. */
  className: string;
  /** Output shape without the batch dimension. */
  outputShape: number[];
  params: number;
}

/** The model's layers as tfjs lists them (model.layers order): class, output shape, countParams(). */
export function layerSummary(model: LayersModel): TfjsLayerSummary[] {
  const shapes = layerOutputShapes(model);
  return model.layers.map((l) => ({
    name: l.name,
    className: l.getClassName(),
    outputShape: shapes.get(l.name)!,
    params: l.countParams(),
  }));
}

/**
 * Parameter count as tfjs reports it: model.countParams() for the total, split by
 * model.trainableWeights / nonTrainableWeights (Keras: BN moving statistics are non-trainable).
 */
export function countParams(model: LayersModel): ParamCount {
  const size = (ws: { shape: (number | null)[] }[]): number =>
    ws.reduce((n, w) => n + w.shape.reduce<number>((p, d) => p * (d ?? NaN), 1), 0);
  const total = model.countParams();
  const trainable = size(model.trainableWeights);
  const nonTrainable = size(model.nonTrainableWeights);
  if (trainable + nonTrainable !== total) {
    throw new Error(
      `tfjs: countParams() = ${total} but trainable ${trainable} + non-trainable ${nonTrainable} = ${trainable + nonTrainable}`,
    );
  }
  return { total, trainable, nonTrainable };
}
