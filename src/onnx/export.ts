/**
 * Exports a ModelSpec and its Keras weights as a standard ONNX model (opset 17, IR version 8).
 *
 * Layout: the graph input and every graph output are NHWC with a dynamic batch dimension, as in
 * Keras; inside, the graph runs NCHW (the layout of ONNX Conv/Pool/BatchNormalization), with one
 * Transpose after the input and one before each NHWC output. Keras's Flatten flattens NHWC, so the
 * exporter transposes back to NHWC before Flatten (the Dense kernel rows stay in Keras order).
 *
 * Per Keras layer:
 *   ZeroPadding2D        Pad (constant 0; pads input [0,0,top,left,0,0,bottom,right])
 *   Conv2D               Conv with explicit pads; 'same' = TF rule (the odd extra row/column goes
 *                        bottom/right), never auto_pad. Kernel [kh,kw,cin,cout] -> W [cout,cin,kh,kw].
 *   BatchNormalization   inference: BatchNormalization (training_mode 0) with the moving statistics;
 *                        training:  batch statistics, decomposed into standard ops:
 *                          mean = ReduceMean(x, axes [0,2,3]); d = x - mean;
 *                          var  = ReduceMean(d*d, axes [0,2,3])          (biased, over N,H,W)
 *                          y    = (d / Sqrt(var + eps)) * gamma + beta
 *                        (ONNX BatchNormalization training_mode=1 is not used: ORT's graph
 *                        optimizations mishandle it; the decomposition is plain arithmetic.)
 *   Activation relu      Relu
 *   MaxPooling2D         MaxPool (explicit pads)
 *   AveragePooling2D     AveragePool (explicit pads, count_include_pad 0 as TF)
 *   Add                  Add
 *   Flatten              Transpose to NHWC + Flatten(axis 1)
 *   Dense                Gemm(x, kernel [in,units], bias) -> `<name>:logits`, then Softmax (axis 1)
 *
 * Captures: each requested layer name (or `<dense>:logits`) becomes an extra graph output named
 * `capture/<name>`, NHWC for 4-D tensors.
 *
 * Initializers: `<layer>/<keras weight name>` (kernel, bias, gamma, beta, moving_mean,
 * moving_variance) plus helper constants under `const/` (pads, axes, epsilon) that are not model
 * parameters. A training-mode graph does not read the moving statistics and does not contain them
 * (unused initializers would be dropped with a warning by ONNX Runtime); the inference-mode graph
 * holds every Keras weight.
 */
import { LOGITS_SUFFIX } from '../model/builders';
import { weightShapes } from '../model/params';
import { samePadding } from '../model/shapes';
import type {
  BatchNormalizationSpec,
  Conv2DSpec,
  DenseSpec,
  LayerSpec,
  ModelSpec,
  ModelWeights,
  Padding,
  WeightTensor,
} from '../model/types';
import { OnnxGraph } from './onnx-graph';
import { DataType, encodeModel, type ModelProto, type ValueInfoProto } from './proto';

export const ONNX_OPSET = 17;
/** IR version that goes with opset 17 (ONNX 1.12). */
export const ONNX_IR_VERSION = 8;
export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'output';
export const CAPTURE_PREFIX = 'capture/';
export const BATCH_DIM_PARAM = 'batch';

export interface OnnxExportOptions {
  /** BatchNormalization mode baked into the graph (Keras model(x, training=...)). */
  training: boolean;
  /** Layer names (or `<dense>:logits`) to expose as extra graph outputs. */
  capture?: string[];
}

export interface OnnxModel {
  proto: ModelProto;
  inputName: string;
  outputName: string;
  /** Capture name -> graph output name. */
  captureOutputs: Record<string, string>;
  training: boolean;
}

interface Produced {
  name: string;
  /** 'nchw' for 4-D tensors inside the graph, 'flat' for [batch, features]. */
  layout: 'nchw' | 'flat';
}

function producerVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return String((require('../../package.json') as { version: string }).version);
  } catch {
    return 'unknown';
  }
}

function checkWeights(spec: ModelSpec, layer: LayerSpec, weights: ModelWeights): Map<string, WeightTensor> {
  const expected = weightShapes(spec, layer);
  const got = weights.get(layer.name);
  if (!got) throw new Error(`ONNX export: no weights for layer '${layer.name}' (${layer.className})`);
  const byName = new Map(got.map((w) => [w.name, w]));
  for (const e of expected) {
    const w = byName.get(e.name);
    if (!w) throw new Error(`ONNX export: layer '${layer.name}' is missing weight '${e.name}'`);
    if (w.shape.join(',') !== e.shape.join(',')) {
      throw new Error(
        `ONNX export: ${layer.name}/${e.name} has shape [${w.shape.join(',')}], expected [${e.shape.join(',')}]`,
      );
    }
    const n = e.shape.reduce((p, d) => p * d, 1);
    if (w.data.length !== n)
      throw new Error(`ONNX export: ${layer.name}/${e.name} has ${w.data.length} values, expected ${n}`);
  }
  return byName;
}

/** Keras Conv2D kernel [kh, kw, cin, cout] -> ONNX Conv weight [cout, cin, kh, kw]. */
export function convKernelToOihw(
  kernel: Float32Array,
  kh: number,
  kw: number,
  cin: number,
  cout: number,
  out: Float32Array = new Float32Array(kernel.length),
): Float32Array {
  if (out.length !== kernel.length)
    throw new Error(`convKernelToOihw: output has ${out.length} values, the kernel ${kernel.length}`);
  // In tiles of TILE input × TILE output channels: a plain loop writes each value a whole output
  // row (cin·kh·kw floats) away from the last, a cache miss each for ResNet-50's large kernels.
  const TILE = 32;
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i0 = 0; i0 < cin; i0 += TILE) {
        const i1 = Math.min(i0 + TILE, cin);
        for (let o0 = 0; o0 < cout; o0 += TILE) {
          const o1 = Math.min(o0 + TILE, cout);
          for (let i = i0; i < i1; i++) {
            const src = ((y * kw + x) * cin + i) * cout;
            for (let o = o0; o < o1; o++) out[((o * cin + i) * kh + y) * kw + x] = kernel[src + o];
          }
        }
      }
    }
  }
  return out;
}

/** ONNX pads [top, left, bottom, right] for a Keras window op over an input of size (h, w). */
export function onnxPads(
  h: number,
  w: number,
  kernel: [number, number],
  strides: [number, number],
  padding: Padding,
): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  const [top, bottom] = samePadding(h, kernel[0], strides[0]);
  const [left, right] = samePadding(w, kernel[1], strides[1]);
  return [top, left, bottom, right];
}

function valueInfo(name: string, dims: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Resolves a capture name to the layer whose output it is (for `x:logits`, the Dense layer). */
function captureLayer(spec: ModelSpec, byName: Map<string, LayerSpec>, capture: string): LayerSpec {
  if (capture.endsWith(LOGITS_SUFFIX)) {
    const base = capture.slice(0, -LOGITS_SUFFIX.length);
    const l = byName.get(base);
    if (!l || l.className !== 'Dense') {
      throw new Error(`ONNX export: capture '${capture}' needs a Dense layer named '${base}' in ${spec.model}`);
    }
    return l;
  }
  const l = byName.get(capture);
  if (!l) {
    throw new Error(
      `ONNX export: capture '${capture}' is not a layer of ${spec.model} (layers: ${spec.layers.map((x) => x.name).join(', ')})`,
    );
  }
  return l;
}

function inboundOf(layer: LayerSpec, produced: Map<string, Produced>, k = 0): Produced {
  const src = layer.inbound[k];
  const p = src === undefined ? undefined : produced.get(src);
  if (!p) throw new Error(`ONNX export: layer '${layer.name}' reads '${src}', which has not been produced`);
  return p;
}

function need4d(layer: LayerSpec, p: Produced): string {
  if (p.layout !== 'nchw') throw new Error(`ONNX export: ${layer.className} '${layer.name}' needs a 4-D input`);
  return p.name;
}

/**
 * Gives a Conv2D kernel as ONNX's [cout,cin,kh,kw] array: convKernelToOihw's result, possibly one made
 * for an earlier export of the same weights (src/onnx/exporter.ts). The array is only read.
 */
export type OihwKernels = (kernel: WeightTensor) => Float32Array;

/** Transposes the kernel now (no sharing). */
export const transposeKernel: OihwKernels = (kernel) => {
  const [kh, kw, cin, cout] = kernel.shape;
  return convKernelToOihw(kernel.data, kh, kw, cin, cout);
};

function emitConv(
  g: OnnxGraph,
  spec: ModelSpec,
  layer: Conv2DSpec,
  w: Map<string, WeightTensor>,
  x: string,
  oihw: OihwKernels,
): string {
  const kernel = w.get('kernel')!;
  const [kh, kw, cin, cout] = kernel.shape;
  const W = g.floatInitializer(
    `${layer.name}/kernel`,
    [cout, cin, kh, kw],
    oihw(kernel),
    'Keras kernel [kh,kw,cin,cout] transposed to [cout,cin,kh,kw]',
    true,
  );
  const B = g.floatInitializer(`${layer.name}/bias`, [cout], w.get('bias')!.data);
  const inShape = spec.layers.find((l) => l.name === layer.inbound[0])!.outputShape;
  return g.node(
    'Conv',
    [x, W, B],
    layer.name,
    {
      kernel_shape: [kh, kw],
      strides: [...layer.strides],
      pads: onnxPads(inShape[0], inShape[1], layer.kernelSize, layer.strides, layer.padding),
      dilations: [1, 1],
      group: 1,
    },
    `Keras Conv2D '${layer.name}' padding=${layer.padding}`,
  );
}

function emitBatchNorm(
  g: OnnxGraph,
  layer: BatchNormalizationSpec,
  w: Map<string, WeightTensor>,
  x: string,
  training: boolean,
): string {
  const c = layer.outputShape[layer.outputShape.length - 1];
  const init = (n: string): string => g.floatInitializer(`${layer.name}/${n}`, [c], w.get(n)!.data);
  const gamma = init('gamma');
  const beta = init('beta');
  const doc = `Keras BatchNormalization '${layer.name}' (${training ? 'training: batch statistics' : 'inference: moving statistics'})`;
  if (!training) {
    const mean = init('moving_mean');
    const variance = init('moving_variance');
    return g.node(
      'BatchNormalization',
      [x, gamma, beta, mean, variance],
      layer.name,
      { epsilon: { float: layer.epsilon } },
      doc,
    );
  }
  // Training mode reads no moving statistics; they are left out rather than stored unused
  // (ONNX Runtime warns about and drops unused initializers). See onnxParamCount.

  const n = layer.name;
  const axes = g.int64Constant('axes_0_2_3', [0, 2, 3]);
  const eps = g.floatScalarConstant(`epsilon_${layer.epsilon}`, layer.epsilon);
  const bm = g.node('ReduceMean', [x], `${n}/batch_mean`, { axes: [0, 2, 3], keepdims: 1 }, doc);
  const d = g.node('Sub', [x, bm], `${n}/centered`);
  const sq = g.node('Mul', [d, d], `${n}/centered_sq`);
  const bv = g.node('ReduceMean', [sq], `${n}/batch_variance`, { axes: [0, 2, 3], keepdims: 1 });
  const ve = g.node('Add', [bv, eps], `${n}/variance_eps`);
  const sd = g.node('Sqrt', [ve], `${n}/stddev`);
  const g4 = g.node('Unsqueeze', [gamma, axes], `${n}/gamma_1c11`);
  const b4 = g.node('Unsqueeze', [beta, axes], `${n}/beta_1c11`);
  const normalized = g.node('Div', [d, sd], `${n}/normalized`);
  const scaled = g.node('Mul', [normalized, g4], `${n}/scaled`);
  return g.node('Add', [scaled, b4], n);
}

function emitDense(
  g: OnnxGraph,
  layer: DenseSpec,
  w: Map<string, WeightTensor>,
  x: string,
  isOutput: boolean,
): { logits: string; out: string } {
  const kernel = w.get('kernel')!;
  const K = g.floatInitializer(`${layer.name}/kernel`, [...kernel.shape], kernel.data);
  const B = g.floatInitializer(`${layer.name}/bias`, [layer.units], w.get('bias')!.data);
  const outName = isOutput ? ONNX_OUTPUT_NAME : layer.name;
  if (layer.activation === 'linear') {
    const out = g.node('Gemm', [x, K, B], outName, { transA: 0, transB: 0 }, `Keras Dense '${layer.name}'`);
    return { logits: out, out };
  }
  const logits = g.node(
    'Gemm',
    [x, K, B],
    `${layer.name}${LOGITS_SUFFIX}`,
    { transA: 0, transB: 0 },
    `Keras Dense '${layer.name}' before its softmax`,
  );
  const out = g.node('Softmax', [logits], outName, { axis: 1 }, `softmax of Keras Dense '${layer.name}'`);
  return { logits, out };
}

/**
 * Builds the ONNX ModelProto for `spec` with `weights` (not yet serialized). `oihw` gives the Conv
 * weights in ONNX layout (default: transposed now).
 */
export function buildOnnxModel(
  spec: ModelSpec,
  weights: ModelWeights,
  opts: OnnxExportOptions,
  oihw: OihwKernels = transposeKernel,
): OnnxModel {
  const byName = new Map(spec.layers.map((l) => [l.name, l]));
  const captures = [...new Set(opts.capture ?? [])];
  const captureTargets = captures.map((c) => ({ name: c, layer: captureLayer(spec, byName, c) }));
  const g = new OnnxGraph();
  const produced = new Map<string, Produced>();
  const logitsOf = new Map<string, string>();
  const inputLayer = byName.get(spec.input);
  if (!inputLayer || inputLayer.className !== 'InputLayer')
    throw new Error(`ONNX export: ${spec.model} has no InputLayer '${spec.input}'`);
  if (inputLayer.outputShape.length !== 3)
    throw new Error(`ONNX export: input must be h,w,c, got [${inputLayer.outputShape.join(',')}]`);

  for (const layer of spec.layers) {
    const isOutput = layer.name === spec.output;
    switch (layer.className) {
      case 'InputLayer': {
        if (layer.name !== spec.input)
          throw new Error(`ONNX export: second InputLayer '${layer.name}' is not supported`);
        g.declareInput(ONNX_INPUT_NAME);
        const t = g.node('Transpose', [ONNX_INPUT_NAME], layer.name, { perm: [0, 3, 1, 2] }, 'NHWC input to NCHW');
        produced.set(layer.name, { name: t, layout: 'nchw' });
        break;
      }
      case 'ZeroPadding2D': {
        const x = need4d(layer, inboundOf(layer, produced));
        const [[top, bottom], [left, right]] = layer.padding;
        const pads = g.int64Constant(`pads_${top}_${left}_${bottom}_${right}`, [0, 0, top, left, 0, 0, bottom, right]);
        produced.set(layer.name, {
          name: g.node('Pad', [x, pads], layer.name, { mode: 'constant' }, `Keras ZeroPadding2D '${layer.name}'`),
          layout: 'nchw',
        });
        break;
      }
      case 'Conv2D': {
        const x = need4d(layer, inboundOf(layer, produced));
        produced.set(layer.name, {
          name: emitConv(g, spec, layer, checkWeights(spec, layer, weights), x, oihw),
          layout: 'nchw',
        });
        break;
      }
      case 'BatchNormalization': {
        const x = need4d(layer, inboundOf(layer, produced));
        produced.set(layer.name, {
          name: emitBatchNorm(g, layer, checkWeights(spec, layer, weights), x, opts.training),
          layout: 'nchw',
        });
        break;
      }
      case 'Activation': {
        const p = inboundOf(layer, produced);
        produced.set(layer.name, {
          name: g.node('Relu', [p.name], layer.name, {}, `Keras Activation relu '${layer.name}'`),
          layout: p.layout,
        });
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const x = need4d(layer, inboundOf(layer, produced));
        const inShape = byName.get(layer.inbound[0])!.outputShape;
        const attrs = {
          kernel_shape: [...layer.poolSize],
          strides: [...layer.strides],
          pads: onnxPads(inShape[0], inShape[1], layer.poolSize, layer.strides, layer.padding),
          ...(layer.className === 'AveragePooling2D' ? { count_include_pad: 0 } : {}),
        };
        const op = layer.className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
        produced.set(layer.name, {
          name: g.node(op, [x], layer.name, attrs, `Keras ${layer.className} '${layer.name}'`),
          layout: 'nchw',
        });
        break;
      }
      case 'Add': {
        if (layer.inbound.length !== 2)
          throw new Error(`ONNX export: Add '${layer.name}' must have 2 inputs, has ${layer.inbound.length}`);
        const a = inboundOf(layer, produced, 0);
        const b = inboundOf(layer, produced, 1);
        if (a.layout !== b.layout) throw new Error(`ONNX export: Add '${layer.name}' mixes 4-D and flat inputs`);
        produced.set(layer.name, {
          name: g.node('Add', [a.name, b.name], layer.name, {}, `Keras Add '${layer.name}'`),
          layout: a.layout,
        });
        break;
      }
      case 'Flatten': {
        const p = inboundOf(layer, produced);
        let src = p.name;
        if (p.layout === 'nchw') {
          src = g.node(
            'Transpose',
            [p.name],
            `${layer.name}/nhwc`,
            { perm: [0, 2, 3, 1] },
            'back to NHWC: Keras flattens in NHWC order',
          );
        }
        produced.set(layer.name, {
          name: g.node('Flatten', [src], layer.name, { axis: 1 }, `Keras Flatten '${layer.name}'`),
          layout: 'flat',
        });
        break;
      }
      case 'Dense': {
        const p = inboundOf(layer, produced);
        if (p.layout !== 'flat') throw new Error(`ONNX export: Dense '${layer.name}' needs a flat input`);
        const { logits, out } = emitDense(g, layer, checkWeights(spec, layer, weights), p.name, isOutput);
        logitsOf.set(layer.name, logits);
        produced.set(layer.name, { name: out, layout: 'flat' });
        break;
      }
      default:
        throw new Error(`ONNX export: unsupported layer class '${(layer as LayerSpec).className}'`);
    }
  }

  const outLayer = byName.get(spec.output);
  const outProduced = produced.get(spec.output);
  if (!outLayer || !outProduced) throw new Error(`ONNX export: output layer '${spec.output}' was not produced`);
  const toGraphOutput = (p: Produced, name: string, doc: string): string =>
    p.layout === 'nchw'
      ? g.node('Transpose', [p.name], name, { perm: [0, 2, 3, 1] }, `${doc} (NCHW to NHWC)`)
      : g.node('Identity', [p.name], name, {}, doc);
  if (outProduced.name !== ONNX_OUTPUT_NAME)
    toGraphOutput(outProduced, ONNX_OUTPUT_NAME, `model output '${spec.output}'`);
  const outputs: ValueInfoProto[] = [valueInfo(ONNX_OUTPUT_NAME, [BATCH_DIM_PARAM, ...outLayer.outputShape])];

  const captureOutputs: Record<string, string> = {};
  for (const { name, layer } of captureTargets) {
    const gname = `${CAPTURE_PREFIX}${name}`;
    let src: Produced;
    if (name.endsWith(LOGITS_SUFFIX)) src = { name: logitsOf.get(layer.name)!, layout: 'flat' };
    else src = layer.className === 'InputLayer' ? { name: ONNX_INPUT_NAME, layout: 'flat' } : produced.get(layer.name)!;
    toGraphOutput(src, gname, `capture of '${name}'`);
    captureOutputs[name] = gname;
    outputs.push(valueInfo(gname, [BATCH_DIM_PARAM, ...layer.outputShape]));
  }

  const proto: ModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'resnet-conformance',
    producerVersion: producerVersion(),
    docString: `Keras ${spec.model} exported by resnet-conformance; NHWC input/output, BatchNormalization in ${opts.training ? 'training (batch statistics)' : 'inference (moving statistics)'} mode.`,
    graph: {
      name: spec.model,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(ONNX_INPUT_NAME, [BATCH_DIM_PARAM, ...inputLayer.outputShape])],
      output: outputs,
    },
    metadataProps: [
      { key: 'resnet_conformance.model', value: spec.model },
      { key: 'resnet_conformance.args', value: JSON.stringify(spec.args) },
      { key: 'resnet_conformance.training', value: String(opts.training) },
      { key: 'resnet_conformance.layout', value: 'input and outputs NHWC (batch, h, w, c); computed in NCHW' },
      { key: 'resnet_conformance.captures', value: JSON.stringify(captureOutputs) },
    ],
  };
  return { proto, inputName: ONNX_INPUT_NAME, outputName: ONNX_OUTPUT_NAME, captureOutputs, training: opts.training };
}

/** Builds and serializes the ONNX model. */
export function exportOnnx(
  spec: ModelSpec,
  weights: ModelWeights,
  opts: OnnxExportOptions,
): OnnxModel & { bytes: Uint8Array } {
  const model = buildOnnxModel(spec, weights, opts);
  return { ...model, bytes: encodeModel(model.proto) };
}
