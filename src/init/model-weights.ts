/**
 * Initial weights of a whole model spec, as Keras would create them in a fresh session.
 */
import type { InitializerSpec, LayerSpec, ModelSpec, ModelWeights, WeightTensor } from '../model/types';
import { initialize } from './initializers';

function channelsOf(layer: LayerSpec, what: string): number {
  const shape = layer.outputShape;
  const c = shape[shape.length - 1];
  if (shape.length === 0 || !Number.isInteger(c) || c <= 0) {
    throw new Error(
      `initModelWeights: ${what}: layer '${layer.name}' has no usable last dimension in outputShape [${shape.join(',')}]`,
    );
  }
  return c;
}

function inboundChannels(layer: LayerSpec, byName: Map<string, LayerSpec>): number {
  if (layer.inbound.length !== 1) {
    throw new Error(
      `initModelWeights: layer '${layer.name}' (${layer.className}) must have exactly one inbound layer, has ${layer.inbound.length}`,
    );
  }
  const src = byName.get(layer.inbound[0]);
  if (!src) throw new Error(`initModelWeights: layer '${layer.name}' has unknown inbound layer '${layer.inbound[0]}'`);
  return channelsOf(src, `input of '${layer.name}'`);
}

/**
 * Creates every weight of `spec` in Keras order: Conv2D kernel [kh, kw, cin, cout] + bias [filters];
 * Dense kernel [in, units] + bias [units]; BatchNormalization gamma, beta (trainable) and
 * moving_mean, moving_variance (non-trainable), each [C].
 *
 * Identical (initializer, shape) pairs are generated once per call (every notebook conv uses
 * seed 0, so all same-shape kernels are equal); each WeightTensor still receives its OWN
 * Float32Array copy, so callers may mutate one layer's weights without affecting another's.
 */
export function initModelWeights(spec: ModelSpec): ModelWeights {
  const byName = new Map<string, LayerSpec>();
  for (const layer of spec.layers) {
    if (byName.has(layer.name)) throw new Error(`initModelWeights: duplicate layer name '${layer.name}'`);
    byName.set(layer.name, layer);
  }
  const cache = new Map<string, Float32Array>();
  const make = (name: string, init: InitializerSpec, shape: number[], trainable: boolean): WeightTensor => {
    const key = `${JSON.stringify(init)}|${shape.join(',')}`;
    let data = cache.get(key);
    if (!data) {
      data = initialize(init, shape);
      cache.set(key, data);
    }
    return { name, shape: [...shape], data: data.slice(), trainable };
  };

  const weights: ModelWeights = new Map();
  for (const layer of spec.layers) {
    switch (layer.className) {
      case 'Conv2D': {
        const cin = inboundChannels(layer, byName);
        const [kh, kw] = layer.kernelSize;
        weights.set(layer.name, [
          make('kernel', layer.kernelInitializer, [kh, kw, cin, layer.filters], true),
          make('bias', layer.biasInitializer, [layer.filters], true),
        ]);
        break;
      }
      case 'Dense': {
        const din = inboundChannels(layer, byName);
        weights.set(layer.name, [
          make('kernel', layer.kernelInitializer, [din, layer.units], true),
          make('bias', layer.biasInitializer, [layer.units], true),
        ]);
        break;
      }
      case 'BatchNormalization': {
        const c = channelsOf(layer, `BatchNormalization '${layer.name}'`);
        weights.set(layer.name, [
          make('gamma', layer.gammaInitializer, [c], true),
          make('beta', layer.betaInitializer, [c], true),
          make('moving_mean', layer.movingMeanInitializer, [c], false),
          make('moving_variance', layer.movingVarianceInitializer, [c], false),
        ]);
        break;
      }
      default:
        break; // weightless layers
    }
  }
  return weights;
}
