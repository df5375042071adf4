/**
 * Is a saved Keras model the notebook's architecture? Infers which model it is (ResNet-50,
 * identity_block or convolutional_block, with their arguments) from the stored layer graph, builds
 * that model's spec (src/model) and matches every stored layer to a spec layer: same class, same
 * attributes (filters, kernel, strides, padding, activation, epsilon, ...), same wiring.
 *
 * Matching is by structure, not by name: a model built in a Keras session that had created other
 * layers before has names like conv2d_57 instead of the fresh-session conv2d, and Keras 2 calls the
 * input input_1 where Keras 3 says input_layer. Spec layers are visited in creation order; a stored
 * layer is a candidate when its class and attributes agree and its inputs are the stored layers
 * already matched to the spec layer's inputs. When two candidates are indistinguishable locally
 * (a convolutional block whose shortcut Conv2D has the same attributes as its first Conv2D) the
 * search backtracks.
 */
import { convolutionalBlock, identityBlock, resnet50 } from '../model/builders';
import { parseInitializer } from '../model/initializers';
import type { InitializerSpec, LayerSpec, ModelSpec } from '../model/types';
import { ModelImportError } from './errors';
import type { ImportedGraph, ImportedLayer } from './keras-config';

/** Layer classes of the notebook's models. */
export const NOTEBOOK_LAYER_CLASSES = [
  'InputLayer',
  'ZeroPadding2D',
  'Conv2D',
  'BatchNormalization',
  'Activation',
  'MaxPooling2D',
  'AveragePooling2D',
  'Add',
  'Flatten',
  'Dense',
] as const;

export interface ArchitectureMatch {
  spec: ModelSpec;
  /** Spec layer name -> stored layer name. */
  toFile: Map<string, string>;
  /** Remarks that do not prevent the import (e.g. a different call-time training argument). */
  notes: string[];
}

function arch(where: string, message: string): never {
  throw new ModelImportError('architecture', `${where}: ${message}`);
}

function describe(l: ImportedLayer): string {
  return `'${l.name}' (${l.className})`;
}

function pair(v: unknown): [number, number] | undefined {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number'))
    return [v[0] as number, v[1] as number];
  return undefined;
}

function dtypeName(v: unknown): string {
  if (v === undefined || v === null) return 'float32';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null) {
    const cfg = (v as { config?: { name?: unknown } }).config;
    if (cfg && typeof cfg.name === 'string') return cfg.name;
  }
  return JSON.stringify(v);
}

function inputShapeOf(l: ImportedLayer): number[] {
  const s = (l.config.batch_shape ?? l.config.batch_input_shape) as unknown;
  if (
    !Array.isArray(s) ||
    s.length !== 4 ||
    s[0] !== null ||
    !s.slice(1).every((d) => Number.isInteger(d) && (d as number) > 0)
  ) {
    arch(`input layer ${describe(l)}`, `shape ${JSON.stringify(s)} is not (None, h, w, c) with known h, w, c`);
  }
  return s.slice(1) as number[];
}

function activationName(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null) {
    const o = v as { class_name?: unknown; config?: { name?: unknown } };
    if (typeof o.config?.name === 'string') return o.config.name;
    if (typeof o.class_name === 'string') return o.class_name;
  }
  return JSON.stringify(v);
}

/** Differences between a stored layer's attributes and a spec layer's (empty: they agree). */
export function configDifferences(l: ImportedLayer, s: LayerSpec): string[] {
  const d: string[] = [];
  const c = l.config;
  const eq = (what: string, got: unknown, want: unknown): void => {
    if (JSON.stringify(got) !== JSON.stringify(want))
      d.push(`${what} ${JSON.stringify(got)} (expected ${JSON.stringify(want)})`);
  };
  const dt = dtypeName(c.dtype);
  if (dt !== 'float32') d.push(`dtype ${dt} (expected float32)`);
  const df = c.data_format;
  if (df !== undefined && df !== null && df !== 'channels_last')
    d.push(`data_format ${JSON.stringify(df)} (expected channels_last)`);
  switch (s.className) {
    case 'InputLayer':
      eq('input shape', inputShapeOf(l), s.outputShape);
      break;
    case 'ZeroPadding2D': {
      const p = c.padding;
      const norm =
        typeof p === 'number'
          ? [
              [p, p],
              [p, p],
            ]
          : Array.isArray(p) && p.every((x) => typeof x === 'number')
            ? [
                [p[0], p[0]],
                [p[1], p[1]],
              ]
            : p;
      eq('padding', norm, s.padding);
      break;
    }
    case 'Conv2D':
      eq('filters', c.filters, s.filters);
      eq('kernel_size', pair(c.kernel_size), s.kernelSize);
      eq('strides', pair(c.strides), s.strides);
      eq('padding', c.padding, s.padding);
      eq('activation', activationName(c.activation), 'linear');
      eq('use_bias', c.use_bias, true);
      if (c.dilation_rate !== undefined) eq('dilation_rate', pair(c.dilation_rate), [1, 1]);
      if (c.groups !== undefined) eq('groups', c.groups, 1);
      break;
    case 'BatchNormalization': {
      const ax = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : c.axis;
      if (ax !== 3 && ax !== -1) d.push(`axis ${JSON.stringify(c.axis)} (expected 3, the channel axis)`);
      eq('epsilon', c.epsilon, s.epsilon);
      eq('center', c.center ?? true, true);
      eq('scale', c.scale ?? true, true);
      if (c.renorm === true) d.push('renorm true (expected false)');
      break;
    }
    case 'Activation':
      eq('activation', activationName(c.activation), s.activation);
      break;
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      eq('pool_size', pair(c.pool_size), s.poolSize);
      eq('strides', pair(c.strides ?? c.pool_size), s.strides);
      eq('padding', c.padding, s.padding);
      break;
    case 'Dense':
      eq('units', c.units, s.units);
      eq('activation', activationName(c.activation), s.activation);
      eq('use_bias', c.use_bias, true);
      break;
    case 'Add':
    case 'Flatten':
      break;
  }
  return d;
}

function initializerOf(l: ImportedLayer): InitializerSpec | undefined {
  const v = l.config.kernel_initializer as { class_name?: unknown; config?: Record<string, unknown> } | undefined;
  if (!v || typeof v.class_name !== 'string') return undefined;
  const cfg = v.config ?? {};
  const seed = Number.isInteger(cfg.seed) ? `@${cfg.seed as number}` : '';
  try {
    switch (v.class_name) {
      case 'GlorotUniform':
        return parseInitializer(`glorot_uniform${seed}`);
      case 'RandomUniform':
        if ((cfg.minval ?? -0.05) !== -0.05 || (cfg.maxval ?? 0.05) !== 0.05) return undefined;
        return parseInitializer(`random_uniform${seed}`);
      case 'Constant':
        return parseInitializer(`constant:${String(cfg.value)}`);
      case 'Zeros':
        return parseInitializer('zeros');
      case 'Ones':
        return parseInitializer('ones');
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

interface Inferred {
  spec: ModelSpec;
  notes: string[];
}

/** Which notebook model the stored graph is, as a spec. Throws ModelImportError('architecture'). */
export function inferSpec(g: ImportedGraph, where: string): Inferred {
  const byName = new Map(g.layers.map((l) => [l.name, l]));
  for (const l of g.layers) {
    if (!(NOTEBOOK_LAYER_CLASSES as readonly string[]).includes(l.className)) {
      arch(
        where,
        `layer ${describe(l)} is not a layer of the notebook's architecture (it has only ${NOTEBOOK_LAYER_CLASSES.join(', ')})`,
      );
    }
  }
  if (g.inputs.length !== 1 || g.outputs.length !== 1) {
    arch(
      where,
      `the model has ${g.inputs.length} input(s) and ${g.outputs.length} output(s); the notebook's models have one of each`,
    );
  }
  const input = byName.get(g.inputs[0])!;
  if (input.className !== 'InputLayer') arch(where, `the model input ${describe(input)} is not an InputLayer`);
  const inputShape = inputShapeOf(input) as [number, number, number];
  const count = (cls: string): number => g.layers.filter((l) => l.className === cls).length;
  const consumers = (name: string): ImportedLayer[] => g.layers.filter((l) => l.inbound.includes(name));
  const notes: string[] = [];
  const dense = g.layers.filter((l) => l.className === 'Dense');
  const convs = count('Conv2D');
  if (dense.length === 1 && count('ZeroPadding2D') === 1) {
    const classes = dense[0].config.units;
    if (!Number.isInteger(classes) || (classes as number) <= 0)
      arch(where, `Dense layer ${describe(dense[0])} has units ${JSON.stringify(classes)}`);
    return { spec: resnet50({ inputShape, classes: classes as number }), notes };
  }
  if (dense.length === 0 && (convs === 3 || convs === 4)) {
    // The main path: input -> Conv2D -> BatchNormalization -> Activation -> Conv2D -> ... (the
    // convolutional block's shortcut Conv2D also reads the input, but its BatchNormalization feeds Add).
    const mainPath = (c: ImportedLayer): ImportedLayer[] | undefined => {
      const path: ImportedLayer[] = [c];
      let cur = c;
      for (const step of ['BatchNormalization', 'Activation', 'Conv2D', 'BatchNormalization', 'Activation', 'Conv2D']) {
        const next = consumers(cur.name).filter((l) => l.className === step);
        if (next.length !== 1) return undefined;
        cur = next[0];
        if (step === 'Conv2D') path.push(cur);
      }
      return path;
    };
    const firsts = consumers(input.name).filter((l) => l.className === 'Conv2D');
    const paths = firsts.map(mainPath).filter((p): p is ImportedLayer[] => p !== undefined);
    if (paths.length !== 1) {
      arch(
        where,
        `no Conv2D -> BatchNormalization -> Activation chain of three Conv2D layers from the input; ` +
          'not an identity_block or convolutional_block of the notebook',
      );
    }
    const [c1, c2, c3] = paths[0];
    const filters = [c1, c2, c3].map((c) => c.config.filters as number);
    const k = pair(c2.config.kernel_size);
    if (!k || k[0] !== k[1])
      arch(
        where,
        `middle Conv2D ${describe(c2)} has kernel_size ${JSON.stringify(c2.config.kernel_size)}; the notebook's f x f kernels are square`,
      );
    const st = pair(c1.config.strides);
    if (!st || st[0] !== st[1])
      arch(
        where,
        `first Conv2D ${describe(c1)} has strides ${JSON.stringify(c1.config.strides)}; the notebook's (s, s) strides are square`,
      );
    const trainingArgs = g.layers.filter((l) => l.className === 'BatchNormalization').map((l) => l.callKwargs.training);
    const training = trainingArgs.every((t) => t === false) ? false : true;
    if (trainingArgs.some((t) => t !== true)) {
      notes.push(
        `BatchNormalization call-time training arguments in the file: ${JSON.stringify([...new Set(trainingArgs.map((t) => t ?? null))])} ` +
          '(the notebook writes training=True; runs here always pass training explicitly, which overrides it)',
      );
    }
    const init = initializerOf(c1);
    const opts = { inputShape, training, ...(init ? { initializer: init } : {}) };
    try {
      const spec = convs === 3 ? identityBlock(k[0], filters, opts) : convolutionalBlock(k[0], filters, st[0], opts);
      return { spec, notes };
    } catch (err) {
      return arch(
        where,
        `not the notebook's ${convs === 3 ? 'identity_block' : 'convolutional_block'}: ${(err as Error).message}`,
      );
    }
  }
  return arch(
    where,
    `not the notebook's architecture: ${convs} Conv2D and ${dense.length} Dense layer(s) ` +
      "(the notebook's ResNet-50 has 53 Conv2D and 1 Dense; identity_block 3 Conv2D; convolutional_block 4 Conv2D, no Dense)",
  );
}

/** Matches stored layers to the spec's; throws ModelImportError('architecture') naming the first layer that does not fit. */
export function matchArchitecture(g: ImportedGraph, where: string): ArchitectureMatch {
  const { spec, notes } = inferSpec(g, where);
  // Layer counts per class first: a clear message for an extra or a missing layer.
  for (const cls of NOTEBOOK_LAYER_CLASSES) {
    const inFile = g.layers.filter((l) => l.className === cls).length;
    const inSpec = spec.layers.filter((l) => l.className === cls).length;
    if (inFile !== inSpec) {
      arch(where, `the file has ${inFile} ${cls} layer(s), the notebook's ${spec.model} has ${inSpec}`);
    }
  }
  const byName = new Map(g.layers.map((l) => [l.name, l]));
  const toFile = new Map<string, string>();
  const used = new Set<string>();
  let deepest = -1;
  let deepestWhy = '';

  const sameInputs = (s: LayerSpec, l: ImportedLayer): boolean => {
    const want = s.inbound.map((n) => toFile.get(n));
    if (want.length !== l.inbound.length) return false;
    if (s.className === 'Add') return [...want].sort().join('\n') === [...l.inbound].sort().join('\n');
    return want.every((w, i) => w === l.inbound[i]);
  };

  const candidates = (i: number): ImportedLayer[] => {
    const s = spec.layers[i];
    if (s.className === 'InputLayer') return [byName.get(g.inputs[0])!];
    const fed = g.layers.filter((l) => !used.has(l.name) && sameInputs(s, l));
    const ok = fed.filter((l) => l.className === s.className && configDifferences(l, s).length === 0);
    if (ok.length === 0 && i >= deepest) {
      deepest = i;
      const fromFile = s.inbound.map((n) => `'${toFile.get(n)}'`).join(' + ');
      const near = fed.map((l) =>
        l.className !== s.className
          ? `${describe(l)} is a ${l.className}`
          : `${describe(l)}: ${configDifferences(l, s).join(', ')}`,
      );
      deepestWhy =
        `no layer in the file matches the notebook's ${s.className} '${s.name}' fed by ${fromFile}` +
        (near.length ? ` (${near.join('; ')})` : ' (no unmatched layer in the file takes exactly these inputs)');
    }
    // A layer with the spec's (fresh-session) name first, then file order.
    return ok.sort((a, b) => Number(b.name === s.name) - Number(a.name === s.name));
  };

  const assign = (i: number): boolean => {
    if (i === spec.layers.length) return true;
    const s = spec.layers[i];
    for (const c of candidates(i)) {
      if (s.className === 'InputLayer') {
        const diffs = configDifferences(c, s);
        if (diffs.length) arch(where, `input layer ${describe(c)}: ${diffs.join(', ')}`);
      }
      toFile.set(s.name, c.name);
      used.add(c.name);
      if (assign(i + 1)) return true;
      toFile.delete(s.name);
      used.delete(c.name);
    }
    return false;
  };

  if (!assign(0)) arch(where, deepestWhy || "the layer graph does not match the notebook's");
  const outFile = toFile.get(spec.output);
  if (outFile !== g.outputs[0])
    arch(
      where,
      `the model output is '${g.outputs[0]}', expected the layer matching the notebook's '${spec.output}' ('${outFile}')`,
    );
  return { spec, toFile, notes };
}
