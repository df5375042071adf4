/**
 * TensorFlow.js-specific checks for every available tfjs adapter (tfjs-cpu, tfjs-wasm, tfjs-node,
 * tfjs-node-gpu*): the tfjs-layers model has the notebook's layers and shapes, countParams() maps
 * to Keras's accounting, training-mode BatchNormalization does not leak into later runs, tensors
 * are freed, backends do not interfere in one process, and the wasm SIMD/threads state is reported.
 * Numerical agreement with the reference is the fixture suites' job.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as os from 'os';
import { TfjsAdapter } from '../src/adapters/tfjs';
import { fixFor, nodeInstallState } from '../src/adapters/tfjs/node-install';
import { loadTfjs } from '../src/adapters/tfjs/tf-loader';
import type { AdapterEntry } from '../src/adapters/types';
import { initModelWeights } from '../src/init';
import { LOGITS_SUFFIX, convolutionalBlock, identityBlock, resnet50 } from '../src/model/builders';
import { kerasLayerOrder } from '../src/model/graph';
import { modelParamCount } from '../src/model/params';
import type { ModelSpec } from '../src/model/types';
import { seededUniform } from '../src/tensor/sample-inputs';
import type { Tensor } from '../src/tensor';
import { describeEachAdapter } from './helpers/adapters';

const PUBLISHED = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'published', 'notebook-published.json'), 'utf8'),
);
/** The notebook's ResNet50 model.summary() as its comparator() checks it: [class, output shape, params, ...extras], Keras order. */
const RESNET = PUBLISHED.versions['stateless-cpu'].resnet50 as {
  total_params: number;
  trainable_params: number;
  non_trainable_params: number;
  summary_descriptors_outputs_py: [string, (number | null)[] | (number | null)[][], number, ...unknown[]][];
};

/** The tfjs adapters that run tfjs in this process (the browser ones have suites/browser.test.ts). */
const isTfjs = (e: AdapterEntry): boolean => e.create() instanceof TfjsAdapter;

async function built(entry: AdapterEntry, spec: ModelSpec): Promise<TfjsAdapter> {
  const a = entry.create();
  if (!(a instanceof TfjsAdapter)) throw new Error(`${entry.id} is not a TfjsAdapter`);
  await a.build(spec, initModelWeights(spec));
  return a;
}

const bits = (t: Tensor): number[] => Array.from(new Uint32Array(new Float32Array(t.data).buffer));

describeEachAdapter(
  'tfjs layers model',
  (entry) => {
    test("ResNet50: every layer has the notebook summary's class, output shape and parameter count", async () => {
      const spec = resnet50();
      const a = await built(entry, spec);
      try {
        const tf = loadTfjs();
        expect(tf.getBackend()).toBe(a.backend.backendName);
        const summary = new Map(a.layerSummary().map((l) => [l.name, l]));
        const order = kerasLayerOrder(spec);
        expect(order).toHaveLength(RESNET.summary_descriptors_outputs_py.length);
        const mismatches: string[] = [];
        order.forEach((l, i) => {
          const [cls, shape, params] = RESNET.summary_descriptors_outputs_py[i];
          const keras = ((Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[]).slice(1);
          const t = summary.get(l.name);
          if (!t || t.className !== cls || t.outputShape.join(',') !== keras.join(',') || t.params !== params) {
            mismatches.push(
              `${l.name}: tfjs ${t?.className} [${t?.outputShape.join(',')}] ${t?.params} params; Keras ${cls} [${keras.join(',')}] ${params}`,
            );
          }
          expect(l.outputShape).toEqual(keras);
        });
        expect(mismatches).toEqual([]);
        const shapes = a.layerOutputShapes();
        expect([...shapes.keys()].sort()).toEqual(spec.layers.map((l) => l.name).sort());
      } finally {
        await a.dispose();
      }
    });

    test.each([
      ['identity_block f=3 [4,4,6] on 5x5x6', identityBlock(3, [4, 4, 6], { inputShape: [5, 5, 6] })],
      ['convolutional_block f=3 [4,4,8] s=2 on 9x9x3', convolutionalBlock(3, [4, 4, 8], 2, { inputShape: [9, 9, 3] })],
    ])('%s: per-layer output shapes equal the spec', async (_name, spec) => {
      const a = await built(entry, spec);
      try {
        const shapes = a.layerOutputShapes();
        for (const l of spec.layers)
          expect({ layer: l.name, shape: shapes.get(l.name) }).toEqual({ layer: l.name, shape: l.outputShape });
      } finally {
        await a.dispose();
      }
    });

    test('paramCount() from countParams() equals the notebook summary (23,600,006 = 23,546,886 + 53,120)', async () => {
      const spec = resnet50();
      const a = await built(entry, spec);
      try {
        const p = await a.paramCount();
        expect(p).toEqual({
          total: RESNET.total_params,
          trainable: RESNET.trainable_params,
          nonTrainable: RESNET.non_trainable_params,
        });
        expect(p).toEqual(modelParamCount(spec));
      } finally {
        await a.dispose();
      }
    });

    test('training=true leaves no trace: moving statistics and later inference results are unchanged', async () => {
      const spec = convolutionalBlock(2, [3, 4, 5], 2, { inputShape: [6, 6, 3] });
      const a = await built(entry, spec);
      try {
        const x = seededUniform([4, 6, 6, 3], 11, -2, 3);
        const statsBefore = await a.nonTrainableValues();
        const before = await a.run(x, { training: false });
        const train1 = await a.run(x, { training: true });
        const statsAfter = await a.nonTrainableValues();
        const train2 = await a.run(x, { training: true });
        const after = await a.run(x, { training: false });
        // Training mode really normalizes with batch statistics (else this test proves nothing)...
        const maxDiff = Array.from(train1.output.data).reduce(
          (m, v, i) => Math.max(m, Math.abs(v - before.output.data[i])),
          0,
        );
        expect(maxDiff).toBeGreaterThan(0.1);
        // ...and tfjs did update the moving averages during it, which the adapter undid.
        expect(statsAfter.size).toBe(2 * spec.layers.filter((l) => l.className === 'BatchNormalization').length);
        for (const [name, v] of statsBefore)
          expect({ name, v: Array.from(statsAfter.get(name)!) }).toEqual({ name, v: Array.from(v) });
        expect(bits(after.output)).toEqual(bits(before.output));
        expect(bits(train2.output)).toEqual(bits(train1.output));
      } finally {
        await a.dispose();
      }
    });

    test('captures: boundary layers and dense:logits (pre-softmax, softmax(logits) = output)', async () => {
      const spec = resnet50({ inputShape: [40, 40, 3], classes: 4 });
      const a = await built(entry, spec);
      try {
        const x = seededUniform([2, 40, 40, 3], 5, 0, 1);
        const capture = spec.boundaries.map((b) => b.layer);
        for (const training of [false, true]) {
          const r = await a.run(x, { training, capture });
          expect(Object.keys(r.intermediates).sort()).toEqual([...capture].sort());
          for (const b of spec.boundaries) {
            const layer = spec.layers.find((l) => l.name === b.layer.replace(LOGITS_SUFFIX, ''))!;
            expect({ b: b.label, shape: r.intermediates[b.layer].shape }).toEqual({
              b: b.label,
              shape: [2, ...layer.outputShape],
            });
          }
          const logits = r.intermediates[`${spec.output}${LOGITS_SUFFIX}`];
          expect(Array.from(r.intermediates[spec.output].data)).toEqual(Array.from(r.output.data));
          for (let n = 0; n < 2; n++) {
            const row = Array.from(logits.data.slice(n * 4, n * 4 + 4));
            const m = Math.max(...row);
            const e = row.map((v) => Math.exp(v - m));
            const s = e.reduce((p, q) => p + q, 0);
            e.forEach((v, k) => expect(Math.abs(v / s - r.output.data[n * 4 + k])).toBeLessThan(1e-6));
          }
          if (!training) {
            // The capture model returns what the plain model returns.
            const plain = await a.run(x, { training });
            expect(bits(plain.output)).toEqual(bits(r.output));
          }
        }
      } finally {
        await a.dispose();
      }
    });

    test('a probe in a dedicated process (runner and bench workers) loads the backend in this process and answers as the child-process probe does', async () => {
      const a = entry.create() as TfjsAdapter;
      const inChild = await a.probe();
      const here = await a.probe({ dedicatedProcess: true });
      expect(here).toEqual(inChild);
      expect(here.available).toBe(true);
      // tfjs-cpu has no child probe (installed = works); the others are loaded and current now.
      if (entry.id !== 'tfjs-cpu') expect(loadTfjs().getBackend()).toBe((await a.describe()).settings.backend);
      await a.dispose();
    });

    test('tensors are freed: tf.memory() is the same after repeated runs and back to the start after dispose', async () => {
      const tf = loadTfjs();
      const spec = identityBlock(3, [4, 4, 6], { inputShape: [5, 5, 6] });
      const a = entry.create() as TfjsAdapter;
      await a.probe();
      const start = tf.memory().numTensors;
      await a.build(spec, initModelWeights(spec));
      const x = seededUniform([3, 5, 5, 6], 3, -1, 1);
      const capture = [spec.layers[4].name, spec.output];
      await a.run(x, { training: false, capture });
      await a.run(x, { training: true, capture });
      const afterFirst = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        await a.run(x, { training: i % 2 === 0, capture });
        await a.run(x, { training: false });
      }
      expect(tf.memory().numTensors).toBe(afterFirst);
      await a.dispose();
      expect(tf.memory().numTensors).toBe(start);
    });

    test('bad input and capture names get clear errors', async () => {
      const spec = identityBlock(3, [4, 4, 6], { inputShape: [5, 5, 6] });
      const a = await built(entry, spec);
      try {
        await expect(a.run(seededUniform([1, 5, 5, 3], 1, -1, 1), { training: false })).rejects.toThrow(
          /input shape \[1, 5, 5, 3\] does not match the model input: expected \[None, 5, 5, 6\]/,
        );
        await expect(
          a.run(seededUniform([1, 5, 5, 6], 1, -1, 1), { training: false, capture: ['conv2d_99'] }),
        ).rejects.toThrow(/cannot capture 'conv2d_99'/);
        await expect(
          a.run(seededUniform([1, 5, 5, 6], 1, -1, 1), { training: false, capture: [`conv2d${LOGITS_SUFFIX}`] }),
        ).rejects.toThrow(/'conv2d' is not a Dense layer with softmax/);
        await a.dispose();
        await expect(a.run(seededUniform([1, 5, 5, 6], 1, -1, 1), { training: false })).rejects.toThrow(
          /build\(\) must be called/,
        );
      } finally {
        await a.dispose();
      }
    });

    test('describe() names the runtime, its backend and settings', async () => {
      const a = entry.create() as TfjsAdapter;
      const d = await a.describe();
      expect(d.version).toBe('4.22.0');
      expect(d.settings.backend).toBe(a.backend.backendName);
      expect(d.settings['tfjs-layers']).toBe('4.22.0');
      expect(d.device).toBe(entry.id.includes('gpu') ? 'gpu' : 'cpu');
      if (a.backend.backendName === 'tensorflow') {
        expect(typeof d.settings.libtensorflow).toBe('string');
        expect(d.settings.libtensorflow).not.toBe('unknown');
      }
    });
  },
  isTfjs,
);

describeEachAdapter(
  'tfjs backends in one process',
  (entry) => {
    test(`${entry.id} and tfjs-cpu interleaved give the results each gives alone`, async () => {
      const spec = identityBlock(3, [4, 4, 6], { inputShape: [5, 5, 6] });
      const x = seededUniform([2, 5, 5, 6], 9, -1, 1);
      const cpuAlone = await built({ ...entry, create: () => new TfjsAdapter('tfjs-cpu') }, spec);
      const refCpu = await cpuAlone.run(x, { training: true });
      await cpuAlone.dispose();
      const other = await built(entry, spec);
      const cpu = await built({ ...entry, create: () => new TfjsAdapter('tfjs-cpu') }, spec);
      try {
        const tf = loadTfjs();
        const o1 = await other.run(x, { training: true });
        expect(tf.getBackend()).toBe(other.backend.backendName);
        const c1 = await cpu.run(x, { training: true });
        expect(tf.getBackend()).toBe('cpu');
        const o2 = await other.run(x, { training: true });
        expect(bits(o2.output)).toEqual(bits(o1.output));
        expect(bits(c1.output)).toEqual(bits(refCpu.output));
      } finally {
        await other.dispose();
        await cpu.dispose();
      }
    });
  },
  (e) => isTfjs(e) && e.id !== 'tfjs-cpu',
);

describeEachAdapter(
  'tfjs-wasm SIMD and threads',
  () => {
    test('describe() reports SIMD on (Node 20 has wasm SIMD), threads off under Node, and the binary that matches', async () => {
      const a = new TfjsAdapter('tfjs-wasm');
      const s = (await a.describe()).settings;
      // WebAssembly SIMD support of this Node, checked independently of tfjs with a minimal module using v128.
      const simdModule = new Uint8Array([
        0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
      ]);
      const wasmApi = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
      expect(wasmApi.validate(simdModule)).toBe(true);
      expect(s.wasmSimd).toBe(true);
      // tfjs-backend-wasm 4.22 returns false for WASM_HAS_MULTITHREAD_SUPPORT whenever IS_NODE.
      expect(s.wasmThreads).toBe(false);
      expect(s.wasmBinary).toBe('tfjs-backend-wasm-simd.wasm');
      expect(fs.existsSync(path.join(String(s.wasmPath), String(s.wasmBinary)))).toBe(true);
      expect(String(s.wasmPath)).toBe(
        path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'),
      );
      expect(s.xnnpackThreads).toBe(1);
    });
  },
  (e) => e.id === 'tfjs-wasm',
);

describe('tfjs-node-gpu TF32 variants state the NVIDIA_TF32_OVERRIDE they need', () => {
  const saved = process.env.NVIDIA_TF32_OVERRIDE;
  afterEach(() => {
    if (saved === undefined) delete process.env.NVIDIA_TF32_OVERRIDE;
    else process.env.NVIDIA_TF32_OVERRIDE = saved;
  });

  test('tfjs-node-gpu-no-tf32 without NVIDIA_TF32_OVERRIDE=0 is unavailable and says how to set it', async () => {
    delete process.env.NVIDIA_TF32_OVERRIDE;
    const p = await new TfjsAdapter('tfjs-node-gpu-no-tf32').probe();
    expect(p.available).toBe(false);
    expect(p.reason).toMatch(/NVIDIA_TF32_OVERRIDE is unset in this process, not 0/);
    expect(p.fix).toMatch(/NVIDIA_TF32_OVERRIDE=0 /);
  });

  test('tfjs-node-gpu (TF32 on) with NVIDIA_TF32_OVERRIDE=0 is unavailable: that is the other variant', async () => {
    process.env.NVIDIA_TF32_OVERRIDE = '0';
    const p = await new TfjsAdapter('tfjs-node-gpu').probe();
    expect(p.available).toBe(false);
    expect(p.reason).toMatch(/NVIDIA_TF32_OVERRIDE=0 is set in this process/);
  });

  test('build() refuses the wrong TF32 setting as well (it would silently run the other variant)', async () => {
    delete process.env.NVIDIA_TF32_OVERRIDE;
    const spec = identityBlock(3, [4, 4, 6], { inputShape: [5, 5, 6] });
    await expect(new TfjsAdapter('tfjs-node-gpu-no-tf32').build(spec, initModelWeights(spec))).rejects.toThrow(
      /NVIDIA_TF32_OVERRIDE is unset/,
    );
    process.env.NVIDIA_TF32_OVERRIDE = '0';
    await expect(new TfjsAdapter('tfjs-node-gpu').build(spec, initModelWeights(spec))).rejects.toThrow(
      /NVIDIA_TF32_OVERRIDE=0 is set/,
    );
  });

  // Only meaningful on a machine without an NVIDIA driver (reported as skipped elsewhere).
  (fs.existsSync('/proc/driver/nvidia/version') ? test.skip : test)(
    'without a GPU the probe names the driver, CUDA 11.2 and cuDNN 8.1 pieces it lacks',
    async () => {
      const p = await new TfjsAdapter('tfjs-node-gpu').probe();
      expect(p.available).toBe(false);
      expect(p.reason).toMatch(/no NVIDIA kernel driver/);
      expect(p.reason).toMatch(/CUDA 11\.2/);
      expect(p.reason).toMatch(/cuDNN 8\.1/);
      expect(p.fix).toMatch(/docs\/tfjs\.md/);
    },
  );
});

describe('tfjs-node install state: each missing piece is named, with the command that fixes it', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-node-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const writePkg = (version: string): void =>
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version }));

  test('not installed', () => {
    const s = nodeInstallState('@tensorflow/tfjs-node', null);
    expect(s.ok).toBe(false);
    expect(s.reason).toMatch(/@tensorflow\/tfjs-node is not installed/);
    expect(fixFor('@tensorflow/tfjs-node')).toMatch(/^npm run setup:tfjs-node /);
  });

  test('another version than @tensorflow/tfjs', () => {
    writePkg('4.21.0');
    expect(nodeInstallState('@tensorflow/tfjs-node', dir).reason).toMatch(
      /@tensorflow\/tfjs-node@4\.21\.0 is installed but 4\.22\.0 is needed/,
    );
  });

  test('installed without its download step: no libtensorflow in deps/lib', () => {
    writePkg('4.22.0');
    const s = nodeInstallState('@tensorflow/tfjs-node', dir);
    expect(s.ok).toBe(false);
    expect(s.reason).toContain(`has no libtensorflow in ${path.join(dir, 'deps', 'lib')}`);
  });

  test("the GPU package's fix names the CUDA stack and the online install", () => {
    expect(fixFor('@tensorflow/tfjs-node-gpu')).toMatch(
      /CUDA 11\.2 and cuDNN 8\.1: npm install --no-save @tensorflow\/tfjs-node-gpu@4\.22\.0/,
    );
  });
});
