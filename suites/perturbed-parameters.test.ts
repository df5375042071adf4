/**
 * Cases whose weights exercise every parameter (issue 23): the perturbed-parameters weight set
 * (src/init/perturb.ts, twin of fixtures/generate/perturb.py) and the default cases built on it.
 *
 *   - the harness rebuilds, bit for bit, the weights the generator made the golden values with (the
 *     manifest's sha256 of the perturbed tensors), and refuses a case whose digest differs;
 *   - every bias and BatchNorm parameter is non-trivial, the kernels are the notebook's;
 *   - the default case set covers both blocks (even and odd kernels, stride 1 and 2, even and odd
 *     sizes) and ResNet-50, both BatchNorm modes, batch > 1;
 *   - outside adapters that never read conv biases, BatchNorm moving statistics, or gamma/beta
 *     (suites/helpers/parameter-blind-adapter.ts) pass every freshly initialised block case, and FAIL
 *     `run` on the perturbed ones, with the diagnosis naming the first layer that reads the ignored
 *     parameter. Block cases only (the float64 reference on small blocks: quick).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadManifest } from '../src/golden/load';
import type { FixtureCase } from '../src/golden/manifest';
import { initModelWeights, perturbModelWeights } from '../src/init';
import type { ConformanceReport } from '../src/report/schema';
import { caseInitialWeights } from '../src/runner/execute-case';
import { buildModel } from '../src/model/model-args';
import { runCli } from './helpers/cli';

const BLIND_MODULE = path.join(__dirname, 'helpers', 'parameter-blind-adapter.ts');
const manifest = loadManifest();
const perturbed = manifest.cases.filter((k) => k.weights?.perturb);

describe('perturbed-parameters weights', () => {
  test('the manifest has perturbed cases for both blocks and ResNet-50', () => {
    expect(perturbed.length).toBeGreaterThanOrEqual(12);
  });

  test("the harness rebuilds the generator's weights bit for bit (sha256 of the perturbed tensors)", () => {
    const seen = new Set<string>();
    for (const k of perturbed) {
      const key = JSON.stringify(k.model);
      if (seen.has(key)) continue;
      seen.add(key);
      const spec = buildModel(k.model);
      const w = perturbModelWeights(initModelWeights(spec), k.weights!.perturb!);
      expect([k.id, w.sha256]).toEqual([k.id, k.weights!.perturb!.sha256]);
    }
  });

  test("every bias, gamma, beta, moving mean and moving variance is non-trivial; kernels are the notebook's", () => {
    const k = perturbed.find((c) => c.model.model === 'convolutional_block')!;
    const spec = buildModel(k.model);
    const fresh = initModelWeights(spec);
    const w = caseInitialWeights(k, spec);
    const trivial: Record<string, number> = { bias: 0, gamma: 1, beta: 0, moving_mean: 0, moving_variance: 1 };
    let perturbedTensors = 0;
    for (const [layer, list] of w) {
      list.forEach((t, i) => {
        if (t.name === 'kernel') {
          expect(Array.from(t.data)).toEqual(Array.from(fresh.get(layer)![i].data));
          return;
        }
        perturbedTensors++;
        const values = Array.from(t.data);
        // No element keeps the fresh model's value, and the values spread.
        expect([layer, t.name, values.filter((v) => v === trivial[t.name]).length]).toEqual([layer, t.name, 0]);
        expect(Math.max(...values) - Math.min(...values)).toBeGreaterThan(0.1);
        if (t.name === 'moving_variance') expect(Math.min(...values)).toBeGreaterThan(0);
      });
    }
    // 4 convs x bias + 4 BatchNorms x 4
    expect(perturbedTensors).toBe(20);
    // The fresh weights were not modified in place.
    expect(Array.from(fresh.get('batch_normalization')![0].data).every((v) => v === 1)).toBe(true);
  });

  test('a case whose recorded digest differs is refused, naming the recipe', () => {
    const k = perturbed[0];
    const bad: FixtureCase = {
      ...k,
      weights: { ...k.weights!, perturb: { ...k.weights!.perturb!, sha256: '0'.repeat(64) } },
    };
    expect(() => caseInitialWeights(bad, buildModel(k.model))).toThrow(
      /perturbed-parameters-v1 seed \d+: the perturbed tensors' sha256 is [0-9a-f]{64}, the fixture records 0{64}/,
    );
  });

  test('coverage: both blocks with even and odd kernels, stride 1 and 2, even and odd sizes; ResNet-50; both modes; batch > 1', () => {
    const has = (p: (k: FixtureCase) => boolean) =>
      [false, true].map((t) => perturbed.some((k) => k.training === t && p(k)));
    const m = (k: FixtureCase) => k.model as unknown as Record<string, unknown>;
    const size = (k: FixtureCase) => k.input.shape[1];
    for (const block of ['identity_block', 'convolutional_block']) {
      for (const f of [2, 3])
        expect([block, f, has((k) => m(k).model === block && m(k).f === f)]).toEqual([block, f, [true, true]]);
      for (const odd of [0, 1])
        expect([block, odd, has((k) => m(k).model === block && size(k) % 2 === odd)]).toEqual([
          block,
          odd,
          [true, true],
        ]);
    }
    for (const s of [1, 2])
      expect([s, has((k) => m(k).model === 'convolutional_block' && m(k).s === s)]).toEqual([s, [true, true]]);
    expect(has((k) => m(k).model === 'resnet50')).toEqual([true, true]);
    expect(perturbed.every((k) => k.input.shape[0] > 1)).toBe(true);
  });
});

describe('run: an outside adapter that ignores parameters fails, naming the case and the layer', () => {
  let tmp: string;
  let report: ConformanceReport;
  let stdout: string;
  let code: number | null;
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'blind-'));
    const res = await runCli([
      'run',
      '--adapter-module',
      BLIND_MODULE,
      '--adapters',
      'blind-conv-bias,blind-bn-moving-stats,blind-bn-gamma-beta',
      '--cases',
      'identity_block/*,convolutional_block/*,perturbed/identity_block/*,perturbed/convolutional_block/*',
      '--out',
      tmp,
    ]);
    code = res.code;
    stdout = res.stdout + res.stderr;
    report = JSON.parse(fs.readFileSync(path.join(tmp, 'report.json'), 'utf8')) as ConformanceReport;
  }, 240_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('run exits 1 (FAIL)', () => {
    expect([code, stdout]).toEqual([1, expect.stringMatching(/FAIL/)]);
  });

  // The first layer reading the ignored parameter (all blocks start with conv2d -> batch_normalization),
  // and the BatchNorm modes in which the parameter matters: a conv bias before a training-mode BatchNorm
  // is removed again by its batch mean, and training mode does not read the moving statistics.
  const expected = {
    'blind-conv-bias': { layer: 'conv2d', modes: [false] },
    'blind-bn-moving-stats': { layer: 'batch_normalization', modes: [false] },
    'blind-bn-gamma-beta': { layer: 'batch_normalization', modes: [false, true] },
  };

  for (const [adapter, { layer, modes }] of Object.entries(expected)) {
    test(`${adapter}: every freshly initialised block case passes (their parameters are trivial)`, () => {
      const fresh = report.results.filter((r) => r.adapter === adapter && !r.case.startsWith('perturbed/'));
      expect(fresh.length).toBeGreaterThanOrEqual(12);
      expect(fresh.filter((r) => r.status !== 'pass').map((r) => `${r.case}: ${r.status}`)).toEqual([]);
    });

    test(`${adapter}: fails the perturbed ${modes.map((t) => (t ? 'training' : 'inference')).join(' and ')} cases and names ${layer}`, () => {
      const rows = report.results.filter((r) => r.adapter === adapter && r.case.startsWith('perturbed/'));
      expect(rows.length).toBe(10);
      const failing = perturbed
        .filter((k) => k.model.model !== 'resnet50' && modes.includes(k.training))
        .map((k) => k.id);
      expect(
        rows
          .filter((r) => r.status !== 'pass')
          .map((r) => r.case)
          .sort(),
      ).toEqual([...failing].sort());
      for (const r of rows.filter((x) => x.status !== 'pass')) {
        expect([r.case, r.status, r.diagnosis?.firstDiverging?.name]).toEqual([r.case, 'fail-numeric', layer]);
        // The console names the case; report.md names the case and the layer.
        expect(stdout).toContain(r.case);
      }
      const md = fs.readFileSync(path.join(tmp, 'report.md'), 'utf8');
      expect(md).toContain(failing[0]);
      expect(md).toContain(layer);
    });
  }
});
