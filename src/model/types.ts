/**
 * Framework-neutral description of the notebook's models: a graph of Keras layers
 * carrying Keras attributes. Shapes exclude the batch dimension (Keras's `None`).
 */

export type InitializerSpec =
  | { kind: 'glorot_uniform'; seed: number }
  | { kind: 'random_uniform'; seed: number; minval: number; maxval: number }
  | { kind: 'constant'; value: number }
  | { kind: 'zeros' }
  | { kind: 'ones' };

export type Padding = 'valid' | 'same';

interface LayerCommon {
  /** Keras auto-generated name in a fresh session, e.g. `conv2d_3`. */
  name: string;
  /** Names of the layers feeding this one (Keras inbound nodes), in call order. */
  inbound: string[];
  /** Output shape without the batch dimension. */
  outputShape: number[];
}

export interface InputLayerSpec extends LayerCommon {
  className: 'InputLayer';
}

export interface ZeroPadding2DSpec extends LayerCommon {
  className: 'ZeroPadding2D';
  /** ((top, bottom), (left, right)) as in Keras. */
  padding: [[number, number], [number, number]];
}

export interface Conv2DSpec extends LayerCommon {
  className: 'Conv2D';
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: Padding;
  activation: 'linear';
  useBias: true;
  kernelInitializer: InitializerSpec;
  biasInitializer: InitializerSpec;
}

export interface BatchNormalizationSpec extends LayerCommon {
  className: 'BatchNormalization';
  axis: 3;
  epsilon: number;
  momentum: number;
  center: true;
  scale: true;
  gammaInitializer: InitializerSpec;
  betaInitializer: InitializerSpec;
  movingMeanInitializer: InitializerSpec;
  movingVarianceInitializer: InitializerSpec;
  /**
   * The `training=` argument written in the notebook's call, if any. Keras 3 overrides it
   * whenever the model itself is called with training=True/False (as every run here does).
   */
  callTraining: boolean | null;
}

export interface ActivationSpec extends LayerCommon {
  className: 'Activation';
  activation: 'relu';
}

export interface MaxPooling2DSpec extends LayerCommon {
  className: 'MaxPooling2D';
  poolSize: [number, number];
  strides: [number, number];
  padding: Padding;
}

export interface AveragePooling2DSpec extends LayerCommon {
  className: 'AveragePooling2D';
  poolSize: [number, number];
  strides: [number, number];
  padding: Padding;
}

export interface AddSpec extends LayerCommon {
  className: 'Add';
}
export interface FlattenSpec extends LayerCommon {
  className: 'Flatten';
}

export interface DenseSpec extends LayerCommon {
  className: 'Dense';
  units: number;
  activation: 'softmax' | 'linear';
  useBias: true;
  kernelInitializer: InitializerSpec;
  biasInitializer: InitializerSpec;
}

export type LayerSpec =
  | InputLayerSpec
  | ZeroPadding2DSpec
  | Conv2DSpec
  | BatchNormalizationSpec
  | ActivationSpec
  | MaxPooling2DSpec
  | AveragePooling2DSpec
  | AddSpec
  | FlattenSpec
  | DenseSpec;

export type LayerClassName = LayerSpec['className'];

/** A named point in the graph where fixtures record activations (after stage 1, after each block, logits). */
export interface Boundary {
  label: string;
  layer: string;
}

/** `layer`: one layer after its input (single-layer models of the sweep, src/sweep); Keras cannot rebuild it from args. */
export type ModelName = 'resnet50' | 'identity_block' | 'convolutional_block' | 'layer';

export interface ModelSpec {
  /** Which builder made it and with which arguments (normalized). */
  model: ModelName;
  args: Record<string, unknown>;
  /** Layers in Keras creation order (the order of model.summary()). */
  layers: LayerSpec[];
  input: string;
  output: string;
  boundaries: Boundary[];
}

/** One weight tensor in Keras order: Conv2D/Dense [kernel, bias]; BatchNormalization [gamma, beta, moving_mean, moving_variance]. */
export interface WeightTensor {
  /** Keras variable name: kernel, bias, gamma, beta, moving_mean, moving_variance. */
  name: string;
  shape: number[];
  data: Float32Array;
  trainable: boolean;
}

/** Weights of a model, by layer name, each list in Keras order. */
export type ModelWeights = Map<string, WeightTensor[]>;

export interface ParamCount {
  total: number;
  trainable: number;
  nonTrainable: number;
}
