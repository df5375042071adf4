/**
 * The LiteRT / TFLite adapters (inference only) on the block cases: tflite, tflite-builtin,
 * tflite-reference (the TFLite interpreter of tensorflow 2.21 in .venv, over the stdio protocol)
 * and litertjs-wasm (LiteRT.js in Node); litertjs-wasm-browser and litertjs-webgpu (LiteRT.js in
 * headless Chromium, on the shared browser host) on a few of them only (the browser suites are slow
 * already). An adapter the global setup found unavailable gets one skipped test carrying its
 * reason and fix (e.g. `npm install` for @litertjs/core, `npm run setup:python` for the converter's
 * TensorFlow, the Chromium install for the browser ones), never a pass.
 *
 * Per available adapter: every block inference case passes through executeCase (the runner's own
 * evaluation, at the adapter's profile), every training case is not-applicable without a run, and
 * run(training=true) is refused. The flatbuffers go to a fresh cache folder: converted here, by
 * fixtures/generate/tflite_convert.py, whose provenance must show BatchNormalization folded.
 * ResNet-50 cases are left to `run` (a conversion per shape and capture set, ~100 s each).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LITERT_CACHE_ENV } from '../src/adapters/external/tflite';
import { getAdapterEntry } from '../src/adapters/registry';
import type { Adapter } from '../src/adapters/types';
import { loadManifest } from '../src/golden/load';
import type { FixtureCase } from '../src/golden/manifest';
import { FIXTURES_DIR } from '../src/golden/paths';
import { buildModel } from '../src/model/model-args';
import { caseInitialWeights, executeCase, type EvaluationContext } from '../src/runner/execute-case';
import { PROBE_FILE, type ProbedAdapter } from './helpers/probe-file';

const IDS = [
  'tflite',
  'tflite-builtin',
  'tflite-reference',
  'litertjs-wasm',
  'litertjs-wasm-browser',
  'litertjs-webgpu',
];
const manifest = loadManifest(FIXTURES_DIR);
const BLOCK = /^(notebook|identity_block|convolutional_block|perturbed\/(identity|convolutional)_block)\//;
const blockCases = manifest.cases.filter((k) => BLOCK.test(k.id));
/** The browser adapters' few: the notebook's two blocks (inference and training) and a perturbed stride-2 block. */
const FEW = /^(notebook\/|perturbed\/convolutional_block\/f3-s2-7x7\/inference$)/;
const casesFor = (id: string): FixtureCase[] =>
  getAdapterEntry(id).host === 'browser' ? blockCases.filter((k) => FEW.test(k.id)) : blockCases;
const probes = JSON.parse(fs.readFileSync(PROBE_FILE, 'utf8')) as ProbedAdapter[];

let cache: string;
let savedCache: string | undefined;
beforeAll(() => {
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'litert-cache-'));
  savedCache = process.env[LITERT_CACHE_ENV];
  process.env[LITERT_CACHE_ENV] = cache; // read by the entries' create()
});
afterAll(() => {
  if (savedCache === undefined) delete process.env[LITERT_CACHE_ENV];
  else process.env[LITERT_CACHE_ENV] = savedCache;
  fs.rmSync(cache, { recursive: true, force: true });
});

for (const id of IDS) {
  const entry = getAdapterEntry(id);
  const probe = probes.find((p) => p.id === id);
  describe(id, () => {
    if (!probe?.available) {
      test.skip(`unavailable: ${probe?.reason ?? 'not probed'} (fix: ${probe?.fix ?? 'see docs/litert.md'})`, () =>
        undefined);
      return;
    }
    let adapter: Adapter;
    const ctx: EvaluationContext = { fixturesDir: FIXTURES_DIR, manifest };
    beforeAll(() => {
      adapter = entry.create();
    });
    afterAll(async () => {
      await adapter?.dispose();
    });

    test('declares inference only', () => {
      expect(entry.inferenceOnly).toMatch(/BatchNormalization folded/);
    });

    if (entry.host === 'browser')
      test('describe() names the accelerator the models run on', async () => {
        const d = await adapter.describe();
        expect(d.settings.crossOriginIsolated).toBe(true);
        if (id === 'litertjs-webgpu') {
          expect(d.settings.accelerator).toBe('webgpu');
          expect(d.settings.gpuPrecision).toBe('fp32');
          expect(String(d.settings.webgpuAdapter)).not.toMatch(/^none/);
        } else {
          expect(d.settings.accelerator).toBe('wasm');
          expect(d.settings.wasmBuild).toBe('litert_wasm_threaded_internal');
        }
      }, 120_000);

    test.each(casesFor(id).map((k): [string, FixtureCase] => [k.id, k]))(
      '%s',
      async (_id, k) => {
        const r = await executeCase(adapter, entry, k, ctx);
        if (k.training) {
          expect([r.status, r.metrics]).toEqual(['not-applicable', null]);
          expect(r.reason).toContain('inference-only runtime');
        } else {
          expect([r.status, r.reason]).toEqual(['pass', expect.stringContaining('within tolerance')]);
          expect(r.metrics?.maxAbs).toEqual(expect.any(Number));
        }
      },
      300_000,
    );

    test('the converted convolutional block has BatchNormalization folded: CONV_2D and ADD only, with provenance', () => {
      const infos = fs
        .readdirSync(cache)
        .filter((f) => f.endsWith('.tflite.json'))
        .map((f) => JSON.parse(fs.readFileSync(path.join(cache, f), 'utf8')));
      const conv = infos.find((i) => i.model === 'convolutional_block' && i.capture.length === 0);
      expect(conv).toBeDefined();
      expect([...new Set(conv.operators)].sort()).toEqual(['ADD', 'CONV_2D']);
      expect(conv.operators.filter((o: string) => o === 'CONV_2D')).toHaveLength(4);
      expect(conv.versions.tensorflow).toBe('2.21.0');
      expect(conv.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(fs.statSync(path.join(cache, conv.file)).size).toBe(conv.bytes);
    });

    test('run(training=true) is refused', async () => {
      const k = blockCases.find((c) => !c.training && c.model.model === 'convolutional_block')!;
      const spec = buildModel(k.model);
      await adapter.build(spec, caseInitialWeights(k, spec));
      const x = { shape: [1, ...spec.layers[0].outputShape] as number[], data: new Float32Array(0) };
      x.data = new Float32Array(x.shape.reduce((a, b) => a * b, 1)).fill(0.5);
      await expect(adapter.run(x, { training: true })).rejects.toThrow(/inference only/);
    }, 120_000);
  });
}
