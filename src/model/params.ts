import { inputChannels } from './graph';
import type { LayerSpec, ModelSpec, ParamCount } from './types';

/** Weight shapes of one layer in Keras order, with trainability. */
export function weightShapes(
  spec: ModelSpec,
  layer: LayerSpec,
): { name: string; shape: number[]; trainable: boolean }[] {
  switch (layer.className) {
    case 'Conv2D': {
      const cin = inputChannels(spec, layer);
      return [
        { name: 'kernel', shape: [layer.kernelSize[0], layer.kernelSize[1], cin, layer.filters], trainable: true },
        { name: 'bias', shape: [layer.filters], trainable: true },
      ];
    }
    case 'Dense': {
      const cin = inputChannels(spec, layer);
      return [
        { name: 'kernel', shape: [cin, layer.units], trainable: true },
        { name: 'bias', shape: [layer.units], trainable: true },
      ];
    }
    case 'BatchNormalization': {
      const c = layer.outputShape[layer.outputShape.length - 1];
      return [
        { name: 'gamma', shape: [c], trainable: true },
        { name: 'beta', shape: [c], trainable: true },
        { name: 'moving_mean', shape: [c], trainable: false },
        { name: 'moving_variance', shape: [c], trainable: false },
      ];
    }
    default:
      return [];
  }
}

export function layerParamCount(spec: ModelSpec, layer: LayerSpec): ParamCount {
  let trainable = 0;
  let nonTrainable = 0;
  for (const w of weightShapes(spec, layer)) {
    const n = w.shape.reduce((p, d) => p * d, 1);
    if (w.trainable) trainable += n;
    else nonTrainable += n;
  }
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}

export function modelParamCount(spec: ModelSpec): ParamCount {
  const sum: ParamCount = { total: 0, trainable: 0, nonTrainable: 0 };
  for (const l of spec.layers) {
    const c = layerParamCount(spec, l);
    sum.total += c.total;
    sum.trainable += c.trainable;
    sum.nonTrainable += c.nonTrainable;
  }
  return sum;
}
