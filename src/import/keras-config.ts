/**
 * A saved Keras functional model config (the `model_config` attribute of a legacy .h5, or the
 * config.json of a .keras archive) as a plain layer graph, for both dialects:
 *
 *  - Keras 2 (tf.keras 2.x): {"class_name": "Functional"|"Model", "config": {"layers": [{"class_name",
 *    "config", "name", "inbound_nodes": [[["conv2d", 0, 0, {"training": true}], ...]]}], "input_layers":
 *    [["input_1", 0, 0]], "output_layers": [...]}}; InputLayer config has "batch_input_shape".
 *  - Keras 3: {"module", "class_name": "Functional", "config": {"layers": [{..., "inbound_nodes":
 *    [{"args": [<__keras_tensor__ with keras_history [name, node, index]> | [tensors...]], "kwargs": {...}}]}],
 *    "input_layers": ["input_layer", 0, 0] (or a list of such)}}; InputLayer config has "batch_shape";
 *    layer dtypes are DTypePolicy objects.
 */
import { ModelImportError } from './errors';

export type KerasDialect = 'keras2' | 'keras3';

export interface ImportedLayer {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** Producer layer names, in call order (Add: its list of inputs). */
  inbound: string[];
  /** Keyword arguments of the call (e.g. {training: true} for the notebook's BatchNormalization calls). */
  callKwargs: Record<string, unknown>;
}

export interface ImportedGraph {
  dialect: KerasDialect;
  /** Functional (Keras 2.4+ and 3), Model (older Keras 2). */
  modelClass: string;
  layers: ImportedLayer[];
  inputs: string[];
  outputs: string[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObj(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(where: string, message: string): never {
  throw new ModelImportError('architecture', `${where}: ${message}`);
}

function tensorRef(v: unknown, where: string): [string, number, number] {
  // Keras 3: {"class_name": "__keras_tensor__", "config": {"keras_history": [name, node, index]}}
  if (isObj(v) && v.class_name === '__keras_tensor__' && isObj(v.config) && Array.isArray(v.config.keras_history)) {
    const h = v.config.keras_history;
    if (typeof h[0] === 'string' && typeof h[1] === 'number' && typeof h[2] === 'number') return [h[0], h[1], h[2]];
  }
  return bad(where, `an inbound argument is not a Keras tensor reference: ${JSON.stringify(v).slice(0, 120)}`);
}

function inboundKeras3(
  nodes: unknown[],
  where: string,
): { inbound: string[]; kwargs: Record<string, unknown>; refs: [string, number, number][] } {
  const node = nodes[0];
  if (!isObj(node) || !Array.isArray(node.args)) bad(where, 'inbound node is not {args, kwargs} (Keras 3 form)');
  const refs: [string, number, number][] = [];
  for (const a of node.args) {
    if (Array.isArray(a)) for (const t of a) refs.push(tensorRef(t, where));
    else refs.push(tensorRef(a, where));
  }
  const kwargs = isObj(node.kwargs) ? { ...node.kwargs } : {};
  return { inbound: refs.map((r) => r[0]), kwargs, refs };
}

function inboundKeras2(
  nodes: unknown[],
  where: string,
): { inbound: string[]; kwargs: Record<string, unknown>; refs: [string, number, number][] } {
  const node = nodes[0];
  if (!Array.isArray(node)) bad(where, 'inbound node is not a list (Keras 2 form)');
  const refs: [string, number, number][] = [];
  let kwargs: Record<string, unknown> = {};
  for (const e of node) {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'number' || typeof e[2] !== 'number') {
      bad(where, `inbound entry is not [layer, node, tensor, kwargs]: ${JSON.stringify(e).slice(0, 120)}`);
    }
    refs.push([e[0], e[1], e[2]]);
    if (isObj(e[3])) kwargs = { ...kwargs, ...e[3] };
  }
  return { inbound: refs.map((r) => r[0]), kwargs, refs };
}

function ioList(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.length === 0) bad(where, 'input_layers/output_layers missing');
  const list = typeof v[0] === 'string' ? [v] : v;
  return list.map((e) => {
    if (!Array.isArray(e) || typeof e[0] !== 'string') bad(where, `bad input/output entry ${JSON.stringify(e)}`);
    return e[0] as string;
  });
}

/** Parses a model config (JSON text or object) into a layer graph; throws ModelImportError('architecture'). */
export function parseModelConfig(config: string | unknown, where: string): ImportedGraph {
  let root: unknown = config;
  if (typeof config === 'string') {
    try {
      root = JSON.parse(config);
    } catch (err) {
      throw new ModelImportError(
        'unreadable',
        `${where}: the model config is not valid JSON: ${(err as Error).message}`,
      );
    }
  }
  if (!isObj(root)) bad(where, 'the model config is not a JSON object');
  const className = typeof root.class_name === 'string' ? root.class_name : '?';
  if (className === 'Sequential') {
    bad(
      where,
      "the model is a Sequential model; the notebook's ResNet-50 and its blocks are functional models (Model(inputs, outputs))",
    );
  }
  if (className !== 'Functional' && className !== 'Model') {
    bad(where, `the model class is '${className}', not a functional Keras model (Functional/Model)`);
  }
  const cfg = root.config;
  if (!isObj(cfg) || !Array.isArray(cfg.layers)) bad(where, 'the model config has no layer list');
  const layers: ImportedLayer[] = [];
  let dialect: KerasDialect | undefined;
  const names = new Set<string>();
  for (const [i, l] of cfg.layers.entries()) {
    const lw = `${where}: layer #${i}`;
    if (!isObj(l) || typeof l.class_name !== 'string' || !isObj(l.config)) bad(lw, 'not a {class_name, config} object');
    const name =
      typeof l.name === 'string' ? l.name : typeof l.config.name === 'string' ? l.config.name : bad(lw, 'has no name');
    const lwn = `${where}: layer '${name}' (${l.class_name})`;
    if (names.has(name)) bad(lwn, 'the name appears twice');
    names.add(name);
    const nodes = Array.isArray(l.inbound_nodes) ? l.inbound_nodes : [];
    if (nodes.length > 1)
      bad(lwn, `is called ${nodes.length} times (a shared layer); the notebook calls every layer once`);
    let parsed = {
      inbound: [] as string[],
      kwargs: {} as Record<string, unknown>,
      refs: [] as [string, number, number][],
    };
    if (nodes.length === 1) {
      const d: KerasDialect = Array.isArray(nodes[0]) ? 'keras2' : 'keras3';
      if (dialect && d !== dialect) bad(lwn, 'mixes Keras 2 and Keras 3 inbound node forms');
      dialect = d;
      parsed = d === 'keras2' ? inboundKeras2(nodes, lwn) : inboundKeras3(nodes, lwn);
    }
    for (const [src, node, idx] of parsed.refs) {
      if (node !== 0 || idx !== 0)
        bad(lwn, `takes output ${idx} of call ${node} of '${src}'; the notebook's layers have one call and one output`);
    }
    layers.push({
      name,
      className: l.class_name,
      config: { ...l.config },
      inbound: parsed.inbound,
      callKwargs: parsed.kwargs,
    });
  }
  for (const l of layers) {
    for (const src of l.inbound) {
      if (!names.has(src))
        bad(`${where}: layer '${l.name}' (${l.className})`, `is fed by '${src}', which is not a layer of the model`);
    }
  }
  const inputs = ioList(cfg.input_layers, where);
  const outputs = ioList(cfg.output_layers, where);
  for (const n of [...inputs, ...outputs])
    if (!names.has(n)) bad(where, `input/output '${n}' is not a layer of the model`);
  if (!dialect) {
    // No layer has inbound nodes (a bare Input): decide by the InputLayer config keys.
    const inp = layers.find((l) => l.className === 'InputLayer');
    dialect = inp && 'batch_input_shape' in inp.config ? 'keras2' : 'keras3';
  }
  return { dialect, modelClass: className, layers, inputs, outputs };
}
