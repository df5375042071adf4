/**
 * The sweep (src/sweep, docs/sweep.md, docs/error-bounds.md): the generator is deterministic and
 * covers the shape edges; the error bound derived from the arithmetic holds for correct float32
 * runtimes over a thousand small configurations each, and a 1e-4 relative change of one output
 * element breaks it; the judge never passes non-finite values; the shrinker takes a planted
 * shape-edge defect down to its minimal form and groups it.
 */
import type { Adapter, AdapterEntry } from '../src/adapters/types';
import { ReferenceAdapter } from '../src/adapters/reference';
import {
  BOUND_PROFILES,
  buildSweepCase,
  compareWithBaseline,
  configProblem,
  describeConfig,
  EDGE_CHANNELS,
  generateConfig,
  judgeAgainstBound,
  oracleWithBound,
  renderSweepMarkdown,
  runSweep,
  SWEEP_KINDS,
  type SweepConfig,
  type SweepGroup,
} from '../src/sweep';
import { describeEachAdapter } from './helpers/adapters';

/** Adapters the bound is proven on (the CPU ones that run after npm ci). */
const BOUND_ADAPTERS = ['reference-fp32', 'onnxruntime-cpu', 'tfjs-cpu', 'tfjs-wasm'];
const CONFIGS = 1000;
/** Small configurations: at most this many multiply-accumulates each (keeps the suite short). */
const MAX_COST = 2000;
const SEED = 11;

/**
 * tfjs-wasm's known defect found by the sweep (docs/sweep.md, known defects): Conv2D with 'same'
 * padding and a stride larger than the kernel. Its failures are allowed here only inside this
 * predicate; any other failure fails the test.
 */
/** Products per output element of a Conv2D / Dense configuration (0 for the others). */
const accumulationLength = (c: SweepConfig) =>
  c.kind === 'conv' ? c.kernel * c.kernel * c.cin : c.kind === 'dense' ? c.h * c.w * c.cin : 0;
/** Accumulations this short always show a 1e-4 relative change of one element (asserted). */
const SHORT_SUM = 64;

const tfjsWasmStrideDefect = (c: SweepConfig) => c.kind === 'conv' && c.padding === 'same' && c.stride > c.kernel;

describe('configuration generator', () => {
  const configs = Array.from({ length: 3000 }, (_, i) => generateConfig(1, i, SWEEP_KINDS));

  test('is a pure function of (seed, index) and differs across seeds', () => {
    expect(generateConfig(1, 17, SWEEP_KINDS)).toEqual(configs[17]);
    const other = Array.from({ length: 50 }, (_, i) => JSON.stringify(generateConfig(2, i, SWEEP_KINDS)));
    expect(other.filter((t, i) => t === JSON.stringify(configs[i])).length).toBeLessThan(5);
    const a = buildSweepCase(configs[3]);
    const b = buildSweepCase(generateConfig(1, 3, SWEEP_KINDS));
    expect(Array.from(a.input.data)).toEqual(Array.from(b.input.data));
  });

  test('every configuration builds, and the shape edges the issue names occur', () => {
    for (const c of configs) expect(configProblem(c)).toBeNull();
    const conv = configs.filter((c) => c.kind === 'conv');
    expect(conv.some((c) => c.h < c.kernel)).toBe(true);
    expect(conv.some((c) => c.h === c.kernel && c.w === c.kernel && c.kernel > 1)).toBe(true);
    expect(conv.some((c) => c.stride > c.kernel)).toBe(true);
    expect(new Set(conv.map((c) => c.kernel))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7]));
    expect(new Set(conv.map((c) => c.stride))).toEqual(new Set([1, 2, 3, 4]));
    expect(new Set(configs.map((c) => c.batch))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    for (const ch of EDGE_CHANNELS) expect(conv.some((c) => c.cin === ch || c.cout === ch)).toBe(true);
    const bn = configs.filter((c) => c.kind === 'bn');
    expect(bn.some((c) => c.training) && bn.some((c) => !c.training)).toBe(true);
    const pools = configs.filter((c) => c.kind === 'pool');
    expect(pools.some((c) => c.pool === 'max') && pools.some((c) => c.pool === 'avg')).toBe(true);
    const blocks = configs.filter((c) => c.kind === 'block');
    expect(blocks.some((c) => c.block === 'identity') && blocks.some((c) => c.block === 'convolutional')).toBe(true);
  });

  test('values: non-zero biases, exact zeros, negatives, a spread of magnitudes', () => {
    const sc = buildSweepCase({ ...generateConfig(1, 0, ['conv']), batch: 2, h: 9, w: 9, cin: 7, cout: 5 });
    const x = Array.from(sc.input.data);
    expect(x.some((v) => v === 0)).toBe(true);
    expect(x.some((v) => v < 0)).toBe(true);
    const mags = x.filter((v) => v !== 0).map((v) => Math.floor(Math.log2(Math.abs(v))));
    expect(Math.max(...mags) - Math.min(...mags)).toBeGreaterThanOrEqual(5);
    const bias = sc.weights.get(sc.spec.output)![1].data;
    expect(Array.from(bias).some((v) => v !== 0)).toBe(true);
  });
});

describe('the judge', () => {
  const sc = buildSweepCase(generateConfig(1, 0, ['conv'], MAX_COST));
  const ob = oracleWithBound(sc.spec, sc.weights, sc.input, sc.training, BOUND_PROFILES['fp32-cpu']);
  const exact = { shape: ob.shape, data: Float32Array.from(ob.value) };

  test('passes float32 rounding of the oracle, fails NaN, Inf and a wrong shape', () => {
    expect(judgeAgainstBound(ob, exact).status).toBe('pass');
    for (const bad of [NaN, Infinity]) {
      const d = Float32Array.from(ob.value);
      d[0] = bad;
      const j = judgeAgainstBound(ob, { shape: ob.shape, data: d });
      expect(j.status).toBe('fail');
      expect(j.reason).toMatch(/non-finite/);
    }
    expect(judgeAgainstBound(ob, { shape: [1, ...ob.shape], data: exact.data }).status).toBe('fail');
  });

  test('a non-finite bound is never a pass', () => {
    const bound = Float64Array.from(ob.bound);
    bound[0] = Infinity;
    expect(judgeAgainstBound({ ...ob, bound }, exact).status).toBe('unbounded');
  });
});

describeEachAdapter(
  'error bound from the arithmetic',
  (entry: AdapterEntry) => {
    test(`holds with margin over ${CONFIGS} small configurations, and a 1e-4 relative change of one element breaks it`, async () => {
      const adapter = entry.create();
      await adapter.probe({ dedicatedProcess: true });
      const counts: Record<string, number> = { pass: 0, fail: 0, unbounded: 0 };
      const unexpected: string[] = [];
      let worst = 0;
      const planted = { single: 0, singleCaught: 0, short: 0, shortCaught: 0, block: 0, blockCaught: 0 };
      try {
        for (let i = 0; i < CONFIGS; i++) {
          const c = generateConfig(SEED, i, SWEEP_KINDS, MAX_COST);
          const sc = buildSweepCase(c);
          const ob = oracleWithBound(sc.spec, sc.weights, sc.input, sc.training, BOUND_PROFILES[entry.profile]);
          await adapter.build(sc.spec, sc.weights);
          const out = (await adapter.run(sc.input, { training: sc.training })).output;
          const j = judgeAgainstBound(ob, out);
          counts[j.status]++;
          if (j.status === 'fail' && !(entry.id === 'tfjs-wasm' && tfjsWasmStrideDefect(c)))
            unexpected.push(`#${i} ${describeConfig(c)}: ${j.reason}`);
          if (j.status !== 'pass') continue;
          worst = Math.max(worst, j.worstRatio);
          // Planted defect: the largest-magnitude output element times (1 + 1e-4).
          let k = 0;
          for (let q = 1; q < out.data.length; q++) if (Math.abs(out.data[q]) > Math.abs(out.data[k])) k = q;
          if (out.data[k] === 0) continue; // nothing to perturb
          const d = Float64Array.from(out.data);
          d[k] *= 1 + 1e-4;
          const caught = judgeAgainstBound(ob, { shape: out.shape, data: d }).status === 'fail';
          if (c.kind === 'block') {
            planted.block++;
            if (caught) planted.blockCaught++;
          } else {
            planted.single++;
            if (caught) planted.singleCaught++;
            if (accumulationLength(c) <= SHORT_SUM) {
              planted.short++;
              if (caught) planted.shortCaught++;
            }
          }
        }
      } finally {
        await adapter.dispose();
      }
      expect(unexpected).toEqual([]);
      // Not judged (no finite bound) stays rare: BatchNormalization training on near-constant channels.
      expect(counts.unbounded).toBeLessThan(CONFIGS * 0.02);
      expect(counts.pass).toBeGreaterThan(CONFIGS * 0.95);
      // Margin: the worst error of a correct runtime uses at most 3/4 of its bound.
      expect(worst).toBeLessThan(0.75);
      // The planted change is caught in every single layer with a short accumulation, in nearly all
      // single layers, and in most blocks. The worst-case bound grows with the accumulation length n
      // (γ_n·Σ|x·w|) and with BatchNormalization training's variance term, so a 1e-4 change hides
      // under it in long sums (measured misses from n = 112) and in some blocks (docs/error-bounds.md).
      expect(planted.single).toBeGreaterThan(CONFIGS * 0.7);
      expect(planted.short).toBeGreaterThan(CONFIGS * 0.5);
      expect(planted.shortCaught).toBe(planted.short);
      expect(planted.singleCaught).toBeGreaterThanOrEqual(planted.single * 0.98);
      expect(planted.blockCaught).toBeGreaterThanOrEqual(planted.block * 0.6);
    }, 240_000);
  },
  (e) => BOUND_ADAPTERS.includes(e.id),
);

/** reference-fp32 with a WebGPU-like shape-edge defect: input size = kernel with 'same' padding keeps only the first output pixel of each image. */
function edgeDefectAdapter(): Adapter {
  const inner = new ReferenceAdapter({ id: 'planted-edge', precision: 'fp32' });
  let buggy = false;
  return {
    id: 'planted-edge',
    probe: () => inner.probe(),
    describe: () => inner.describe(),
    paramCount: () => inner.paramCount(),
    dispose: () => inner.dispose(),
    async build(spec, weights) {
      const conv = spec.layers.find((l) => l.className === 'Conv2D');
      const inShape = spec.layers[0].outputShape;
      buggy =
        spec.model === 'layer' &&
        conv?.className === 'Conv2D' &&
        conv.padding === 'same' &&
        conv.kernelSize[0] > 1 &&
        inShape[0] === conv.kernelSize[0] &&
        inShape[1] === conv.kernelSize[1];
      await inner.build(spec, weights);
    },
    async run(input, opts) {
      const r = await inner.run(input, opts);
      if (!buggy) return r;
      const [n, oh, ow, c] = r.output.shape;
      const d = Float32Array.from(r.output.data);
      for (let b = 0; b < n; b++) for (let i = c; i < oh * ow * c; i++) d[b * oh * ow * c + i] = 0;
      return { ...r, output: { shape: r.output.shape, data: d } };
    },
  };
}

describe('sweep, shrink and group (planted shape-edge defect)', () => {
  test('finds it, shrinks every failure to the one-Conv minimal form, and reports the rest as none', async () => {
    const report = await runSweep({
      adapters: ['planted-edge', 'reference-fp32'],
      seed: 1,
      kinds: ['conv'],
      budget: 400,
      maxShrink: 3,
      create: (id) => (id === 'planted-edge' ? edgeDefectAdapter() : new ReferenceAdapter({ precision: 'fp32' })),
      profileOf: () => 'fp32-cpu',
    });
    const planted = report.adapters.find((a) => a.adapter === 'planted-edge')!;
    expect(planted.counts.fail).toBeGreaterThan(0);
    expect(report.failures.every((f) => f.adapter === 'planted-edge')).toBe(true);
    expect(report.groups.length).toBeGreaterThan(0);
    for (const g of report.groups) {
      const m = g.minimal;
      // Minimal: one image, one channel in and out, the smallest kernel that still has the edge (2), simple values.
      expect({
        batch: m.batch,
        cin: m.cin,
        cout: m.cout,
        kernel: m.kernel,
        h: m.h,
        w: m.w,
        padding: m.padding,
      }).toEqual({
        batch: 1,
        cin: 1,
        cout: 1,
        kernel: 2,
        h: 2,
        w: 2,
        padding: 'same',
      });
      expect(m.values).toBe('quarters');
    }
    const md = renderSweepMarkdown(report);
    expect(md).toMatch(/reference-fp32: none in 400 configurations/);
    expect(md).toMatch(/planted-edge: \d+ failing of 400 configurations in \d+ group/);
  }, 120_000);
});

describe('shards and the baseline comparison', () => {
  test('shards split the indices without overlap; a new group in the current sweep is named', async () => {
    const base = { adapters: ['reference-fp32'], seed: 3, kinds: ['pool' as const], budget: 12 };
    const create = () => new ReferenceAdapter({ precision: 'fp32' });
    const one = await runSweep({ ...base, shard: { index: 0, count: 2 }, create, profileOf: () => 'fp32-cpu' });
    const two = await runSweep({ ...base, shard: { index: 1, count: 2 }, create, profileOf: () => 'fp32-cpu' });
    expect(one.configurations + two.configurations).toBe(12);
    expect(one.adapters[0].counts.pass + two.adapters[0].counts.pass).toBe(12);
    const withGroup = {
      ...one,
      groups: [{ ...({} as SweepGroup), key: 'x {"kind":"conv"}', adapter: 'x', indices: [0] }],
    };
    const cmp = compareWithBaseline(withGroup, one, 'old.json');
    expect(cmp.newGroups).toEqual(['x {"kind":"conv"}']);
    expect(cmp.goneGroups).toEqual([]);
    expect(compareWithBaseline(one, withGroup, 'old.json').goneGroups).toEqual(['x {"kind":"conv"}']);
    expect(compareWithBaseline(one, two, 'old.json').sameConfigurations).toBe(false);
  });
});
