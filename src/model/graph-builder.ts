import { windowOutput } from './shapes';
import type { InitializerSpec, LayerSpec, Padding } from './types';

/** A layer spec before the builder names it (distributes over the union). */
type WithoutName<T> = T extends unknown ? Omit<T, 'name'> : never;

const KERAS_BASE_NAMES: Record<LayerSpec['className'], string> = {
  InputLayer: 'input_layer',
  ZeroPadding2D: 'zero_padding2d',
  Conv2D: 'conv2d',
  BatchNormalization: 'batch_normalization',
  Activation: 'activation',
  MaxPooling2D: 'max_pooling2d',
  AveragePooling2D: 'average_pooling2d',
  Add: 'add',
  Flatten: 'flatten',
  Dense: 'dense',
};

/** A symbolic tensor: the layer that produced it and its shape (without batch). */
export interface SymbolicTensor {
  layer: string;
  shape: number[];
}

/**
 * Records Keras layer calls in creation order, naming layers the way a fresh Keras 3
 * session does (`conv2d`, `conv2d_1`, ...), and inferring output shapes.
 */
/** Keras BatchNormalization's default epsilon (what the notebook uses). */
export const KERAS_BN_EPSILON = 1e-3;

export class GraphBuilder {
  readonly layers: LayerSpec[] = [];
  private readonly counters = new Map<string, number>();

  /** `bnEpsilon`: epsilon of every BatchNormalization created (Keras default 1e-3). */
  constructor(readonly bnEpsilon: number = KERAS_BN_EPSILON) {
    if (!(bnEpsilon > 0) || !Number.isFinite(bnEpsilon))
      throw new Error(`BatchNormalization epsilon must be a positive number, got ${bnEpsilon}`);
  }

  private nextName(className: LayerSpec['className']): string {
    const base = KERAS_BASE_NAMES[className];
    const n = this.counters.get(base) ?? 0;
    this.counters.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }

  private add(layer: WithoutName<LayerSpec>): SymbolicTensor {
    const name = this.nextName(layer.className);
    const full = { ...layer, name } as LayerSpec;
    this.layers.push(full);
    return { layer: name, shape: full.outputShape };
  }

  input(shape: number[]): SymbolicTensor {
    if (shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new Error(`input shape must be three positive integers (h,w,c), got [${shape.join(',')}]`);
    }
    return this.add({ className: 'InputLayer', inbound: [], outputShape: [...shape] });
  }

  zeroPadding2D(x: SymbolicTensor, pad: number): SymbolicTensor {
    const [h, w, c] = x.shape;
    return this.add({
      className: 'ZeroPadding2D',
      inbound: [x.layer],
      padding: [
        [pad, pad],
        [pad, pad],
      ],
      outputShape: [h + 2 * pad, w + 2 * pad, c],
    });
  }

  conv2D(
    x: SymbolicTensor,
    a: { filters: number; kernel: number; strides: number; padding: Padding; init: InitializerSpec },
  ): SymbolicTensor {
    const [h, w] = x.shape;
    const oh = windowOutput(h, a.kernel, a.strides, a.padding);
    const ow = windowOutput(w, a.kernel, a.strides, a.padding);
    return this.add({
      className: 'Conv2D',
      inbound: [x.layer],
      outputShape: [oh, ow, a.filters],
      filters: a.filters,
      kernelSize: [a.kernel, a.kernel],
      strides: [a.strides, a.strides],
      padding: a.padding,
      activation: 'linear',
      useBias: true,
      kernelInitializer: a.init,
      biasInitializer: { kind: 'zeros' },
    });
  }

  batchNorm(x: SymbolicTensor, callTraining: boolean | null): SymbolicTensor {
    return this.add({
      className: 'BatchNormalization',
      inbound: [x.layer],
      outputShape: [...x.shape],
      axis: 3,
      epsilon: this.bnEpsilon,
      momentum: 0.99,
      center: true,
      scale: true,
      gammaInitializer: { kind: 'ones' },
      betaInitializer: { kind: 'zeros' },
      movingMeanInitializer: { kind: 'zeros' },
      movingVarianceInitializer: { kind: 'ones' },
      callTraining,
    });
  }

  relu(x: SymbolicTensor): SymbolicTensor {
    return this.add({ className: 'Activation', inbound: [x.layer], outputShape: [...x.shape], activation: 'relu' });
  }

  maxPool(x: SymbolicTensor, pool: number, strides: number): SymbolicTensor {
    const [h, w, c] = x.shape;
    return this.add({
      className: 'MaxPooling2D',
      inbound: [x.layer],
      poolSize: [pool, pool],
      strides: [strides, strides],
      padding: 'valid',
      outputShape: [windowOutput(h, pool, strides, 'valid'), windowOutput(w, pool, strides, 'valid'), c],
    });
  }

  avgPool(x: SymbolicTensor, pool: number): SymbolicTensor {
    const [h, w, c] = x.shape;
    return this.add({
      className: 'AveragePooling2D',
      inbound: [x.layer],
      poolSize: [pool, pool],
      strides: [pool, pool],
      padding: 'valid',
      outputShape: [windowOutput(h, pool, pool, 'valid'), windowOutput(w, pool, pool, 'valid'), c],
    });
  }

  addLayer(a: SymbolicTensor, b: SymbolicTensor): SymbolicTensor {
    if (a.shape.join(',') !== b.shape.join(',')) {
      throw new Error(
        `Add: operand shapes differ ([${a.shape.join(',')}] from ${a.layer} vs [${b.shape.join(',')}] from ${b.layer})`,
      );
    }
    return this.add({ className: 'Add', inbound: [a.layer, b.layer], outputShape: [...a.shape] });
  }

  flatten(x: SymbolicTensor): SymbolicTensor {
    return this.add({ className: 'Flatten', inbound: [x.layer], outputShape: [x.shape.reduce((p, d) => p * d, 1)] });
  }

  dense(x: SymbolicTensor, units: number, activation: 'softmax' | 'linear', init: InitializerSpec): SymbolicTensor {
    if (x.shape.length !== 1) throw new Error(`Dense expects a flat input, got [${x.shape.join(',')}] from ${x.layer}`);
    return this.add({
      className: 'Dense',
      inbound: [x.layer],
      outputShape: [units],
      units,
      activation,
      useBias: true,
      kernelInitializer: init,
      biasInitializer: { kind: 'zeros' },
    });
  }
}
