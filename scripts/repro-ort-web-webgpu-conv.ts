/**
 * Standalone reproduction (not a test) of the onnxruntime-web WebGPU Conv divergence behind the
 * known failure of `onnxruntime-web-webgpu` on convolutional_block f2-s2 (docs/browser.md): a model
 * of one Conv node, built here with src/onnx helpers (not the Keras-spec exporter), run by
 * onnxruntime-web's webgpu execution provider in headless Chromium (the harness's page driver) and,
 * as a control, by its wasm build in this Node process; both against a float64 direct convolution.
 * Inputs, weights and bias are small multiples of 1/4, so the exact result is a float32 value and
 * any correct float32 kernel gives it to within a few ULP.
 *
 * Each row is one Conv shape; the first is conv2d_1 of the f2-s2 block (2x2 kernel, 'same' =
 * pads [0,0,1,1] on a 2x2 input, 2 -> 4 channels, stride 1). Prints expected vs actual per row and
 * exits 1 when any row reproduces (webgpu off by more than ATOL while wasm is right), 0 when none
 * does, 2 when it cannot run (no Chromium / WebGPU adapter).
 *
 * Usage: npx tsx scripts/repro-ort-web-webgpu-conv.ts [--level disabled|basic|extended|all] [--json out.json]
 */
import * as fs from 'node:fs';
import { PageOrtWebDriver } from '../src/adapters/browser';
import { NodeOrtWebDriver } from '../src/adapters/onnxruntime-web';
import type { OrtWebLevel } from '../src/adapters/onnxruntime-web';
import { encodeModel, ONNX_IR_VERSION, ONNX_OPSET } from '../src/onnx';
import { OnnxGraph } from '../src/onnx/onnx-graph';

const ATOL = 1e-5;

interface ConvCase {
  name: string;
  cin: number;
  cout: number;
  h: number;
  w: number;
  k: number;
  /** ONNX order [top, left, bottom, right]. */
  pads: [number, number, number, number];
  stride: number;
}

const CASES: ConvCase[] = [
  { name: 'f2-s2 conv2d_1 (block shape)', cin: 2, cout: 4, h: 2, w: 2, k: 2, pads: [0, 0, 1, 1], stride: 1 },
  { name: 'same, stride 2', cin: 2, cout: 4, h: 2, w: 2, k: 2, pads: [0, 0, 1, 1], stride: 2 },
  { name: '1 -> 1 channel', cin: 1, cout: 1, h: 2, w: 2, k: 2, pads: [0, 0, 1, 1], stride: 1 },
  { name: '1 -> 1, stride 2', cin: 1, cout: 1, h: 2, w: 2, k: 2, pads: [0, 0, 1, 1], stride: 2 },
  { name: '2 -> 1 channel', cin: 2, cout: 1, h: 2, w: 2, k: 2, pads: [0, 0, 1, 1], stride: 1 },
  { name: '1 -> 4 channels', cin: 1, cout: 4, h: 2, w: 2, k: 2, pads: [0, 0, 1, 1], stride: 1 },
  { name: '1 -> 1, no pads (valid)', cin: 1, cout: 1, h: 2, w: 2, k: 2, pads: [0, 0, 0, 0], stride: 1 },
  { name: '1 -> 1, pads top/left', cin: 1, cout: 1, h: 2, w: 2, k: 2, pads: [1, 1, 0, 0], stride: 1 },
  { name: '1 -> 1, pads bottom only', cin: 1, cout: 1, h: 2, w: 2, k: 2, pads: [0, 0, 1, 0], stride: 1 },
  { name: '1 -> 1, pads right only', cin: 1, cout: 1, h: 2, w: 2, k: 2, pads: [0, 0, 0, 1], stride: 1 },
  { name: '1 -> 1, symmetric pads 1', cin: 1, cout: 1, h: 2, w: 2, k: 2, pads: [1, 1, 1, 1], stride: 1 },
  { name: '1 -> 1, 3x3 input', cin: 1, cout: 1, h: 3, w: 3, k: 2, pads: [0, 0, 1, 1], stride: 1 },
  { name: '1 -> 1, 4x4 input', cin: 1, cout: 1, h: 4, w: 4, k: 2, pads: [0, 0, 1, 1], stride: 1 },
  { name: '1 -> 1, 1x1 input', cin: 1, cout: 1, h: 1, w: 1, k: 2, pads: [0, 0, 1, 1], stride: 1 },
  { name: '3x3 kernel on 3x3 input, pads end 1', cin: 1, cout: 1, h: 3, w: 3, k: 3, pads: [0, 0, 1, 1], stride: 1 },
  { name: '3x3 kernel, pads 1 (f3 shape)', cin: 2, cout: 4, h: 2, w: 2, k: 3, pads: [1, 1, 1, 1], stride: 1 },
];

function outSize(n: number, k: number, p0: number, p1: number, s: number): number {
  return Math.floor((n + p0 + p1 - k) / s) + 1;
}

/** Multiples of 1/4 in [-1, 1]: exact in float32, and so are the products and their short sums. */
function quarterValues(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (((i * 5 + seed) % 9) - 4) / 4);
}

function convModel(c: ConvCase, weights: Float32Array, bias: Float32Array): Uint8Array {
  const g = new OnnxGraph();
  const x = g.declareInput('x');
  const W = g.floatInitializer('W', [c.cout, c.cin, c.k, c.k], weights);
  const B = g.floatInitializer('B', [c.cout], bias);
  g.node('Conv', [x, W, B], 'y', {
    kernel_shape: [c.k, c.k],
    strides: [c.stride, c.stride],
    pads: [...c.pads],
    dilations: [1, 1],
    group: 1,
  });
  const oh = outSize(c.h, c.k, c.pads[0], c.pads[2], c.stride);
  const ow = outSize(c.w, c.k, c.pads[1], c.pads[3], c.stride);
  const vi = (name: string, dims: number[]) => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'resnet-conformance repro-ort-web-webgpu-conv',
    producerVersion: '0',
    graph: {
      name: 'conv',
      node: g.nodes,
      initializer: g.initializers,
      input: [vi('x', [1, c.cin, c.h, c.w])],
      output: [vi('y', [1, c.cout, oh, ow])],
    },
    metadataProps: [],
  });
}

/** float64 direct convolution, NCHW, zero padding. */
function convReference(c: ConvCase, x: Float32Array, W: Float32Array, B: Float32Array): Float64Array {
  const oh = outSize(c.h, c.k, c.pads[0], c.pads[2], c.stride);
  const ow = outSize(c.w, c.k, c.pads[1], c.pads[3], c.stride);
  const y = new Float64Array(c.cout * oh * ow);
  for (let m = 0; m < c.cout; m++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let acc = B[m];
        for (let ci = 0; ci < c.cin; ci++)
          for (let di = 0; di < c.k; di++)
            for (let dj = 0; dj < c.k; dj++) {
              const r = i * c.stride + di - c.pads[0];
              const s = j * c.stride + dj - c.pads[1];
              if (r < 0 || r >= c.h || s < 0 || s >= c.w) continue;
              acc += x[(ci * c.h + r) * c.w + s] * W[((m * c.cin + ci) * c.k + di) * c.k + dj];
            }
        y[(m * oh + i) * ow + j] = acc;
      }
  return y;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const fmt = (v: ArrayLike<number>) => `[${Array.from(v, (x) => +x.toFixed(4)).join(', ')}]`;

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const level = (opt('--level') ?? 'all') as OrtWebLevel;
  if (!['disabled', 'basic', 'extended', 'all'].includes(level)) throw new Error(`--level ${level}: unknown`);
  const jsonOut = opt('--json');

  const gpu = new PageOrtWebDriver({ id: 'repro-webgpu', ep: 'webgpu' });
  const wasm = new NodeOrtWebDriver(1);
  const probe = await gpu.probe();
  if (!probe.available) {
    console.error(`cannot run: onnxruntime-web webgpu unavailable: ${probe.reason}\nfix: ${probe.fix ?? ''}`);
    await gpu.dispose();
    return 2;
  }
  const d = await gpu.describe();
  console.log(
    `onnxruntime-web ${d.version}, ${d.settings.chromium ? `Chromium ${d.settings.chromium}` : ''}, ` +
      `webgpu adapter: ${d.settings.webgpuAdapter}, graphOptimizationLevel ${level}; atol ${ATOL}`,
  );

  const rows: Record<string, unknown>[] = [];
  let reproduced = 0;
  for (const [n, c] of CASES.entries()) {
    const x = quarterValues(c.cin * c.h * c.w, 1);
    const W = quarterValues(c.cout * c.cin * c.k * c.k, 3);
    const B = Float32Array.from({ length: c.cout }, (_, m) => (m + 1) / 4);
    const model = convModel(c, W, B);
    const expected = convReference(c, x, W, B);
    const input = { shape: [1, c.cin, c.h, c.w], data: x };
    const key = `conv${n}`;
    await gpu.create(key, model, level);
    const got = (await gpu.run(key, 'x', input, ['y'])).get('y')!;
    await gpu.release(key);
    await wasm.create(key, model, level);
    const ctl = (await wasm.run(key, 'x', input, ['y'])).get('y')!;
    await wasm.release(key);
    const eGpu = maxAbs(got.data, expected);
    const eWasm = maxAbs(ctl.data, expected);
    const bad = eGpu > ATOL && eWasm <= ATOL;
    if (bad) reproduced++;
    const shape = `x[1,${c.cin},${c.h},${c.w}] W[${c.cout},${c.cin},${c.k},${c.k}] pads [${c.pads}] stride ${c.stride}`;
    console.log(
      `${bad ? 'REPRODUCES' : 'ok        '}  ${c.name}: ${shape} -> y[${got.shape}]  max|webgpu - exact| ${eGpu.toExponential(2)}, max|wasm - exact| ${eWasm.toExponential(2)}`,
    );
    if (bad || eWasm > ATOL) {
      console.log(`    expected ${fmt(expected)}\n    webgpu   ${fmt(got.data)}\n    wasm     ${fmt(ctl.data)}`);
    }
    rows.push({
      ...c,
      outShape: got.shape,
      errWebgpu: eGpu,
      errWasm: eWasm,
      reproduces: bad,
      expected: Array.from(expected),
      webgpu: Array.from(got.data),
      wasm: Array.from(ctl.data),
    });
  }
  await wasm.dispose();
  await gpu.dispose();
  if (jsonOut)
    fs.writeFileSync(
      jsonOut,
      JSON.stringify({ version: d.version, settings: d.settings, level, atol: ATOL, rows }, null, 1),
    );
  console.log(
    reproduced
      ? `reproduced: ${reproduced}/${CASES.length} Conv shapes wrong on the webgpu EP (wasm right)`
      : 'not reproduced',
  );
  return reproduced ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
