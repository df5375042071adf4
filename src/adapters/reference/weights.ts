/** Checks a ModelWeights map against a spec (./interpreter.ts converts each layer's weights to float64 once). */
import { weightShapes } from '../../model/params';
import type { LayerSpec, ModelSpec, ModelWeights, ParamCount } from '../../model/types';

function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function expectedList(spec: ModelSpec, layer: LayerSpec): string {
  return weightShapes(spec, layer)
    .map((w) => `${w.name} ${fmt(w.shape)}`)
    .join(', ');
}

/**
 * Every layer with weights must have exactly the Keras list (names, order, shapes, element counts);
 * weightless layers and unknown layer names must have none. Errors name the layer and the weight.
 */
export function validateWeights(spec: ModelSpec, weights: ModelWeights): void {
  const known = new Set(spec.layers.map((l) => l.name));
  for (const name of weights.keys()) {
    if (!known.has(name)) throw new Error(`weights given for layer '${name}', which is not in the ${spec.model} spec`);
  }
  for (const layer of spec.layers) {
    const expected = weightShapes(spec, layer);
    const got = weights.get(layer.name);
    const where = `layer '${layer.name}' (${layer.className})`;
    if (expected.length === 0) {
      if (got && got.length > 0) throw new Error(`${where} has no weights, but ${got.length} were given`);
      continue;
    }
    if (!got) throw new Error(`missing weights for ${where}: expected ${expectedList(spec, layer)}`);
    if (got.length !== expected.length) {
      throw new Error(
        `${where}: expected ${expected.length} weights (${expectedList(spec, layer)}), got ${got.length} (${got.map((w) => w.name).join(', ')})`,
      );
    }
    expected.forEach((e, i) => {
      const w = got[i];
      if (w.name !== e.name) throw new Error(`${where}: weight ${i} should be '${e.name}', got '${w.name}'`);
      if (w.shape.length !== e.shape.length || w.shape.some((d, j) => d !== e.shape[j])) {
        throw new Error(`${where}: weight '${e.name}' has shape ${fmt(w.shape)}, expected ${fmt(e.shape)}`);
      }
      if (!(w.data instanceof Float32Array) && !((w.data as unknown) instanceof Float64Array)) {
        throw new Error(`${where}: weight '${e.name}' data must be a Float32Array`);
      }
      const n = e.shape.reduce((p, d) => p * d, 1);
      if (w.data.length !== n) {
        throw new Error(`${where}: weight '${e.name}' has ${w.data.length} values, shape ${fmt(e.shape)} needs ${n}`);
      }
    });
  }
}

/** Parameter count of validated weights, Keras accounting (the spec says which weights are trainable). */
export function countParams(spec: ModelSpec, weights: ModelWeights): ParamCount {
  const c: ParamCount = { total: 0, trainable: 0, nonTrainable: 0 };
  for (const layer of spec.layers) {
    const held = weights.get(layer.name) ?? [];
    weightShapes(spec, layer).forEach((e, i) => {
      const n = held[i].data.length;
      c.total += n;
      if (e.trainable) c.trainable += n;
      else c.nonTrainable += n;
    });
  }
  return c;
}

export function allFinite(a: Float64Array): boolean {
  // v - v is 0 for finite v and NaN for NaN/±Inf (a property lookup per element is slow under Jest).
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) return false;
  }
  return true;
}
