/**
 * Stored weights -> the spec's ModelWeights (layer name -> tensors in Keras order).
 *
 * Layouts:
 *  - legacy HDF5 (Keras 2 and Keras 3 model.save('m.h5')): group `model_weights` with attribute
 *    `layer_names`; per layer a group with attribute `weight_names` (Keras 2: 'conv2d/kernel:0',
 *    Keras 3: 'conv2d/kernel'), each naming a dataset path inside that group. Optimizer state
 *    (`optimizer_weights`) is ignored.
 *  - Keras 3 archive weights (model.weights.h5 inside .keras): `layers/<layer>/vars/0, 1, ...` in the
 *    layer's variable order (Conv2D/Dense: kernel, bias; BatchNormalization: gamma, beta,
 *    moving_mean, moving_variance). `optimizer/...` is ignored.
 */
import { weightShapes } from '../model/params';
import type { ModelSpec, ModelWeights, WeightTensor } from '../model/types';
import { ModelImportError } from './errors';
import type { H5File, NumericArray } from './h5';

/** One stored tensor: the name as stored (may be just an index) and its values. */
export interface StoredWeight {
  storedName: string;
  array: NumericArray;
}

function fail(message: string): never {
  throw new ModelImportError('weights', message);
}

/** NaN and ±Inf counts of a weight and the flat index of the first (undefined when all are finite). */
function nonFiniteCount(data: Float32Array): { nan: number; inf: number; first: number } | undefined {
  let nan = 0;
  let inf = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v === 0) continue; // finite
    if (v !== v) nan++;
    else inf++;
    if (first < 0) first = i;
  }
  return first < 0 ? undefined : { nan, inf, first };
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return idx;
}

/** Weights of every layer group listed in `layer_names` (legacy HDF5). */
export function readLegacyH5Weights(f: H5File, root = '/model_weights'): Map<string, StoredWeight[]> {
  const layerNames = f.stringListAttr(root, 'layer_names');
  if (!layerNames) fail(`${f.label}: ${root} has no layer_names attribute (not a Keras legacy HDF5 weights group)`);
  const out = new Map<string, StoredWeight[]>();
  for (const layer of layerNames) {
    const g = `${root}/${layer}`;
    if (f.kind(g) !== 'group') fail(`${f.label}: layer '${layer}' is listed in layer_names but ${g} is missing`);
    const names = f.stringListAttr(g, 'weight_names') ?? [];
    out.set(
      layer,
      names.map((n) => {
        const p = `${g}/${n}`;
        if (f.kind(p) !== 'dataset')
          fail(`${f.label}: layer '${layer}': weight '${n}' (listed in weight_names) is missing at ${p}`);
        return { storedName: n, array: f.dataset(p) };
      }),
    );
  }
  return out;
}

/** Weights of the given layers from a Keras 3 archive's model.weights.h5 (`layers/<name>/vars/<i>`). */
export function readArchiveWeights(f: H5File, layerNames: string[]): Map<string, StoredWeight[]> {
  if (f.kind('/layers') !== 'group') fail(`${f.label}: no 'layers' group (not a Keras 3 model.weights.h5)`);
  const out = new Map<string, StoredWeight[]>();
  for (const layer of layerNames) {
    const vars = `/layers/${layer}/vars`;
    if (f.kind(vars) !== 'group') {
      out.set(layer, []);
      continue;
    }
    const keys = f
      .keys(vars)
      .filter((k) => /^\d+$/.test(k))
      .sort((a, b) => Number(a) - Number(b));
    keys.forEach((k, i) => {
      if (Number(k) !== i)
        fail(`${f.label}: layer '${layer}': variables ${keys.join(', ')} are not numbered 0..${keys.length - 1}`);
    });
    out.set(
      layer,
      keys.map((k) => ({ storedName: k, array: f.dataset(`${vars}/${k}`) })),
    );
  }
  return out;
}

/** 'conv2d_3/kernel:0' -> 'kernel'; '0' stays '0'. */
function baseName(stored: string): string {
  const last = stored.split('/').pop() ?? stored;
  return last.replace(/:\d+$/, '');
}

/**
 * Puts stored weights onto the spec: for each spec layer with weights, the stored layer matched to
 * it must hold exactly the expected tensors (count, names when stored, shapes, float32, every value
 * finite: a NaN/Inf weight would only show up later as NaN outputs, far from its cause).
 */
export function mapWeights(
  spec: ModelSpec,
  toFile: Map<string, string>,
  stored: Map<string, StoredWeight[]>,
  label: string,
): ModelWeights {
  const weights: ModelWeights = new Map();
  for (const layer of spec.layers) {
    const expected = weightShapes(spec, layer);
    const fileName = toFile.get(layer.name) ?? layer.name;
    const who =
      fileName === layer.name
        ? `layer '${layer.name}' (${layer.className})`
        : `layer '${fileName}' (${layer.className}; the notebook's '${layer.name}')`;
    const got = stored.get(fileName) ?? [];
    if (expected.length === 0) {
      if (got.length)
        fail(
          `${label}: ${who} has ${got.length} stored weight(s) (${got.map((w) => w.storedName).join(', ')}); it should have none`,
        );
      continue;
    }
    if (got.length !== expected.length) {
      const missing = got.length < expected.length;
      fail(
        `${label}: ${who}: ${missing ? 'missing weight(s)' : 'unexpected extra weight(s)'}: the file has ${got.length} ` +
          `(${got.map((w) => w.storedName).join(', ') || 'none'}), expected ${expected.length} (${expected.map((e) => e.name).join(', ')})`,
      );
    }
    const list: WeightTensor[] = [];
    expected.forEach((e, i) => {
      const w = got[i];
      const b = baseName(w.storedName);
      if (!/^\d+$/.test(b) && b !== e.name) {
        fail(
          `${label}: ${who}: weight #${i} is '${w.storedName}', expected '${e.name}' (Keras order: ${expected.map((x) => x.name).join(', ')})`,
        );
      }
      if (w.array.shape.length !== e.shape.length || w.array.shape.some((d, k) => d !== e.shape[k])) {
        fail(
          `${label}: ${who}: weight '${e.name}' has shape [${w.array.shape.join(', ')}] in the file, expected [${e.shape.join(', ')}]`,
        );
      }
      if (w.array.dtype !== 'float32' || !(w.array.data instanceof Float32Array)) {
        fail(`${label}: ${who}: weight '${e.name}' is stored as ${w.array.dtype}; the notebook's model is float32`);
      }
      const bad = nonFiniteCount(w.array.data);
      if (bad) {
        fail(
          `${label}: ${who}: weight '${e.name}' holds ${bad.nan + bad.inf} non-finite value(s) (${bad.nan} NaN, ${bad.inf} Inf; ` +
            `the first at [${unravel(bad.first, e.shape).join(', ')}]: ${w.array.data[bad.first]})`,
        );
      }
      list.push({ name: e.name, shape: [...e.shape], data: w.array.data, trainable: e.trainable });
    });
    weights.set(layer.name, list);
  }
  // Stored weights of layers the spec does not have would have failed the architecture match; any
  // weights left over belong to no matched layer.
  const matched = new Set(toFile.values());
  for (const [name, ws] of stored) {
    if (ws.length && !matched.has(name))
      fail(`${label}: weights stored for layer '${name}', which is not a layer of the model config`);
  }
  return weights;
}
