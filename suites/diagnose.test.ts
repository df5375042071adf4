/**
 * Divergence diagnosis (issue #9): the first diverging layer is named exactly, TF32 (everywhere or
 * in a chosen subset of layers) is recognized layer by layer, fp32 CPU adapters are diagnosed as
 * fp32; plus the pieces it relies on (rounding formats, the per-layer evaluator's agreement with
 * the reference executor, budgets, roles, renderers, the CLI).
 */
import { ReferenceAdapter } from '../src/adapters/reference';
import type { Adapter, AdapterEntry, PrecisionProfile, RunOptions, RunResult } from '../src/adapters/types';
import { layerBudgetUlps, LAYER_BUDGET_RULES } from '../src/compare/layer-budgets';
import { main } from '../src/cli/main';
import { loadManifest } from '../src/golden/load';
import { FIXTURES_DIR } from '../src/golden/paths';
import {
  captureNamesFor,
  classifyLayer,
  defaultDiagnoseInput,
  diagnoseCase,
  diagnoseModel,
  distanceUlp,
  LayerEvaluator,
  layerRoles,
  layersWithRole,
  renderDiagnosesHtml,
  renderDiagnosisMarkdown,
  renderDiagnosisText,
  roundToBf16,
  roundToFp16,
  summarizePrecision,
  ulp32,
  type Diagnosis,
  type DiagnoseModelOptions,
} from '../src/diagnose';
import { PerturbedAdapter } from './helpers/perturbed-adapter';
import { initModelWeights } from '../src/init';
import { buildModel, type ModelArgs } from '../src/model/model-args';
import { constantInit } from '../src/model/initializers';
import { convolutionalBlockLayers, identityBlock, identityBlockLayers, LOGITS_SUFFIX } from '../src/model/builders';
import { GraphBuilder } from '../src/model/graph-builder';
import { glorotUniform, randomUniform } from '../src/model/initializers';
import type { ModelSpec } from '../src/model/types';
import type { Tensor } from '../src/tensor';
import { describeEachAdapter } from './helpers/adapters';

/** A block big enough for the arithmetics to differ (K = 2·2·8 .. 8 products per output). */
const CONV_BLOCK: ModelArgs = { model: 'convolutional_block', f: 2, filters: [8, 8, 16], s: 2, inputShape: [8, 8, 8] };
const IDENTITY_BLOCK: ModelArgs = { model: 'identity_block', f: 2, filters: [8, 8, 8], inputShape: [6, 6, 8] };

const FAST: Partial<DiagnoseModelOptions> = { checkCaptureEffect: false, fp32Envelope: false };

/**
 * ResNet-50's architecture in miniature (every layer kind, 4 residual blocks, same boundary labels
 * and roles), so the suites stay fast: 16x16x3 input, stem conv 7x7/2 with 8 filters, maxpool,
 * stage 2 (conv block s=1 + identity block), stage 3 (conv block s=2 + identity block), avgpool,
 * flatten, dense softmax over 6 classes.
 */
function miniResnet(): ModelSpec {
  const g = new GraphBuilder();
  const input = g.input([16, 16, 3]);
  let x = g.zeroPadding2D(input, 3);
  x = g.conv2D(x, { filters: 8, kernel: 7, strides: 2, padding: 'valid', init: glorotUniform(0) });
  x = g.batchNorm(x, null);
  x = g.relu(x);
  x = g.maxPool(x, 3, 2);
  const boundaries = [{ label: 'stage1', layer: x.layer }];
  (
    [
      [[4, 4, 8], 1],
      [[8, 8, 16], 2],
    ] as const
  ).forEach(([filters, s], i) => {
    x = convolutionalBlockLayers(g, x, 3, [...filters], s, true, glorotUniform(0));
    boundaries.push({ label: `stage${i + 2}_block1_conv`, layer: x.layer });
    x = identityBlockLayers(g, x, 3, [...filters], true, randomUniform(0));
    boundaries.push({ label: `stage${i + 2}_block2_identity`, layer: x.layer });
  });
  x = g.avgPool(x, 2);
  boundaries.push({ label: 'avgpool', layer: x.layer });
  const out = g.dense(g.flatten(x), 6, 'softmax', glorotUniform(0));
  boundaries.push(
    { label: 'logits', layer: `${out.layer}${LOGITS_SUFFIX}` },
    { label: 'probabilities', layer: out.layer },
  );
  return {
    model: 'resnet50',
    args: { miniature: true },
    layers: g.layers,
    input: input.layer,
    output: out.layer,
    boundaries,
  };
}

async function diagnose(
  adapter: Adapter,
  args: ModelArgs | ModelSpec,
  training: boolean,
  profile: PrecisionProfile,
  extra: Partial<DiagnoseModelOptions> = {},
): Promise<Diagnosis> {
  const spec = 'layers' in args ? args : buildModel(args);
  try {
    return (await diagnoseModel(adapter, spec, { training, profile, ...extra })).diagnosis;
  } finally {
    await adapter.dispose();
  }
}

function row(d: Diagnosis, name: string) {
  const r = d.rows.find((x) => x.name === name);
  if (!r) throw new Error(`no row ${name}`);
  return r;
}

describe('number formats', () => {
  test.each([
    [1, 1],
    [1 + 2 ** -8, 1], // tie at bf16's 7-bit mantissa: to even
    [1 + 3 * 2 ** -8, 1 + 2 ** -6], // tie, to even (up)
    [1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -7],
    [-3.14159, -3.140625],
    [Infinity, Infinity],
  ])('roundToBf16(%p) = %p', (x, y) => expect(roundToBf16(x)).toBe(y));

  test('roundToBf16 keeps NaN', () => expect(roundToBf16(NaN)).toBeNaN());

  test.each([
    [1, 1],
    [1 + 2 ** -11, 1], // tie at 10 bits: to even
    [1 + 3 * 2 ** -11, 1 + 2 ** -9],
    [65504, 65504],
    [65519, 65504], // below the halfway point to 2^16
    [65520, Infinity], // halfway rounds to even = 2^16 = overflow
    [-70000, -Infinity],
    [2 ** -24, 2 ** -24], // smallest subnormal
    [2 ** -25, 0], // tie between 0 and 2^-24: to even (0)
    [3 * 2 ** -25, 2 ** -23], // tie between 1 and 2 steps: to even (2 steps)
    [2 ** -14 + 2 ** -25, 2 ** -14], // smallest normal: steps of 2^-24, below the tie
    [0.1, 0.0999755859375],
  ])('roundToFp16(%p) = %p', (x, y) => expect(roundToFp16(x)).toBe(y));

  test.each([
    [1, 2 ** -23],
    [1.5, 2 ** -23],
    [2, 2 ** -22],
    [-3, 2 ** -22],
    [0, 2 ** -149],
    [2 ** -130, 2 ** -149],
    [2 - 2 ** -30, 2 ** -23], // rounds up to 2 in float32, but its exponent is still 0
  ])('ulp32(%p) = %p', (x, y) => expect(ulp32(x)).toBe(y));
});

describe('per-layer evaluator', () => {
  // Chaining LayerEvaluator layer by layer (the perturbed adapter without perturbation) must equal a
  // whole-model ReferenceAdapter run bit for bit, or "the error a layer introduces" would be measured
  // against something else. Both call the same layer interpreter; this guards the two callers (inputs
  // rounded by the diagnosis vs trusted as stored by the executor, weights prepared per arithmetic).
  test.each([
    ['convolutional_block', 'fp32', false],
    ['identity_block', 'fp64', true],
    ['miniature ResNet', 'fp32', false],
    ['miniature ResNet', 'fp32', true],
    ['miniature ResNet', 'fp64', true],
  ] as const)(
    '%s in %s, training=%s: every layer identical to ReferenceAdapter',
    async (model, precision, training) => {
      const spec =
        model === 'miniature ResNet'
          ? miniResnet()
          : buildModel(model === 'identity_block' ? IDENTITY_BLOCK : CONV_BLOCK);
      const weights = initModelWeights(spec);
      const { input } = defaultDiagnoseInput(spec);
      const names = captureNamesFor(spec);
      const ref = new ReferenceAdapter({ precision });
      await ref.build(spec, weights);
      const mine = new PerturbedAdapter({ arithmetic: precision });
      await mine.build(spec, weights);
      const a = await ref.run(input, { training, capture: names });
      const b = await mine.run(input, { training, capture: names });
      for (const n of names) {
        expect({
          n,
          same:
            Buffer.compare(
              Buffer.from(Float64Array.from(a.intermediates[n].data).buffer),
              Buffer.from(Float64Array.from(b.intermediates[n].data).buffer),
            ) === 0,
        }).toEqual({ n, same: true });
      }
    },
  );

  test('TF32 in selected layers: identical to ReferenceAdapter tf32Layers', async () => {
    const spec = buildModel(CONV_BLOCK);
    const weights = initModelWeights(spec);
    const { input } = defaultDiagnoseInput(spec);
    const tf32 = layersWithRole(spec, 'conv 2');
    const ref = new ReferenceAdapter({ precision: 'tf32', tf32Layers: tf32 });
    await ref.build(spec, weights);
    const mine = new PerturbedAdapter({ layerArithmetic: Object.fromEntries(tf32.map((n) => [n, 'tf32'])) });
    await mine.build(spec, weights);
    const a = (await ref.run(input, { training: true })).output.data;
    const b = (await mine.run(input, { training: true })).output.data;
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  test('fp16 hypothesis shares the TF32 product only within float noise of the exact fp16 evaluation', async () => {
    const spec = buildModel(CONV_BLOCK);
    const weights = initModelWeights(spec);
    const ev = new LayerEvaluator(spec, weights);
    const conv = spec.layers.find((l) => l.className === 'Conv2D' && l.kernelSize[0] === 2)!;
    if (conv.className !== 'Conv2D') throw new Error('no conv');
    const src = spec.layers.find((l) => l.name === conv.inbound[0])!;
    // Input with values below binary16's normal range, where the two roundings differ.
    const n = 3;
    const size = n * src.outputShape.reduce((p, d) => p * d, 1);
    const data = new Float64Array(size).map((_, i) => Math.fround(((i % 17) - 8) * (i % 3 === 0 ? 1e-6 : 0.1)));
    const x = { shape: [n, ...src.outputShape], data };
    const exact = ev.linear(conv, x, 'fp16');
    const shared = ev.linearHypotheses(conv, x, new Set(['fp16'] as const), true).hypotheses.get('fp16')!;
    const fp64 = ev.linear(conv, x, 'fp64');
    const scale = ev.scale(conv, [x], false, fp64);
    const unit = scale.map(ulp32);
    // fp16 output storage rounds to 2^-10 relative; a 1-ULP(fp16) flip may happen, never more.
    const d = distanceUlp(shared, exact, unit);
    expect(d.rms).toBeLessThan(0.05 * distanceUlp(exact, ev.linear(conv, x, 'fp32'), unit).rms);
  });
});

describe('budgets and roles', () => {
  test('Conv2D budget is 2·kH·kW·Cin + 2 ULP(S) (WebNN-style), plus 2^15 for TF32 operands', () => {
    expect(layerBudgetUlps('Conv2D', { k: 3 * 3 * 64 }, 'fp32-cpu')).toBe(2 * 576 + 2);
    expect(layerBudgetUlps('Conv2D', { k: 3 * 3 * 64 }, 'tf32-gpu')).toBe(2 * 576 + 2 + 32768);
    expect(layerBudgetUlps('BatchNormalization:training', { count: 2 * 16 * 16 }, 'fp32-cpu')).toBe(2 * 512 + 8);
    expect(layerBudgetUlps('exact', {}, 'fp32-cpu')).toBe(0);
    expect(() => layerBudgetUlps('Conv2D', {}, 'fp32-cpu')).toThrow(/needs k/);
    for (const rule of Object.values(LAYER_BUDGET_RULES)) expect(rule.reason.length).toBeGreaterThan(40);
  });

  test('ResNet-50 roles: 16 residual blocks, conv 1-3 in each, shortcut conv in the 4 convolutional blocks', () => {
    const spec = buildModel({ model: 'resnet50' });
    expect(layersWithRole(spec, 'conv 3')).toHaveLength(16);
    expect(layersWithRole(spec, 'shortcut conv')).toHaveLength(4);
    expect(layersWithRole(spec, 'stem conv')).toEqual(['conv2d']);
    const roles = layerRoles(spec);
    expect(roles.get('conv2d_4')).toEqual({
      block: 'stage2_block1_conv',
      inResidualBlock: true,
      role: 'shortcut conv',
    });
    expect(roles.get('dense')?.role).toBe('dense');
    expect(captureNamesFor(spec)).toHaveLength(177); // 176 layers after the input + dense:logits
  });
});

describe('first diverging layer: a test-only adapter broken in one layer', () => {
  const spec = buildModel(CONV_BLOCK);
  const layers = spec.layers
    .filter((l) => l.className !== 'InputLayer' && l.className !== 'Activation')
    .map((l) => l.name);
  test.each(
    layers.flatMap(
      (l) =>
        [
          [l, false],
          [l, true],
        ] as const,
    ),
  )('+1e-3 on %s (training=%s) is named, and only it', async (layer, training) => {
    const d = await diagnose(
      new PerturbedAdapter({ perturb: { kind: 'add', layer, value: 1e-3 } }),
      spec,
      training,
      'fp32-cpu',
      FAST,
    );
    expect(d.firstDiverging?.name).toBe(layer);
    expect(d.outOfBudget).toEqual([layer]);
    expect(d.verdict).toContain(`first layer out of budget: ${layer}`);
  });

  test.each([false, true])(
    "'same' padding placed before instead of after in conv 2 (training=%s) is named",
    async (training) => {
      const conv2 = layersWithRole(spec, 'conv 2')[0];
      const d = await diagnose(
        new PerturbedAdapter({ perturb: { kind: 'same-padding-before', layer: conv2 } }),
        spec,
        training,
        'fp32-cpu',
        FAST,
      );
      expect(d.firstDiverging?.name).toBe(conv2);
      expect(d.outOfBudget).toEqual([conv2]);
      expect(row(d, conv2).precision.status).toBe('unexplained');
    },
  );

  test('an unbroken run of the same adapter has no diverging layer (the control)', async () => {
    const d = await diagnose(new PerturbedAdapter(), spec, true, 'fp32-cpu', FAST);
    expect(d.firstDiverging).toBeNull();
    expect(d.precision.text).toMatch(/^fp32 throughout/);
  });

  test.each([false, true])(
    "miniature ResNet: +1e-3 on the second identity block's conv 2 is named (training=%s)",
    async (training) => {
      const spec = miniResnet();
      const target = layersWithRole(spec, 'conv 2')[3];
      const d = await diagnose(
        new PerturbedAdapter({ perturb: { kind: 'add', layer: target, value: 1e-3 } }),
        spec,
        training,
        'fp32-cpu',
        FAST,
      );
      expect(d.firstDiverging?.name).toBe(target);
      expect(d.outOfBudget).toEqual([target]);
    },
  );

  test('miniature ResNet: +1e-3 on the softmax output (dense) is named', async () => {
    const spec = miniResnet();
    const d = await diagnose(
      new PerturbedAdapter({ perturb: { kind: 'add', layer: 'dense', value: 1e-3 } }),
      spec,
      false,
      'fp32-cpu',
      FAST,
    );
    expect(d.firstDiverging?.name).toBe('dense');
    expect(d.outOfBudget).toEqual(['dense']);
  });
});

describe('precision diagnosis', () => {
  test.each([false, true])(
    'reference in tf32 mode (every Conv2D) is diagnosed as TF32 in every matmul, fp32 elsewhere (training=%s)',
    async (training) => {
      const d = await diagnose(new ReferenceAdapter({ precision: 'tf32' }), CONV_BLOCK, training, 'tf32-gpu', FAST);
      for (const r of d.rows.filter((x) => x.className === 'Conv2D')) {
        expect({ layer: r.name, best: r.precision.best, status: r.precision.status }).toEqual({
          layer: r.name,
          best: 'tf32',
          status: 'match',
        });
      }
      for (const r of d.rows.filter((x) => x.className === 'BatchNormalization' || x.className === 'Add'))
        expect(r.precision.best).toBe('fp32');
      expect(d.precision.text).toMatch(/^TF32 in every Conv2D and Dense matmul \(4\/4\); fp32 elsewhere/);
      expect(d.firstDiverging).toBeNull();
    },
  );

  test.each(['conv 1', 'conv 2', 'conv 3', 'shortcut conv'])(
    'TF32 limited to %s is named, fp32 elsewhere',
    async (role) => {
      const spec = buildModel(CONV_BLOCK);
      const tf32 = layersWithRole(spec, role);
      const d = await diagnose(
        new ReferenceAdapter({ precision: 'tf32', tf32Layers: tf32 }),
        spec,
        true,
        'tf32-gpu',
        FAST,
      );
      const convs = d.rows.filter((x) => x.className === 'Conv2D');
      for (const r of convs)
        expect({ layer: r.name, best: r.precision.best }).toEqual({
          layer: r.name,
          best: tf32.includes(r.name) ? 'tf32' : 'fp32',
        });
      expect(d.precision.exceptions).toEqual([expect.objectContaining({ arithmetic: 'tf32', role, layers: tf32 })]);
      expect(d.precision.text).toBe(`TF32 in ${role} (${tf32.join(', ')}); fp32 elsewhere (8 layers matched)`);
    },
  );

  test("the notebook's identity-block test with TF32 in conv 3 only (its published GPU values): conv 3 named; conv 1, exact in TF32 on those operands, indistinguishable", async () => {
    const spec = identityBlock(2, [4, 4, 3], { initializer: constantInit(1) });
    const x = new Float32Array(3 * 4 * 4 * 3);
    x.fill(-1, 0, 48);
    x.fill(1, 48, 96);
    x.fill(3, 96, 144);
    const d = await diagnose(
      new ReferenceAdapter({ precision: 'tf32', tf32Layers: ['conv2d_2'] }),
      spec,
      false,
      'tf32-gpu',
      { ...FAST, input: { shape: [3, 4, 4, 3], data: x } },
    );
    expect(row(d, 'conv2d_2').precision).toEqual(expect.objectContaining({ best: 'tf32', status: 'match' }));
    expect(row(d, 'conv2d').precision.status).toBe('indistinguishable');
    expect(d.precision.text).toMatch(/^TF32 in conv 3 \(conv2d_2\); /);
  });

  test.each([false, true])(
    'miniature ResNet: TF32 only in conv 3 of each block is diagnosed as exactly that (training=%s)',
    async (training) => {
      const spec = miniResnet();
      const conv3 = layersWithRole(spec, 'conv 3');
      const d = await diagnose(
        new ReferenceAdapter({ precision: 'tf32', tf32Layers: conv3 }),
        spec,
        training,
        'tf32-gpu',
        FAST,
      );
      expect(d.precision.exceptions).toEqual([
        expect.objectContaining({ arithmetic: 'tf32', role: 'conv 3', layers: conv3 }),
      ]);
      expect(d.precision.text).toMatch(/^TF32 in conv 3 of each block \(4\/4\); fp32 elsewhere/);
      expect(d.firstDiverging).toBeNull();
    },
  );

  test('ResNet-50 (64x64x3, batch 1): TF32 only in conv 3 of each block is diagnosed as exactly that', async () => {
    const spec = buildModel({ model: 'resnet50' });
    const conv3 = layersWithRole(spec, 'conv 3');
    const input = defaultDiagnoseInput(spec).input;
    const one: Tensor = {
      shape: [1, ...input.shape.slice(1)],
      data: input.data.slice(0, input.data.length / input.shape[0]),
    };
    const d = await diagnose(new ReferenceAdapter({ precision: 'tf32', tf32Layers: conv3 }), spec, false, 'tf32-gpu', {
      ...FAST,
      input: one,
      arithmetics: ['fp32', 'tf32'],
    });
    expect(d.precision.exceptions).toEqual([
      expect.objectContaining({ arithmetic: 'tf32', role: 'conv 3', layers: conv3 }),
    ]);
    expect(d.precision.text).toMatch(/^TF32 in conv 3 of each block \(16\/16\); fp32 elsewhere/);
    expect(d.firstDiverging).toBeNull();
  });

  test('bf16 and fp16 layers are told apart from TF32 and fp32', async () => {
    const spec = buildModel(IDENTITY_BLOCK);
    const [c1, c2, c3] = spec.layers.filter((l) => l.className === 'Conv2D').map((l) => l.name);
    const d = await diagnose(
      new PerturbedAdapter({ layerArithmetic: { [c1]: 'bf16', [c2]: 'tf32', [c3]: 'fp16' } }),
      spec,
      true,
      'fp32-cpu',
      FAST,
    );
    expect([c1, c2, c3].map((n) => row(d, n).precision.best)).toEqual(['bf16', 'tf32', 'fp16']);
    expect([c1, c2, c3].map((n) => row(d, n).precision.status)).toEqual(['match', 'match', 'match']);
  });

  test.each([
    ['reference-fp32', 'fp32', () => new ReferenceAdapter({ precision: 'fp32' })],
    ['reference (fp64)', 'fp64', () => new ReferenceAdapter({ precision: 'fp64' })],
  ] as const)('%s is diagnosed as %s throughout, both BatchNorm modes', async (_id, arith, make) => {
    for (const training of [false, true]) {
      const d = await diagnose(make(), CONV_BLOCK, training, arith === 'fp64' ? 'fp64-reference' : 'fp32-cpu', FAST);
      expect(d.precision.base).toBe(arith);
      expect(d.precision.exceptions).toEqual([]);
      expect(d.precision.counts.unexplained + d.precision.counts.ambiguous).toBe(0);
      expect(d.firstDiverging).toBeNull();
    }
  });

  test('classifyLayer: indistinguishable when hypotheses coincide, unexplained when far from all', () => {
    const unit = new Float64Array([1, 1, 1, 1]);
    const same = new Float64Array([1, 2, 3, 4]);
    const hyps = new Map([
      ['fp32', same],
      ['tf32', same],
    ] as const);
    expect(classifyLayer(same, new Map(hyps), unit, false).status).toBe('indistinguishable');
    const far = new Float64Array([100, 200, 300, 400]);
    expect(classifyLayer(far, new Map(hyps), unit, false).status).toBe('unexplained');
    const t = new Float64Array([11, 12, 13, 14]);
    const split = new Map([
      ['fp32', same],
      ['tf32', t],
    ] as const);
    expect(classifyLayer(new Float64Array([10.5, 12, 13, 14]), new Map(split), unit, false)).toEqual(
      expect.objectContaining({ status: 'match', best: 'tf32', runnerUp: 'fp32' }),
    );
    expect(classifyLayer(new Float64Array([5, 6, 7, 8]), new Map(split), unit, false).status).toBe('ambiguous');
  });

  test('summarizePrecision lists layers when a role is only partly TF32', async () => {
    const spec = buildModel(IDENTITY_BLOCK);
    const d = await diagnose(
      new ReferenceAdapter({ precision: 'tf32', tf32Layers: [layersWithRole(spec, 'conv 2')[0]] }),
      spec,
      false,
      'tf32-gpu',
      FAST,
    );
    const s = summarizePrecision(d.rows, false);
    expect(s.text).toMatch(/^TF32 in conv2d_1 \(identity_block conv 2\); fp32 elsewhere/);
  });
});

describe('capture problems are reported, not hidden', () => {
  /** Wraps an adapter and drops one captured layer. */
  class Dropping implements Adapter {
    readonly id = 'dropping';
    constructor(
      private readonly inner: Adapter,
      private readonly drop: string,
    ) {}
    probe() {
      return this.inner.probe();
    }
    describe() {
      return this.inner.describe();
    }
    build(spec: ModelSpec, w: ReturnType<typeof initModelWeights>) {
      return this.inner.build(spec, w);
    }
    async run(x: Tensor, o: RunOptions): Promise<RunResult> {
      const r = await this.inner.run(x, o);
      delete r.intermediates[this.drop];
      return r;
    }
    paramCount() {
      return this.inner.paramCount();
    }
    dispose() {
      return this.inner.dispose();
    }
  }

  test('a layer the adapter did not return is not analysed, nor the layers that need it as input', async () => {
    const spec = buildModel(IDENTITY_BLOCK);
    const d = await diagnose(
      new Dropping(new ReferenceAdapter({ precision: 'fp32' }), 'batch_normalization_1'),
      spec,
      false,
      'fp32-cpu',
      FAST,
    );
    expect(row(d, 'batch_normalization_1').problem).toBe('not captured by the adapter');
    expect(row(d, 'activation_1').problem).toBe('input batch_normalization_1 not captured');
    expect(d.notAnalysed).toEqual(['batch_normalization_1', 'activation_1']);
    expect(d.captureIssues.join(' ')).toContain('batch_normalization_1');
  });
});

describe('renderers and CLI', () => {
  let d: Diagnosis;
  beforeAll(async () => {
    const spec = buildModel(CONV_BLOCK);
    d = await diagnose(
      new PerturbedAdapter({ perturb: { kind: 'add', layer: 'conv2d_1', value: 1e-3 } }),
      spec,
      false,
      'fp32-cpu',
    );
  });

  test('text table: one line per row, the verdict names the layer', () => {
    const t = renderDiagnosisText(d);
    expect(t).toMatch(/^\s+4 conv2d_1 +Conv2D .* OUT /m);
    expect(t).toContain('verdict: first layer out of budget: conv2d_1 (Conv2D, conv 2)');
  });

  test('Markdown fragment and HTML chart', () => {
    expect(renderDiagnosisMarkdown(d)).toContain('**First layer out of budget:** `conv2d_1`');
    const html = renderDiagnosesHtml([d]);
    expect(html).toContain('<svg');
    expect(html).toContain('Error along depth');
    expect(html).not.toMatch(/<script/i);
  });

  test('JSON round-trips', () => {
    expect(JSON.parse(JSON.stringify(d))).toEqual(JSON.parse(JSON.stringify(d)));
    expect(d.schema).toBe('resnet-conformance/diagnosis');
  });

  async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
    const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      err += String(s);
      return true;
    });
    try {
      return { code: await main(argv), out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  test('diagnose --adapter reference --precision tf32 --tf32-layers names TF32 there; exit 0', async () => {
    const r = await cli([
      'diagnose',
      '--adapter',
      'reference',
      '--precision',
      'tf32',
      '--tf32-layers',
      'conv2d_2',
      '--model',
      'identity_block',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Diagnosis;
    expect(j.precision.text).toMatch(/^TF32 in conv 3 \(conv2d_2\)/);
    expect(j.input.source).toContain('RandomUniform(-1.0, 1.0, seed=1234)');
  });

  test('diagnose --case takes the model arguments, input and BatchNorm mode from the golden case', async () => {
    const id = 'perturbed/identity_block/f3-4x4/training';
    const k = loadManifest(FIXTURES_DIR).cases.find((c) => c.id === id)!;
    const r = await cli([
      'diagnose',
      '--adapter',
      'reference',
      '--precision',
      'tf32',
      '--tf32-layers',
      'conv2d_2',
      '--case',
      id,
      '--json',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Diagnosis;
    expect({ model: j.model, ...j.modelArgs }).toMatchObject(k.model);
    expect(j.training).toBe(true);
    expect(j.input).toEqual({ shape: k.input.shape, source: `input of fixture case ${id}` });
    expect(j.precision.text).toMatch(/^TF32 in conv 3 \(conv2d_2\)/);
  });

  test.each([
    [['diagnose', '--adapter', 'reference'], /--model \(or --case ID\) is required/],
    [
      [
        'diagnose',
        '--adapter',
        'reference',
        '--case',
        'resnet50/batch1/inference',
        '--model',
        'resnet50',
        '--training',
      ],
      /--case takes the model arguments, input and mode from the case: drop --model, --training/,
    ],
    [
      ['diagnose', '--adapter', 'reference', '--case', 'resnet50/batch9/inference'],
      /no case 'resnet50\/batch9\/inference' in .*manifest\.json; cases starting with 'resnet50': resnet50\/batch1\/inference,/,
    ],
    [['diagnose', '--adapter', 'reference', '--model', 'resnet50', '--fixtures', 'x'], /--fixtures goes with --case/],
  ])('diagnose --case usage error %p -> exit 2 naming the problem', async (argv, msg) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
  });

  test.each([
    [['diagnose', '--model', 'resnet50'], /--adapter is required/],
    [['diagnose', '--adapter', 'nope', '--model', 'resnet50'], /unknown adapter 'nope'/],
    [['diagnose', '--adapter', 'reference', '--model', 'vgg'], /--model must be one of/],
    [
      ['diagnose', '--adapter', 'tfjs-cpu', '--model', 'resnet50', '--precision', 'tf32'],
      /only to --adapter reference/,
    ],
    [['diagnose', '--adapter', 'reference', '--model', 'resnet50', '--arithmetics', 'fp8'], /--arithmetics/],
    [['diagnose', '--adapter', 'reference', '--model', 'resnet50', '--input', '/nonexistent.npy'], /--input/],
  ])('usage error %p -> exit 2 naming the problem', async (argv, msg) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
  });
});

// Every available fp32 CPU adapter (reference-fp32, tfjs-cpu, tfjs-wasm, onnxruntime-cpu, keras, ...) is diagnosed as fp32.
describeEachAdapter(
  'fp32 CPU adapter diagnosed as fp32',
  (entry: AdapterEntry) => {
    // One adapter (one program or page, for those that have one) for both modes; diagnose builds it each time.
    let adapter: Adapter;
    beforeAll(() => {
      adapter = entry.create();
    });
    afterAll(async () => {
      await adapter?.dispose();
    });
    // An inference-only adapter (LiteRT/TFLite) cannot run the training-mode diagnosis: not-applicable.
    test.each(entry.inferenceOnly ? [false] : [false, true])(
      'convolutional block, training=%s: fp32 throughout, every layer within budget',
      async (training) => {
        const d = await diagnose(adapter, CONV_BLOCK, training, entry.profile, { fp32Envelope: false });
        expect(d.captureIssues.filter((i) => !i.startsWith('capturing changes'))).toEqual([]);
        expect(d.firstDiverging).toBeNull();
        expect(d.precision.base).toBe('fp32');
        expect(d.precision.exceptions).toEqual([]);
        expect(d.precision.counts.unexplained).toBe(0);
      },
    );
  },
  (e) => e.profile === 'fp32-cpu' && !e.id.includes('cuda') && !e.id.includes('gpu'),
);
