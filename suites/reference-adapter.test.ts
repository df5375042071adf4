/**
 * The reference adapter against the notebook's published numbers (fp64 and fp32), the
 * Adapter contract, and small hand-checkable cases of each op.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ARITHMETICS,
  REFERENCE_PRECISIONS,
  ReferenceAdapter,
  evaluateLayer,
  isArithmetic,
  isReferencePrecision,
  prepareLayer,
  type Arithmetic,
  type ReferencePrecision,
} from '../src/adapters/reference';
import { conv2d, convGeometry } from '../src/adapters/reference/conv2d';
import { softmax } from '../src/adapters/reference/dense';
import { avgPool2d, maxPool2d, poolGeometry } from '../src/adapters/reference/pooling';
import { forwardCommand } from '../src/cli/commands/forward';
import { initModelWeights } from '../src/init';
import { readNpy, writeNpy } from '../src/tensor/npy';
import { LOGITS_SUFFIX, convolutionalBlock, identityBlock, resnet50 } from '../src/model/builders';
import { constantInit } from '../src/model/initializers';
import { GraphBuilder } from '../src/model/graph-builder';
import type { ModelSpec, ModelWeights } from '../src/model/types';
import type { Tensor } from '../src/tensor';
import { allclose, flat, notebookX, publishedVersions, resumeValues } from './helpers/notebook';

const cpu = publishedVersions()['stateless-cpu'];

async function runModel(
  precision: ReferencePrecision,
  spec: ModelSpec,
  x: Tensor,
  training: boolean,
  weights?: ModelWeights,
): Promise<Tensor> {
  const a = new ReferenceAdapter({ precision });
  await a.build(spec, weights ?? initModelWeights(spec));
  return (await a.run(x, { training })).output;
}

describe.each<ReferencePrecision>(['fp64', 'fp32'])('notebook public tests on reference %s', (precision) => {
  const ib = cpu.identity_block;

  test('identity_block f=2 [4,4,3] constant(1) training=False matches public_tests and the printed output', async () => {
    const call = ib.call_training_false;
    expect(call).toEqual({ f: 2, filters: [4, 4, 3], initializer: 'constant(1)', training: false });
    const spec = identityBlock(call.f, call.filters, { initializer: constantInit(1) });
    const A = await runModel(precision, spec, notebookX(), false);
    expect(A.shape).toEqual([3, 4, 4, 3]);
    expect(A.data).toBeInstanceOf(precision === 'fp64' ? Float64Array : Float32Array);
    expect(Array.from(A.data).every((v) => v >= 0)).toBe(true);
    const r = resumeValues(A);
    const vsTests = allclose(r, flat(ib.resume_training_false_public_tests), 1e-5, ib.atol);
    expect(vsTests.bad).toEqual([]);
    expect(vsTests.worstAbs).toBeLessThan(1e-4);
    expect(allclose(r, flat(ib.resume_training_false_printed), 1e-5, ib.atol).bad).toEqual([]);
    // also_asserted (resume is (3,2,4); index [b, row, col] = b*8 + row*4 + col)
    const at = (b: number, row: number, col: number): number => r[b * 8 + row * 4 + col];
    expect(Math.floor(at(1, 0, 0))).toBe(2 * Math.floor(at(1, 0, 3)));
    expect(Math.floor(at(1, 0, 3))).toBe(Math.floor(at(1, 1, 0)));
    expect(Math.floor(at(1, 1, 0))).toBe(2 * Math.floor(at(1, 1, 3)));
    expect(at(1, 1, 0) - Math.floor(at(1, 1, 0))).toBeGreaterThan(0.7);
  });

  test('identity_block f=3 [3,3,3] constant(1) training=True matches public_tests', async () => {
    const call = ib.call_training_true;
    expect(call).toEqual({ f: 3, filters: [3, 3, 3], initializer: 'constant(1)', training: true });
    const spec = identityBlock(call.f, call.filters, { initializer: constantInit(1) });
    const A = await runModel(precision, spec, notebookX(), true);
    expect(A.shape).toEqual([3, 4, 4, 3]);
    expect(Array.from(A.data).every((v) => v >= 0)).toBe(true);
    const cmp = allclose(resumeValues(A), flat(ib.resume_training_true_public_tests), 1e-5, ib.atol);
    expect(cmp.bad).toEqual([]);
    expect(cmp.worstAbs).toBeLessThan(1e-5);
  });

  const cb = cpu.convolutional_block;
  test.each([
    [false, 'output1_training_false_outputs_py'],
    [true, 'output2_training_true_outputs_py'],
  ])(
    'convolutional_block f=2 [2,4,6] s=2 glorot_uniform(0) training=%s matches outputs.py (rtol 1e-5, atol 1e-8)',
    async (training, key) => {
      expect(cb.call).toEqual({ f: 2, filters: [2, 4, 6], s: 2, initializer: 'glorot_uniform(seed=0)' });
      const spec = convolutionalBlock(cb.call.f, cb.call.filters, cb.call.s);
      const A = await runModel(precision, spec, notebookX(), training);
      expect(A.shape).toEqual(cb.output_shape);
      const cmp = allclose(A.data, flat(cb[key]), 1e-5, 1e-8);
      expect(cmp.bad).toEqual([]);
      expect(cmp.worstAbs).toBeLessThan(1e-6);
    },
  );

  test('convolutional_block training=False first sample matches both printed runs', async () => {
    const spec = convolutionalBlock(2, [2, 4, 6], 2);
    const A = await runModel(precision, spec, notebookX(), false);
    const first = Array.from(A.data.subarray(0, 2 * 2 * 6));
    expect(allclose(first, flat(cb.A0_training_false_printed_run1), 1e-5, 1e-8).bad).toEqual([]);
    expect(allclose(first, flat(cb.A0_training_false_printed_run2), 1e-5, 1e-8).bad).toEqual([]);
  });
});

describe('ResNet-50 on the reference adapter (fp64)', () => {
  const spec = resnet50();
  const adapter = new ReferenceAdapter({ precision: 'fp64' });
  const N = 2;
  const x: Tensor = { shape: [N, 64, 64, 3], data: new Float32Array(N * 64 * 64 * 3) };
  for (let i = 0; i < x.data.length; i++) x.data[i] = ((i * 7919) % 256) / 255;

  beforeAll(async () => {
    await adapter.build(spec, initModelWeights(spec));
  });

  test('paramCount equals the notebook summary (23,600,006 / 23,546,886 / 53,120)', async () => {
    expect(await adapter.paramCount()).toEqual({
      total: cpu.resnet50.total_params,
      trainable: cpu.resnet50.trainable_params,
      nonTrainable: cpu.resnet50.non_trainable_params,
    });
    expect(cpu.resnet50.total_params).toBe(23600006);
  });

  test('output [N,6] softmax rows sum to 1; boundaries captured with their shapes; logits give the output', async () => {
    const capture = spec.boundaries.map((b) => b.layer);
    const r = await adapter.run(x, { training: false, capture });
    expect(r.output.shape).toEqual([N, 6]);
    expect(r.output.data).toBeInstanceOf(Float64Array);
    for (let b = 0; b < N; b++) {
      const row = Array.from(r.output.data.subarray(b * 6, b * 6 + 6));
      expect(row.every((p) => p > 0 && p < 1)).toBe(true);
      expect(Math.abs(row.reduce((s, p) => s + p, 0) - 1)).toBeLessThan(1e-12);
    }
    expect(Object.keys(r.intermediates).sort()).toEqual([...capture].sort());
    for (const name of capture) {
      const base = name.endsWith(LOGITS_SUFFIX) ? name.slice(0, -LOGITS_SUFFIX.length) : name;
      const layer = spec.layers.find((l) => l.name === base)!;
      expect([name, r.intermediates[name].shape]).toEqual([name, [N, ...layer.outputShape]]);
      expect(r.intermediates[name].data.length).toBe(N * layer.outputShape.reduce((p, d) => p * d, 1));
    }
    expect(r.intermediates.max_pooling2d.shape).toEqual([N, 15, 15, 64]);
    const probs = softmax(Float64Array.from(r.intermediates[`dense${LOGITS_SUFFIX}`].data), 6);
    expect(allclose(probs, r.output.data, 0, 1e-15).bad).toEqual([]);
    expect(Array.from(r.intermediates.dense.data)).toEqual(Array.from(r.output.data));
    expect(r.intermediates.dense.data).not.toBe(r.output.data);
  });

  test('training=True differs from training=False, and does not change later inference runs', async () => {
    const before = (await adapter.run(x, { training: false })).output.data;
    const trained = (await adapter.run(x, { training: true })).output.data;
    const after = (await adapter.run(x, { training: false })).output.data;
    expect(allclose(trained, before, 1e-3, 1e-6).ok).toBe(false);
    expect(Array.from(after)).toEqual(Array.from(before));
  });

  test('a wrong input shape is a clear error naming expected and actual shapes', async () => {
    await expect(
      adapter.run({ shape: [1, 32, 32, 3], data: new Float32Array(32 * 32 * 3) }, { training: false }),
    ).rejects.toThrow(/input shape \[1, 32, 32, 3\].*expected \[None, 64, 64, 3\]/);
    await expect(
      adapter.run({ shape: [64, 64, 3], data: new Float32Array(64 * 64 * 3) }, { training: false }),
    ).rejects.toThrow(/\[64, 64, 3\].*\[None, 64, 64, 3\]/);
  });

  test('an unknown capture name is a clear error', async () => {
    await expect(adapter.run(x, { training: false, capture: ['conv2d_999'] })).rejects.toThrow(
      /capture 'conv2d_999': no such layer/,
    );
    await expect(adapter.run(x, { training: false, capture: ['conv2d:logits'] })).rejects.toThrow(/not a Dense layer/);
  });
});

describe('reference adapter contract', () => {
  const spec = identityBlock(2, [4, 4, 3], { initializer: constantInit(1) });

  test('run and paramCount before build are errors', async () => {
    const a = new ReferenceAdapter({ precision: 'fp64' });
    await expect(a.run(notebookX(), { training: false })).rejects.toThrow(/build\(\) must be called/);
    await expect(a.paramCount()).rejects.toThrow(/build\(\) must be called/);
  });

  test('missing, misnamed and misshapen weights are errors naming the layer and weight', async () => {
    const a = new ReferenceAdapter({ precision: 'fp64' });
    const missing = initModelWeights(spec);
    missing.delete('batch_normalization_1');
    await expect(a.build(spec, missing)).rejects.toThrow(
      /missing weights for layer 'batch_normalization_1' \(BatchNormalization\): expected gamma \[4\]/,
    );

    const misshapen = initModelWeights(spec);
    const k = misshapen.get('conv2d_1')![0];
    misshapen.get('conv2d_1')![0] = { ...k, shape: [3, 3, 4, 4], data: new Float32Array(144) };
    await expect(a.build(spec, misshapen)).rejects.toThrow(
      /layer 'conv2d_1' \(Conv2D\): weight 'kernel' has shape \[3,3,4,4\], expected \[2,2,4,4\]/,
    );

    const shortData = initModelWeights(spec);
    const bias = shortData.get('conv2d')![1];
    shortData.get('conv2d')![1] = { ...bias, data: new Float32Array(2) };
    await expect(a.build(spec, shortData)).rejects.toThrow(/layer 'conv2d' \(Conv2D\): weight 'bias' has 2 values/);

    const swapped = initModelWeights(spec);
    swapped.get('conv2d')!.reverse();
    await expect(a.build(spec, swapped)).rejects.toThrow(/weight 0 should be 'kernel', got 'bias'/);

    const extra = initModelWeights(spec);
    extra.set('dense_7', []);
    await expect(a.build(spec, extra)).rejects.toThrow(/layer 'dense_7', which is not in the identity_block spec/);
  });

  test('options: tf32Layers needs precision tf32 and must name Conv2D/Dense layers of the model', async () => {
    expect(() => new ReferenceAdapter({ precision: 'fp32', tf32Layers: ['conv2d'] })).toThrow(
      /only applies to precision 'tf32'/,
    );
    expect(() => new ReferenceAdapter({ precision: 'fp16' as ReferencePrecision })).toThrow(
      /precision must be fp64, fp32 or tf32/,
    );
    await expect(
      new ReferenceAdapter({ precision: 'tf32', tf32Layers: ['batch_normalization'] }).build(
        spec,
        initModelWeights(spec),
      ),
    ).rejects.toThrow(/'batch_normalization' is a BatchNormalization/);
    await expect(
      new ReferenceAdapter({ precision: 'tf32', tf32Layers: ['conv2d_9'] }).build(spec, initModelWeights(spec)),
    ).rejects.toThrow(/no layer named 'conv2d_9'/);
  });

  test("reference precisions are a subset of the layer interpreter's arithmetics; bf16 and fp16 are diagnosis-only", () => {
    // Type-level: a ReferencePrecision is an Arithmetic.
    const asArithmetic: readonly Arithmetic[] = REFERENCE_PRECISIONS;
    expect(asArithmetic.every((p) => (ARITHMETICS as readonly string[]).includes(p))).toBe(true);
    expect([...REFERENCE_PRECISIONS]).toEqual(['fp64', 'fp32', 'tf32']);
    expect(ARITHMETICS.filter((a) => !isReferencePrecision(a))).toEqual(['bf16', 'fp16']);
    expect(isArithmetic('fp16')).toBe(true);
    expect(isReferencePrecision('fp16')).toBe(false);
  });

  test('describe, ids and paramCount of a block', async () => {
    const a = new ReferenceAdapter({ precision: 'fp32' });
    expect(a.id).toBe('reference-fp32');
    expect(new ReferenceAdapter({ id: 'x', precision: 'fp64' }).id).toBe('x');
    const d = await a.describe();
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    expect(d).toMatchObject({
      runtime: 'resnet-conformance reference',
      version: pkg.version,
      device: 'cpu',
      settings: { precision: 'fp32', tf32Layers: 'none' },
    });
    expect(await new ReferenceAdapter({ precision: 'tf32', tf32Layers: ['conv2d_2'] }).describe()).toMatchObject({
      settings: { precision: 'tf32', tf32Layers: 'conv2d_2' },
    });
    expect((await a.probe()).available).toBe(true);
    await a.build(spec, initModelWeights(spec));
    // conv 1x1 3->4, BN 4, conv 2x2 4->4, BN 4, conv 1x1 4->3, BN 3
    const trainable = 3 * 4 + 4 + 8 + (2 * 2 * 4 * 4 + 4) + 8 + (4 * 3 + 3) + 6;
    expect(await a.paramCount()).toEqual({ total: trainable + 22, trainable, nonTrainable: 22 });
  });

  test('input is not modified; float64 input is rounded to float32 in fp32 mode only', async () => {
    const x = notebookX();
    const copy = Float32Array.from(x.data);
    const a = new ReferenceAdapter({ precision: 'fp64' });
    await a.build(spec, initModelWeights(spec));
    await a.run(x, { training: true });
    expect(Array.from(x.data)).toEqual(Array.from(copy));

    const single = identityBlock(1, [3, 3, 3], { initializer: constantInit(0), inputShape: [1, 1, 3] });
    const w = initModelWeights(single);
    const x64: Tensor = { shape: [1, 1, 1, 3], data: Float64Array.from([0.1, 0.2, 0.3]) };
    const out64 = await runModel('fp64', single, x64, false, w); // zero kernels: output = relu(x + beta) = x
    expect(Array.from(out64.data)).toEqual([0.1, 0.2, 0.3]);
    const out32 = await runModel('fp32', single, x64, false, w);
    expect(Array.from(out32.data)).toEqual([Math.fround(0.1), Math.fround(0.2), Math.fround(0.3)]);
  });

  test('NaN in the input propagates to the outputs that depend on it', async () => {
    const x = notebookX();
    x.data[0] = NaN;
    const out = await runModel('fp64', spec, x, false);
    expect(Number.isNaN(out.data[0])).toBe(true);
    expect(Number.isNaN(out.data[48])).toBe(false); // other samples are unaffected in inference mode
  });
});

describe('reference ops', () => {
  /** Straightforward NHWC convolution with an explicitly padded input, for comparison. */
  function naiveConv(
    x: Float64Array,
    [n, h, w, cin]: number[],
    k: Float64Array,
    [kh, kw, , cout]: number[],
    s: number,
    pads: [number, number, number, number],
  ): { y: number[]; oh: number; ow: number } {
    const [pt, pb, pl, pr] = pads;
    const H = h + pt + pb,
      W = w + pl + pr;
    const px = new Float64Array(n * H * W * cin);
    for (let b = 0; b < n; b++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++)
          for (let c = 0; c < cin; c++) {
            px[((b * H + i + pt) * W + j + pl) * cin + c] = x[((b * h + i) * w + j) * cin + c];
          }
    const oh = Math.floor((H - kh) / s) + 1,
      ow = Math.floor((W - kw) / s) + 1;
    const y: number[] = [];
    for (let b = 0; b < n; b++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++)
          for (let o = 0; o < cout; o++) {
            let acc = 0;
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++)
                for (let c = 0; c < cin; c++) {
                  acc +=
                    px[((b * H + i * s + ky) * W + j * s + kx) * cin + c] * k[((ky * kw + kx) * cin + c) * cout + o];
                }
            y.push(acc);
          }
    return { y, oh, ow };
  }

  function pseudoRandom(n: number, seed: number, zeroEvery = 0): Float64Array {
    const a = new Float64Array(n);
    let s = seed;
    for (let i = 0; i < n; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      a[i] = zeroEvery && i % zeroEvery === 0 ? 0 : s / 2147483648 - 0.5;
    }
    return a;
  }

  test.each([
    // [h, w, cin, k, cout, stride, padding, expected pads (top, bottom, left, right)]
    [5, 4, 3, 2, 4, 1, 'same', [0, 1, 0, 1]],
    [5, 5, 2, 3, 3, 1, 'same', [1, 1, 1, 1]],
    [6, 5, 2, 3, 3, 2, 'same', [0, 1, 1, 1]],
    [7, 7, 3, 7, 2, 2, 'valid', [0, 0, 0, 0]],
    [4, 4, 5, 1, 6, 1, 'valid', [0, 0, 0, 0]],
    [4, 5, 5, 1, 6, 2, 'valid', [0, 0, 0, 0]],
  ] as const)(
    'conv2d %ix%ix%i k=%i cout=%i s=%i %s equals a padded naive convolution (pads %j)',
    (h, w, cin, k, cout, s, padding, pads) => {
      const n = 2;
      const x = pseudoRandom(n * h * w * cin, 7, 3);
      const kern = pseudoRandom(k * k * cin * cout, 11);
      const g = convGeometry({ n, h, w, cin }, { kh: k, kw: k, cout }, [s, s], padding);
      const ref = naiveConv(x, [n, h, w, cin], kern, [k, k, cin, cout], s, [...pads] as [
        number,
        number,
        number,
        number,
      ]);
      expect([g.oh, g.ow]).toEqual([ref.oh, ref.ow]);
      for (const kernelFinite of [false, true]) {
        // plain direct loop / pixel-blocked (or GEMM) path
        const y = conv2d(x, g, kern, kernelFinite);
        expect(Array.from(y)).toEqual(ref.y); // same summation order, so bit-identical
      }
    },
  );

  test('max and average pooling (valid 3x3 s2 and 2x2 s2)', () => {
    const x = Float64Array.from({ length: 5 * 5 }, (_, i) => i); // 1x5x5x1
    const mp = maxPool2d(x, poolGeometry({ n: 1, h: 5, w: 5, c: 1 }, [3, 3], [2, 2], 'valid'));
    expect(Array.from(mp)).toEqual([12, 14, 22, 24]);
    const ap = avgPool2d(x, poolGeometry({ n: 1, h: 5, w: 5, c: 1 }, [2, 2], [2, 2], 'valid'));
    expect(Array.from(ap)).toEqual([3, 5, 13, 15]);
  });

  test('Flatten is NHWC row-major (h, w, c) and Dense is x · kernel[in, units] + bias', async () => {
    const g = new GraphBuilder();
    const input = g.input([2, 3, 2]);
    const out = g.dense(g.flatten(input), 2, 'linear', { kind: 'zeros' });
    const spec: ModelSpec = {
      model: 'identity_block',
      args: {},
      layers: g.layers,
      input: input.layer,
      output: out.layer,
      boundaries: [],
    };
    const kernel = Float32Array.from({ length: 12 * 2 }, (_, i) => (i % 2 === 0 ? 16 ** (i / 2) : 0));
    const weights: ModelWeights = new Map([
      [
        'dense',
        [
          { name: 'kernel', shape: [12, 2], data: kernel, trainable: true },
          { name: 'bias', shape: [2], data: Float32Array.from([0.5, -1]), trainable: true },
        ],
      ],
    ]);
    // Unit 0 weights input i by 16^i (exact in float32), so the logit spells the flattened input as hex digits.
    const x: Tensor = { shape: [1, 2, 3, 2], data: Float64Array.from({ length: 12 }, (_, i) => (i % 9) + 1) };
    const y = await runModel('fp64', spec, x, false, weights);
    let expected = 0.5;
    for (let i = 0; i < 12; i++) expected += x.data[i] * 16 ** i; // NHWC data order is the (h, w, c) flatten order
    expect(Array.from(y.data)).toEqual([expected, -1]);
  });

  test("layer interpreter: inputs from elsewhere are rounded to the storage format, the executor's own are not", () => {
    const g = new GraphBuilder();
    const input = g.input([1, 1, 2]);
    const r = g.relu(input);
    const spec: ModelSpec = {
      model: 'identity_block',
      args: {},
      layers: g.layers,
      input: input.layer,
      output: r.layer,
      boundaries: [],
    };
    const relu = spec.layers[1];
    const x = { shape: [1, 1, 1, 2], data: Float64Array.from([1 + 2 ** -30, 0.1]) };
    const out = (a: Arithmetic, inputsStored: boolean) =>
      Array.from(evaluateLayer(relu, [x], prepareLayer(relu, new Map(), a), { training: false, inputsStored }).output);
    expect(out('fp64', false)).toEqual([1 + 2 ** -30, 0.1]);
    expect(out('fp32', false)).toEqual([1, Math.fround(0.1)]);
    expect(out('fp16', false)).toEqual([1, 0.0999755859375]);
    expect(out('fp32', true)).toEqual([1 + 2 ** -30, 0.1]); // trusted: the caller says they are stored already
    const block = convolutionalBlock(2, [2, 4, 6], 2);
    const weights = initModelWeights(block);
    const conv = block.layers.find((l) => l.className === 'Conv2D')!;
    weights.delete(conv.name);
    expect(() => prepareLayer(conv, weights, 'fp32')).toThrow(
      new RegExp(`layer '${conv.name}' \\(Conv2D\\) needs 2 weight tensors, none given`),
    );
  });

  test('softmax subtracts the max (huge logits stay finite)', () => {
    const p = softmax(Float64Array.from([1000, 1001, 1002, -Infinity]), 4);
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const sum = e[0] + e[1] + e[2];
    expect(Array.from(p)).toEqual([e[0] / sum, e[1] / sum, e[2] / sum, 0]);
  });
});

describe('forward command on the reference adapter', () => {
  let dir: string;
  let stderr: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forward-'));
    writeNpy(path.join(dir, 'x.npy'), notebookX());
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    stderr = '';
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      stderr += String(s);
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  const ib = cpu.identity_block;
  test.each([
    ['fp64', Float64Array, ib.resume_training_false_public_tests],
    ['tf32', Float32Array, publishedVersions()['gpu-tf32'].identity_block.resume_training_false_public_tests],
  ] as const)(
    'identity block from a (3,4,4,3) .npy, --precision %s, writes the notebook values',
    async (precision, type, expected) => {
      const out = path.join(dir, `y-${precision}.npy`);
      const args = [
        '--model',
        'identity_block',
        '--f',
        '2',
        '--filters',
        '4,4,3',
        '--initializer',
        'constant:1',
        '--input',
        path.join(dir, 'x.npy'),
        '--adapter',
        'reference',
        '--precision',
        precision,
        '--out',
        out,
      ];
      if (precision === 'tf32') args.push('--tf32-layers', 'conv2d_2');
      expect(await forwardCommand(args)).toBe(0);
      const y = readNpy(out);
      expect(y.shape).toEqual([3, 4, 4, 3]);
      expect(y.data).toBeInstanceOf(type);
      expect(allclose(resumeValues(y), flat(expected), 1e-5, 1e-5).bad).toEqual([]);
    },
  );

  test.each([
    [['--model', 'identity_block', '--adapter', 'reference', '--out', 'y.npy'], /--input is required/],
    [['--model', 'vgg', '--input', 'x.npy', '--adapter', 'reference', '--out', 'y.npy'], /--model must be one of/],
    [
      ['--model', 'identity_block', '--input', 'x.npy', '--adapter', 'nope', '--out', 'y.npy'],
      /--adapter: unknown adapter 'nope'/,
    ],
    [
      [
        '--model',
        'identity_block',
        '--input',
        'x.npy',
        '--adapter',
        'reference-fp32',
        '--precision',
        'fp32',
        '--out',
        'y.npy',
      ],
      /--precision and --tf32-layers apply only to --adapter reference/,
    ],
    [
      [
        '--model',
        'identity_block',
        '--input',
        'x.npy',
        '--adapter',
        'reference',
        '--precision',
        'fp16',
        '--out',
        'y.npy',
      ],
      /--precision must be fp64, fp32 or tf32/,
    ],
    [
      [
        '--model',
        'identity_block',
        '--input',
        'x.npy',
        '--adapter',
        'reference',
        '--tf32-layers',
        'conv2d',
        '--out',
        'y.npy',
      ],
      /--tf32-layers needs --precision tf32/,
    ],
    [
      ['--model', 'identity_block', '--filters', '4,4', '--input', 'x.npy', '--adapter', 'reference', '--out', 'y.npy'],
      /--filters must be three integers/,
    ],
    [
      ['--model', 'identity_block', '--input', 'missing.npy', '--adapter', 'reference', '--out', 'y.npy'],
      /--input: .*missing\.npy/,
    ],
    [
      [
        '--model',
        'identity_block',
        '--filters',
        '4,4,4',
        '--input',
        'x.npy',
        '--adapter',
        'reference',
        '--out',
        'y.npy',
      ],
      /F3 = 4/,
    ],
    [
      [
        '--model',
        'identity_block',
        '--input-shape',
        '5,5,3',
        '--input',
        'x.npy',
        '--adapter',
        'reference',
        '--out',
        'y.npy',
      ],
      /input shape \[3, 4, 4, 3\].*\[None, 5, 5, 3\]/,
    ],
  ])('bad arguments exit 2 naming the argument: %j', async (args, message) => {
    const withDir = args.map((a) => (a.endsWith('.npy') ? path.join(dir, a) : a));
    expect(await forwardCommand(withDir)).toBe(2);
    expect(stderr).toMatch(message);
  });
});
