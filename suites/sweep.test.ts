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
  batchNormFormsOf,
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
  type OracleBound,
  type SweepCase,
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
/**
 * Training-mode blocks of the suite's 1000 configurations whose bound is wider than 1e-4 of their
 * largest output, measured: 4 of 96 for a centred BatchNormalization output, 7 where the runtime
 * may fold it (tfjs-wasm: its kernel's form is not read, so the bound covers both).
 */
const missedTrainingBlocks = (id: string) => (batchNormFormsOf(id).output === 'centered' ? 4 : 7);

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

/**
 * The oracle and its bound per configuration, computed once per BatchNormalization form and shared
 * by the adapters (the oracle is a fifth of the suite's time otherwise).
 */
const oracleCache = new Map<string, OracleBound>();
function cachedOracle(i: number, c: SweepConfig, sc: SweepCase, entry: AdapterEntry): OracleBound {
  const forms = batchNormFormsOf(entry.id);
  const key = `${i}/${entry.profile}/${forms.variance}/${forms.output}`;
  let ob = oracleCache.get(key);
  if (!ob) {
    ob = oracleWithBound(sc.spec, sc.weights, sc.input, sc.training, BOUND_PROFILES[entry.profile], forms);
    oracleCache.set(key, ob);
  }
  return ob;
}

describeEachAdapter(
  'error bound from the arithmetic',
  (entry: AdapterEntry) => {
    test(`holds with margin over ${CONFIGS} small configurations, and a 1e-4 relative change of one element breaks it`, async () => {
      const adapter = entry.create();
      await adapter.probe({ dedicatedProcess: true });
      const counts: Record<string, number> = { pass: 0, fail: 0, unbounded: 0 };
      const unexpected: string[] = [];
      let worst = 0;
      const planted = { single: 0, singleCaught: 0, block: 0, blockCaught: 0, inference: 0, inferenceCaught: 0 };
      const missed: string[] = [];
      try {
        for (let i = 0; i < CONFIGS; i++) {
          const c = generateConfig(SEED, i, SWEEP_KINDS, MAX_COST);
          const sc = buildSweepCase(c);
          const ob = cachedOracle(i, c, sc, entry);
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
          if (c.kind !== 'block') {
            planted.single++;
            if (caught) planted.singleCaught++;
          } else if (!c.training) {
            planted.inference++;
            if (caught) planted.inferenceCaught++;
          } else {
            planted.block++;
            if (caught) planted.blockCaught++;
          }
          if (!caught) missed.push(`#${i} ${describeConfig(c)}`);
        }
      } finally {
        await adapter.dispose();
      }
      expect(unexpected).toEqual([]);
      // Every configuration has a finite bound (the oracle is deterministic: measured 0 of 1000).
      expect(counts.unbounded).toBe(0);
      expect(counts.pass).toBeGreaterThan(CONFIGS * 0.95);
      // Margin: the worst error of a correct runtime uses at most 3/4 of its bound (measured 0.644).
      expect(worst).toBeLessThan(0.75);
      // The planted change is caught in every single layer (conv, bn both modes, pool, dense) and
      // every inference-mode block of these 1000; in training-mode blocks in all but a few
      // (BatchNormalization on 4–30 values per channel after a Conv2D whose output barely varies
      // across them amplifies the worst-case error of the layers before it; docs/error-bounds.md).
      expect(planted.single).toBeGreaterThan(CONFIGS * 0.7);
      expect(planted.singleCaught).toBe(planted.single);
      expect(planted.inferenceCaught).toBe(planted.inference);
      expect(planted.block).toBeGreaterThan(CONFIGS * 0.05);
      expect(planted.block - planted.blockCaught).toBeLessThanOrEqual(missedTrainingBlocks(entry.id));
    }, 240_000);

    test('computes the batch variance in the form the bound assumes (a channel whose mean is 2¹⁰ times its spread)', async () => {
      const c: SweepConfig = { ...generateConfig(1, 1, ['bn']), batch: 4, h: 4, w: 4, cin: 3, training: true };
      const sc = buildSweepCase(c);
      // 1024 + multiples of 1/64 in [−1, 1]: exact float32 values, σ ≈ 0.6, mean(x²) ≈ 2²⁰.
      const data = Float32Array.from(sc.input.data, (_, i) => 1024 + (((i * 37) % 129) - 64) / 64);
      const input = { shape: sc.input.shape, data };
      const forms = batchNormFormsOf(entry.id);
      const ob = oracleWithBound(sc.spec, sc.weights, input, true, BOUND_PROFILES[entry.profile], forms);
      const adapter = entry.create();
      await adapter.probe({ dedicatedProcess: true });
      try {
        await adapter.build(sc.spec, sc.weights);
        const out = (await adapter.run(input, { training: true })).output;
        expect(judgeAgainstBound(ob, out).status).toBe('pass');
      } finally {
        await adapter.dispose();
      }
      // The check can fail: float32 one-pass statistics, mean(x²) − mean², leave that bound.
      if (forms.variance === 'two-pass') {
        const f = Math.fround;
        const [g, b] = sc.weights.get(sc.spec.output)!.map((t) => t.data);
        const ch = c.cin;
        const onePass = new Float32Array(data.length);
        for (let k = 0; k < ch; k++) {
          let s1 = 0;
          let s2 = 0;
          for (let i = k; i < data.length; i += ch) {
            s1 = f(s1 + data[i]);
            s2 = f(s2 + f(data[i] * data[i]));
          }
          const m = f(s1 / (data.length / ch));
          const v = f(f(s2 / (data.length / ch)) - f(m * m));
          const inv = f(1 / f(Math.sqrt(f(Math.max(v, 0) + 1e-3))));
          for (let i = k; i < data.length; i += ch) onePass[i] = f(f(f(data[i] - m) * inv) * g[k] + b[k]);
        }
        expect(judgeAgainstBound(ob, { shape: ob.shape, data: onePass }).status).toBe('fail');
      }
    });
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

describe('per-configuration timeout (planted hanging adapter)', () => {
  test('a configuration whose run never settles is a timeout, the adapter is restarted and the sweep goes on', async () => {
    // The first instance's third run() never settles, and neither does its dispose(); instances
    // created after it are correct. The limit is thousands of times a pooling configuration's
    // run on the reference adapter (about a millisecond), the hang is infinite.
    let instances = 0;
    const create = (): Adapter => {
      const inner = new ReferenceAdapter({ id: 'planted-hang', precision: 'fp32' });
      const mine = ++instances;
      let runs = 0;
      const never = () => new Promise<never>(() => {});
      return {
        id: 'planted-hang',
        probe: () => inner.probe(),
        describe: () => inner.describe(),
        paramCount: () => inner.paramCount(),
        build: (spec, weights) => inner.build(spec, weights),
        run: (input, opts) => (mine === 1 && ++runs === 3 ? never() : inner.run(input, opts)),
        dispose: () => (mine === 1 ? never() : inner.dispose()),
      };
    };
    const report = await runSweep({
      adapters: ['planted-hang'],
      seed: 2,
      kinds: ['pool'],
      budget: 6,
      configTimeoutMs: 5_000,
      create,
      profileOf: () => 'fp32-cpu',
    });
    const row = report.adapters[0];
    expect(row.counts).toMatchObject({ pass: 5, timeout: 1, fail: 0, error: 0 });
    expect(report.failures.map((f) => [f.index, f.outcome])).toEqual([[2, 'timeout']]);
    expect(report.failures[0].reason).toMatch(/longer than 5 s/);
    expect(report.groups).toEqual([]); // timeouts are not shrunk
    expect(instances).toBe(2);
    expect(renderSweepMarkdown(report)).toMatch(
      /planted-hang: 0 failing of 6 configurations in 0 group\(s\), 1 timed out/,
    );
  }, 60_000);
});
