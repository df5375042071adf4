/**
 * Standalone reproductions of a minimal failing configuration: an ES module script that uses only
 * the runtime under test (onnxruntime-node, onnxruntime-web in Node or in Chromium through
 * puppeteer-core, TensorFlow.js), with the model, input, the float64 oracle's output and the error
 * bound embedded as data. It prints expected vs got and exits 1 while the bug exists, 0 when the
 * output is within the bound, 2 when it cannot run. No import of this harness.
 *
 * ONNX Runtime scripts embed the model as ONNX bytes: a Conv2D configuration as one NCHW Conv node
 * (the form an upstream report wants), anything else as the harness's NHWC export.
 */
import { buildOnnxModel } from '../onnx/export';
import { encodeModel, ONNX_IR_VERSION, ONNX_OPSET } from '../onnx';
import { OnnxGraph } from '../onnx/onnx-graph';
import { samePadding } from '../model/shapes';
import { chromiumFlags } from '../adapters/browser/chromium';
import { describeConfig, type SweepCase, type SweepConfig } from './configs';
import type { OracleBound } from './bounds';

export interface Repro {
  /** File name (no directory). */
  file: string;
  text: string;
}

type Family =
  | { kind: 'ort-node'; level: string }
  | { kind: 'ort-web-node'; level: string }
  | { kind: 'ort-web-browser'; ep: 'wasm' | 'webgpu'; level: string }
  | { kind: 'tfjs'; backend: 'cpu' | 'wasm' };

function familyOf(adapterId: string): Family | null {
  switch (adapterId) {
    case 'onnxruntime-cpu':
    case 'onnxruntime-cuda':
    case 'onnxruntime-cuda-no-tf32':
      return { kind: 'ort-node', level: 'all' };
    case 'onnxruntime-cpu-noopt':
      return { kind: 'ort-node', level: 'disabled' };
    case 'onnxruntime-web-wasm':
      return { kind: 'ort-web-node', level: 'all' };
    case 'onnxruntime-web-webgpu':
      return { kind: 'ort-web-browser', ep: 'webgpu', level: 'all' };
    case 'onnxruntime-web-wasm-browser':
      return { kind: 'ort-web-browser', ep: 'wasm', level: 'all' };
    case 'tfjs-cpu':
      return { kind: 'tfjs', backend: 'cpu' };
    case 'tfjs-wasm':
      return { kind: 'tfjs', backend: 'wasm' };
    default:
      return null;
  }
}

/** NHWC -> NCHW of a flat buffer. */
function toNchw(data: ArrayLike<number>, [n, h, w, c]: number[]): number[] {
  const out = new Array<number>(data.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++) out[((b * c + ch) * h + y) * w + x] = data[((b * h + y) * w + x) * c + ch];
  return out;
}

interface OnnxPayload {
  bytes: Uint8Array;
  inputShape: number[];
  input: number[];
  outputShape: number[];
  expected: number[];
  bound: number[];
  what: string;
}

/** A one-node NCHW Conv model for a Conv2D configuration (pads as TF 'same' gives them). */
function convPayload(c: SweepConfig, sc: SweepCase, ob: OracleBound): OnnxPayload {
  const [kw, bw] = sc.weights.get(sc.spec.output)!;
  const k = c.kernel;
  // HWIO -> OIHW
  const W = new Float32Array(c.cout * c.cin * k * k);
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++)
      for (let i = 0; i < c.cin; i++)
        for (let o = 0; o < c.cout; o++)
          W[((o * c.cin + i) * k + y) * k + x] = kw.data[((y * k + x) * c.cin + i) * c.cout + o];
  const [pt, pb] = c.padding === 'same' ? samePadding(c.h, k, c.stride) : [0, 0];
  const [pl, pr] = c.padding === 'same' ? samePadding(c.w, k, c.stride) : [0, 0];
  const g = new OnnxGraph();
  const xIn = g.declareInput('x');
  const Wn = g.floatInitializer('W', [c.cout, c.cin, k, k], W);
  const Bn = g.floatInitializer('B', [c.cout], bw.data as Float32Array);
  g.node('Conv', [xIn, Wn, Bn], 'y', {
    kernel_shape: [k, k],
    strides: [c.stride, c.stride],
    pads: [pt, pl, pb, pr],
    dilations: [1, 1],
    group: 1,
  });
  const [n, oh, ow, co] = ob.shape;
  const vi = (name: string, dims: number[]) => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const bytes = encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'resnet-conformance sweep',
    producerVersion: '0',
    graph: {
      name: 'conv',
      node: g.nodes,
      initializer: g.initializers,
      input: [vi('x', [c.batch, c.cin, c.h, c.w])],
      output: [vi('y', [n, co, oh, ow])],
    },
    metadataProps: [],
  });
  return {
    bytes,
    inputShape: [c.batch, c.cin, c.h, c.w],
    input: toNchw(sc.input.data, sc.input.shape),
    outputShape: [n, co, oh, ow],
    expected: toNchw(ob.value, ob.shape),
    bound: toNchw(ob.bound, ob.shape),
    what: `one Conv node, NCHW: x[${c.batch},${c.cin},${c.h},${c.w}] W[${c.cout},${c.cin},${k},${k}] pads [${pt},${pl},${pb},${pr}] (top,left,bottom,right) strides ${c.stride}`,
  };
}

function exportPayload(sc: SweepCase, ob: OracleBound): OnnxPayload {
  const m = buildOnnxModel(sc.spec, sc.weights, { training: sc.training });
  return {
    bytes: encodeModel(m.proto),
    inputShape: sc.input.shape,
    input: Array.from(sc.input.data),
    outputShape: ob.shape,
    expected: Array.from(ob.value),
    bound: Array.from(ob.bound),
    what: `the harness's ONNX export (NHWC in and out) of ${sc.spec.layers.length - 1} layer(s)`,
  };
}

const num = (a: ArrayLike<number>): string => `[${Array.from(a, (x) => String(x)).join(',')}]`;

/** The shared tail of every script: compare, print, exit code. */
function judgeTail(): string {
  return `
function judge(got) {
  if (got.length !== EXPECTED.length) {
    console.log(\`got \${got.length} values, expected \${EXPECTED.length}\`);
    return 1;
  }
  let bad = 0;
  const rows = [];
  for (let i = 0; i < EXPECTED.length; i++) {
    const d = Math.abs(got[i] - EXPECTED[i]);
    const wrong = !Number.isFinite(got[i]) || d > BOUND[i];
    if (wrong) bad++;
    if (wrong || i < 4) rows.push(\`  [\${i}] expected \${EXPECTED[i]}  got \${got[i]}  |diff| \${d.toExponential(2)}  bound \${BOUND[i].toExponential(2)}\${wrong ? '  WRONG' : ''}\`);
  }
  console.log(rows.slice(0, 24).join('\\n'));
  if (rows.length > 24) console.log(\`  ... \${rows.length - 24} more\`);
  console.log(bad ? \`REPRODUCES: \${bad} of \${EXPECTED.length} output values outside the error bound\` : 'not reproduced: every value within its bound');
  return bad ? 1 : 0;
}
`;
}

function header(adapterId: string, c: SweepConfig, what: string, needs: string): string {
  return `// Standalone reproduction written by \`resnet-conformance sweep\` (no import of the harness).
// Adapter: ${adapterId}. Configuration: ${describeConfig(c)}.
// Model: ${what}.
// EXPECTED is the float64 result; BOUND the largest error a correct float32 implementation can
// make, in any summation order (docs/error-bounds.md in resnet-conformance).
// Needs: ${needs}. Run: node <this file>. Exit 1: reproduces; 0: not; 2: cannot run.
`;
}

function onnxScript(adapterId: string, c: SweepConfig, fam: Family, p: OnnxPayload): string {
  const data = `const MODEL_B64 = '${Buffer.from(p.bytes).toString('base64')}';
const INPUT_SHAPE = ${JSON.stringify(p.inputShape)};
const INPUT = ${num(p.input)};
const OUTPUT_SHAPE = ${JSON.stringify(p.outputShape)};
const EXPECTED = ${num(p.expected)};
const BOUND = ${num(p.bound)};
`;
  let body: string;
  let needs: string;
  if (fam.kind === 'ort-node' || fam.kind === 'ort-web-node') {
    const pkg = fam.kind === 'ort-node' ? 'onnxruntime-node' : 'onnxruntime-web';
    needs = `npm package ${pkg}`;
    body = `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
async function runModel() {
  const ort = require('${pkg}');
  ${fam.kind === 'ort-web-node' ? 'ort.env.wasm.numThreads = 1;' : ''}
  const session = await ort.InferenceSession.create(Buffer.from(MODEL_B64, 'base64'), {
    executionProviders: ['${fam.kind === 'ort-node' && adapterId.includes('cuda') ? 'cuda' : fam.kind === 'ort-node' ? 'cpu' : 'wasm'}'],
    graphOptimizationLevel: '${fam.level}',
  });
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(INPUT), INPUT_SHAPE) });
  const t = out[session.outputNames[0]];
  console.log(\`onnxruntime \${ort.env.versions?.common ?? ''}: output [\${t.dims}] (expected [\${OUTPUT_SHAPE}])\`);
  return Array.from(t.data);
}
`;
  } else if (fam.kind === 'ort-web-browser') {
    needs = 'npm packages onnxruntime-web and puppeteer-core, a Chromium (CHROMIUM_BIN or chromium on PATH)';
    const flags = chromiumFlags('software').filter((f) => f !== '--headless=new');
    body = `import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
const require = createRequire(import.meta.url);
// Chromium flags: headless, SwiftShader for WebGPU when there is no GPU (drop the last two on a GPU machine).
const FLAGS = ${JSON.stringify(flags)};
function chromium() {
  if (process.env.CHROMIUM_BIN) return process.env.CHROMIUM_BIN;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter))
    for (const n of ['chromium', 'chromium-browser', 'google-chrome'])
      if (dir && fs.existsSync(path.join(dir, n))) return path.join(dir, n);
  return null;
}
async function runModel() {
  const exe = chromium();
  if (!exe) { console.error('no Chromium: set CHROMIUM_BIN'); process.exit(2); }
  const dist = path.dirname(require.resolve('onnxruntime-web'));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/ort/')) {
      const f = path.join(dist, path.basename(url.pathname));
      if (!fs.existsSync(f)) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': f.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' });
      res.end(fs.readFileSync(f));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>repro</title>');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({ executablePath: exe, headless: true, args: FLAGS });
  try {
    const page = await browser.newPage();
    await page.goto(\`http://127.0.0.1:\${server.address().port}/\`);
    const res = await page.evaluate(async (b64, input, shape) => {
      const ort = await import('/ort/${fam.ep === 'webgpu' ? 'ort.webgpu.min.mjs' : 'ort.wasm.min.mjs'}');
      ort.env.wasm.wasmPaths = '/ort/';
      ort.env.wasm.numThreads = 1;
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const s = await ort.InferenceSession.create(bytes, { executionProviders: ['${fam.ep}'], graphOptimizationLevel: '${fam.level}' });
      const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(input), shape) });
      const t = out[s.outputNames[0]];
      const d = t.location === 'cpu' ? t.data : await t.getData();
      return { version: ort.env.versions, dims: Array.from(t.dims), data: Array.from(d) };
    }, MODEL_B64, INPUT, INPUT_SHAPE);
    console.log(\`onnxruntime-web \${JSON.stringify(res.version)} (${fam.ep} EP) in \${await browser.version()}: output [\${res.dims}] (expected [\${OUTPUT_SHAPE}])\`);
    return res.data;
  } finally {
    await browser.close();
    server.close();
  }
}
`;
  } else {
    throw new Error('onnxScript: not an ONNX Runtime family');
  }
  return `${header(adapterId, c, p.what, needs)}${body}${data}${judgeTail()}
runModel().then((got) => process.exit(judge(got)), (err) => { console.error(err); process.exit(2); });
`;
}

function tfjsScript(
  adapterId: string,
  c: SweepConfig,
  backend: 'cpu' | 'wasm',
  sc: SweepCase,
  ob: OracleBound,
): Repro | null {
  const w = sc.weights.get(sc.spec.output) ?? [];
  const t = (name: string) => w.find((x) => x.name === name)!;
  let op: string;
  let what: string;
  switch (c.kind) {
    case 'conv':
      op = `tf.add(tf.conv2d(x, tf.tensor(${num(t('kernel').data)}, ${JSON.stringify(t('kernel').shape)}), ${c.stride}, '${c.padding}'), tf.tensor(${num(t('bias').data)}))`;
      what = `tf.conv2d (NHWC, HWIO kernel) + bias`;
      break;
    case 'pool':
      op = `tf.${c.pool === 'max' ? 'maxPool' : 'avgPool'}(x, ${c.kernel}, ${c.stride}, '${c.padding}')`;
      what = `tf.${c.pool === 'max' ? 'maxPool' : 'avgPool'}`;
      break;
    case 'dense':
      op = `tf.add(tf.matMul(tf.reshape(x, [${c.batch}, -1]), tf.tensor(${num(t('kernel').data)}, ${JSON.stringify(t('kernel').shape)})), tf.tensor(${num(t('bias').data)}))`;
      what = 'tf.matMul + bias';
      break;
    case 'bn': {
      const g = sc.spec.layers[1] as { epsilon: number };
      const stats = c.training
        ? `tf.moments(x, [0, 1, 2])`
        : `{ mean: tf.tensor(${num(t('moving_mean').data)}), variance: tf.tensor(${num(t('moving_variance').data)}) }`;
      op = `(() => { const m = ${stats}; return tf.batchNorm(x, m.mean, m.variance, tf.tensor(${num(t('beta').data)}), tf.tensor(${num(t('gamma').data)}), ${g.epsilon}); })()`;
      what = `tf.batchNorm (${c.training ? 'batch statistics from tf.moments' : 'moving statistics'})`;
      break;
    }
    default:
      return null;
  }
  const pkgs =
    backend === 'cpu'
      ? '@tensorflow/tfjs-core, @tensorflow/tfjs-backend-cpu'
      : '@tensorflow/tfjs-core, @tensorflow/tfjs-backend-wasm';
  const text = `${header(adapterId, c, what, `npm packages ${pkgs}`)}import { createRequire } from 'node:module';
import * as path from 'node:path';
const require = createRequire(import.meta.url);
const INPUT_SHAPE = ${JSON.stringify(sc.input.shape)};
const INPUT = ${num(sc.input.data)};
const EXPECTED = ${num(ob.value)};
const BOUND = ${num(ob.bound)};
async function runModel() {
  const tf = require('@tensorflow/tfjs-core');
  ${
    backend === 'cpu'
      ? "require('@tensorflow/tfjs-backend-cpu');"
      : "const wasm = require('@tensorflow/tfjs-backend-wasm');\n  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);"
  }
  await tf.setBackend('${backend}');
  await tf.ready();
  const x = tf.tensor(INPUT, INPUT_SHAPE);
  const y = ${op};
  console.log(\`tfjs-core \${tf.version_core} on \${tf.getBackend()}: output [\${y.shape}]\`);
  return Array.from(await y.data());
}
${judgeTail()}
runModel().then((got) => process.exit(judge(got)), (err) => { console.error(err); process.exit(2); });
`;
  return { file: 'repro.mjs', text };
}

/** The standalone script for a minimal configuration on an adapter, or why there is none. */
export function writeRepro(
  adapterId: string,
  c: SweepConfig,
  sc: SweepCase,
  ob: OracleBound,
): { repro: Repro } | { none: string } {
  const fam = familyOf(adapterId);
  if (!fam) return { none: `no standalone script template for adapter ${adapterId}` };
  if (fam.kind === 'tfjs') {
    const r = tfjsScript(adapterId, c, fam.backend, sc, ob);
    return r ? { repro: r } : { none: `no TensorFlow.js op-level template for ${c.kind}` };
  }
  const payload = c.kind === 'conv' ? convPayload(c, sc, ob) : exportPayload(sc, ob);
  return { repro: { file: 'repro.mjs', text: onnxScript(adapterId, c, fam, payload) } };
}
