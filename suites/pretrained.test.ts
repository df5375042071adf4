/**
 * Pre-trained Keras models on every available adapter, against Keras's own predictions
 * (fixtures/generate/pretrained.py): imported weights (BatchNorm moving statistics included) must
 * give Keras's model.predict outputs within the tolerance table (src/compare/tolerances/) row of
 * the case class x the adapter's precision profile, as the one judge applies it (src/golden/run-case.ts
 * judgeCase / judgeRun / caseRows; each comparison is a JudgedCase of its class):
 *  - the trained identity/convolutional blocks (committed, every format): 'pretrained-block-inference';
 *  - the trained ResNet-50 (fixtures/pretrained/models/, git-ignored, ~95 MB per format; committed
 *    small in fixtures/pretrained/resnet50/ and materialized byte for byte by the global setup):
 *    'resnet50-inference', on the shipped images (Keras/PIL-preprocessed inputs) and the synthetic
 *    SIGNS dataset.
 * Worst differences per adapter go to .tmp/pretrained-metrics/<adapter>.json.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Adapter, AdapterEntry } from '../src/adapters/types';
import { metricRank, type CompareResult } from '../src/compare/metrics';
import type { ResolvedTolerance } from '../src/compare/tolerances';
import { datasetBatch, loadSignsDataset } from '../src/datasets';
import {
  MATERIALIZE_COMMAND,
  MaterializeError,
  materializePretrained,
  pretrainedGoldensPath,
  type ShippedFile,
} from '../src/golden/pretrained-materialize';
import { caseRows, describeFailures, judgeCase, judgeRun, type CaseRun, type JudgedCase } from '../src/golden/run-case';
import { importKerasModel, weightsDigest, type ImportedModel } from '../src/import';
import { argmax } from '../src/import/predict';
import { prepareImage } from '../src/images';
import { readNpy } from '../src/tensor/npy';
import { tensor, type Tensor } from '../src/tensor';
import { describeEachAdapter } from './helpers/adapters';
import { runCli } from './helpers/cli';

const DIR = path.join(__dirname, '..', 'fixtures', 'pretrained');
const METRICS = path.join(__dirname, '..', '.tmp', 'pretrained-metrics');
const TIMEOUT = 600_000;

interface BlockRecord {
  id: string;
  files: Record<string, { file: string }>;
  weights: { combined: string };
  input: { file: string };
  expected: { file: string };
}
interface ImageRecord {
  file: string;
  pil: { format: string; mode: string };
  x: { file: string };
}
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as {
  blocks: BlockRecord[];
  images: ImageRecord[];
  dataset: { file: string; labels: number[] };
};

interface Goldens {
  caseClass: string;
  float64: {
    caseClass: string;
    images: number[][];
    dataset: number[][];
    keras32VsExact: { images: number; dataset: number };
  };
  files: Record<string, { file: string; sha256: string }>;
  weights: { combined: string; tensors: unknown[] };
  images: { file: string; probabilities: number[]; class: number }[];
  dataset: { probabilities: number[][]; classes: number[] };
}
const GOLDENS_FILE = pretrainedGoldensPath(DIR);
function bigModels(): { goldens?: Goldens; missing: string[] } {
  const goldens = JSON.parse(fs.readFileSync(GOLDENS_FILE, 'utf8')) as Goldens;
  const missing = Object.values(goldens.files)
    .map((f) => f.file)
    .filter((f) => !fs.existsSync(path.join(DIR, f)));
  return missing.length ? { missing } : { goldens, missing };
}
const big = bigModels();

const worstByAdapter = new Map<string, Record<string, { maxAbs: number; maxRel: number; where: string }>>();
function record(id: string, what: string, where: string, r: CompareResult): void {
  const m = worstByAdapter.get(id) ?? {};
  const w = m[what] ?? { maxAbs: 0, maxRel: 0, where: '' };
  const abs = metricRank(r.maxAbs);
  if (abs >= w.maxAbs) {
    w.maxAbs = abs;
    w.where = where;
  }
  w.maxRel = Math.max(w.maxRel, metricRank(r.maxRel));
  m[what] = w;
  worstByAdapter.set(id, m);
}
afterAll(() => {
  fs.mkdirSync(METRICS, { recursive: true });
  for (const [id, m] of worstByAdapter)
    fs.writeFileSync(path.join(METRICS, `${id}.json`), `${JSON.stringify(m, null, 1)}\n`);
});

/** One comparison of this suite as the judge sees it: an output of the given case class, training=False. */
function pretrainedCase(id: string, caseClass: string): JudgedCase {
  return { id: `pretrained/${id}`, caseClass, training: false, checks: [], expected: { output: {} } };
}
const at = (entry: AdapterEntry) => ({ adapter: entry.id, profile: entry.profile });

/**
 * The judge's verdict on one comparison: recorded (passes too); throws with the judge's failure lines
 * unless it passed. Returns the row the judge applied.
 */
function judged(entryId: string, what: string, where: string, run: CaseRun): ResolvedTolerance {
  const [c, ...more] = run.comparisons;
  expect(more).toEqual([]);
  if (c.result) record(entryId, what, where, c.result);
  const failures = describeFailures(run);
  if (failures.length || c.verdict !== 'pass')
    throw new Error(`${entryId} on ${run.caseId}: ${failures.join('; ') || `verdict ${c.verdict}`}`);
  return c.tolerance;
}

/**
 * Rows whose predicted class must equal Keras's: those whose top-two margin in Keras's
 * probabilities exceeds twice the tolerance the judge applied (a near-tie may legitimately flip within it).
 */
function decisiveRows(expected: number[][], tol: ResolvedTolerance): number[] {
  if (tol.kind !== 'tolerance')
    throw new Error(`decisiveRows: ${tol.caseClass} x ${tol.role} x ${tol.profile} is no tolerance`);
  return expected
    .map((p, i) => {
      const s = [...p].sort((a, b) => b - a);
      return s[0] - s[1] > 2 * (tol.atol + tol.rtol * s[0]) ? i : -1;
    })
    .filter((i) => i >= 0);
}

describeEachAdapter('pretrained blocks (every saved format) vs Keras model.predict', (entry: AdapterEntry) => {
  let adapter: Adapter;
  beforeAll(() => {
    adapter = entry.create();
  });
  afterAll(async () => {
    await adapter.dispose();
  });
  for (const b of manifest.blocks) {
    for (const [kind, f] of Object.entries(b.files)) {
      test(
        `${b.id} from ${f.file} (${kind})`,
        async () => {
          const m = await importKerasModel(path.join(DIR, f.file));
          expect(weightsDigest(m.weights).combined).toBe(b.weights.combined);
          await adapter.build(m.spec, m.weights);
          const x = readNpy(path.join(DIR, b.input.file));
          const y = readNpy(path.join(DIR, b.expected.file));
          const k = pretrainedCase(`${b.id}/${kind}`, 'pretrained-block-inference');
          const run = await judgeCase(adapter, at(entry), k, { input: x, output: y, intermediates: {} });
          judged(entry.id, 'pretrained-block-inference', `${b.id} ${kind}`, run);
        },
        TIMEOUT,
      );
    }
  }
});

describe('pretrained ResNet-50: shipped small, materialized byte for byte', () => {
  const shippedGoldens = JSON.parse(fs.readFileSync(GOLDENS_FILE, 'utf8')) as Goldens & {
    files: Record<string, { shipped: ShippedFile; bytes: number }>;
  };
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrained-materialize-'));
    fs.copyFileSync(path.join(DIR, 'manifest.json'), path.join(tmp, 'manifest.json'));
    fs.cpSync(path.dirname(GOLDENS_FILE), path.join(tmp, path.basename(path.dirname(GOLDENS_FILE))), {
      recursive: true,
    });
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('the committed skeletons + the Keras-exact initial kernels give the files Keras wrote (sha256), 1.7 MB committed for 285 MB', () => {
    const files = materializePretrained({ dir: tmp });
    expect(files.map((f) => f.status)).toEqual(Object.keys(shippedGoldens.files).map(() => 'written'));
    let committed = 0;
    for (const [kind, f] of Object.entries(shippedGoldens.files)) {
      const written = files.find((x) => x.kind === kind)!;
      expect(createHash('sha256').update(fs.readFileSync(written.file)).digest('hex')).toBe(f.sha256);
      expect(f.shipped.zeroedKernels).toHaveLength(53); // every Conv2D of ResNet-50
      committed += fs.statSync(path.join(tmp, f.shipped.skeleton)).size;
    }
    expect(committed).toBeLessThan(3e6);
    // A second call finds them in place.
    expect(materializePretrained({ dir: tmp }).map((f) => f.status)).toEqual(files.map(() => 'present'));
  });

  test('a corrupted skeleton, or a range that names another layer, is an error naming the file; nothing is written', () => {
    const [kind, f] = Object.entries(shippedGoldens.files)[0];
    const skel = path.join(tmp, f.shipped.skeleton);
    const bytes = fs.readFileSync(skel);
    bytes[bytes.length >> 1] ^= 0xff;
    fs.writeFileSync(skel, bytes);
    expect(() => materializePretrained({ dir: tmp })).toThrow(MaterializeError);
    expect(() => materializePretrained({ dir: tmp })).toThrow(`${skel}: sha256 differs`);
    expect(fs.existsSync(path.join(tmp, f.file))).toBe(false);

    fs.copyFileSync(path.join(path.dirname(GOLDENS_FILE), path.basename(f.shipped.skeleton)), skel);
    const g = JSON.parse(fs.readFileSync(path.join(tmp, path.relative(DIR, GOLDENS_FILE)), 'utf8'));
    const ranges = g.files[kind].shipped.zeroedKernels as Array<{ layer: string; bytes: number }>;
    // Same-size kernels of seed 0 and the same fans are equal; one of another size must be refused.
    const wrongSize = ranges.find((r) => r.bytes !== ranges[0].bytes)!;
    ranges[0].layer = wrongSize.layer;
    fs.writeFileSync(path.join(tmp, path.relative(DIR, GOLDENS_FILE)), JSON.stringify(g));
    expect(() => materializePretrained({ dir: tmp })).toThrow(/range of conv2d_\d+ .* does not fit its kernel/);
    expect(fs.existsSync(path.join(tmp, f.file))).toBe(false);
  });
});

if (!big.goldens) {
  describe('pretrained ResNet-50', () => {
    test('the model files are there (global setup materializes them)', () => {
      throw new Error(
        `missing ${big.missing.join(', ')}: ${MATERIALIZE_COMMAND} failed in the global setup (see its output)`,
      );
    });
  });
} else {
  const goldens = big.goldens;
  let imported: Promise<ImportedModel> | undefined;
  const model = (): Promise<ImportedModel> =>
    (imported ??= importKerasModel(path.join(DIR, goldens.files['keras3-h5'].file)));
  const imageBatch = (): Tensor => {
    const xs = goldens.images.map((g) =>
      readNpy(path.join(DIR, manifest.images.find((r) => r.file === g.file)!.x.file)),
    );
    const per = xs[0].data.length;
    const data = new Float32Array(per * xs.length);
    xs.forEach((x, i) => data.set(x.data, i * per));
    return tensor([xs.length, 64, 64, 3], data);
  };
  const rows = (rs: number[][]): Tensor => tensor([rs.length, rs[0].length], Float32Array.from(rs.flat()));
  /** The judge on an output already produced (one run, judged against Keras float32 and the exact values). */
  const judgeOutput = (entry: AdapterEntry, id: string, caseClass: string, out: Tensor, want: Tensor): CaseRun =>
    judgeRun(
      pretrainedCase(id, caseClass),
      at(entry),
      { output: out, intermediates: {} },
      { output: want, intermediates: {} },
    );

  describe('pretrained ResNet-50 files', () => {
    for (const [kind, f] of Object.entries(goldens.files)) {
      test(
        `${f.file} (${kind}): imports as the notebook's ResNet-50 with the weights Keras saved`,
        async () => {
          // The file the adapters are built from is imported once for both (model()).
          const m = kind === 'keras3-h5' ? await model() : await importKerasModel(path.join(DIR, f.file));
          expect(m.spec.model).toBe('resnet50');
          const d = weightsDigest(m.weights);
          expect(d.tensors).toHaveLength(goldens.weights.tensors.length);
          expect(d.combined).toBe(goldens.weights.combined);
        },
        TIMEOUT,
      );
    }
  });

  describeEachAdapter('pretrained ResNet-50 vs Keras model.predict', (entry: AdapterEntry) => {
    let adapter: Adapter;
    let imagesOut: Promise<Tensor> | undefined;
    let datasetOut: Promise<Tensor> | undefined;
    const onImages = (): Promise<Tensor> =>
      (imagesOut ??= adapter.run(imageBatch(), { training: false }).then((r) => r.output));
    const onDataset = (): Promise<Tensor> =>
      (datasetOut ??= loadSignsDataset(path.join(DIR, manifest.dataset.file))
        .then((ds) => adapter.run(datasetBatch(ds, 0, ds.count), { training: false }))
        .then((r) => r.output));
    beforeAll(async () => {
      adapter = entry.create();
      const m = await model();
      await adapter.build(m.spec, m.weights);
    }, TIMEOUT);
    afterAll(async () => {
      await adapter.dispose();
    });

    test(
      'shipped images, Keras/PIL-preprocessed inputs: probabilities and classes',
      async () => {
        const out = await onImages();
        const want = rows(goldens.images.map((g) => g.probabilities));
        const run = judgeOutput(entry, 'resnet50/images', goldens.caseClass, out, want);
        const tol = judged(entry.id, `${goldens.caseClass} images`, 'shipped images', run);
        const decisive = decisiveRows(
          goldens.images.map((g) => g.probabilities),
          tol,
        );
        expect(decisive.length).toBeGreaterThan(goldens.images.length / 2);
        const classes = decisive.map((i) => argmax(Array.from(out.data.subarray(i * 6, i * 6 + 6))));
        expect(classes).toEqual(decisive.map((i) => goldens.images[i].class));
      },
      TIMEOUT,
    );

    test(
      'synthetic SIGNS dataset (images / 255): probabilities and classes',
      async () => {
        const out = await onDataset();
        const run = judgeOutput(entry, 'resnet50/dataset', goldens.caseClass, out, rows(goldens.dataset.probabilities));
        const tol = judged(entry.id, `${goldens.caseClass} dataset`, 'dataset', run);
        const decisive = decisiveRows(goldens.dataset.probabilities, tol);
        expect(decisive.length).toBeGreaterThan(goldens.dataset.classes.length / 2);
        expect(decisive.map((i) => argmax(Array.from(out.data.subarray(i * 6, i * 6 + 6))))).toEqual(
          decisive.map((i) => goldens.dataset.classes[i]),
        );
      },
      TIMEOUT,
    );

    test(
      'the exact values (the same model and inputs in a float64 Keras build): images and dataset',
      async () => {
        const cls = goldens.float64.caseClass;
        for (const [what, out, want] of [
          ['images', await onImages(), goldens.float64.images],
          ['dataset', await onDataset(), goldens.float64.dataset],
        ] as const) {
          const run = judgeOutput(entry, `resnet50-float64/${what}`, cls, out, rows(want));
          judged(entry.id, `${cls} ${what}`, what, run);
        }
      },
      TIMEOUT,
    );

    test(
      "our own decoding: PNG and JPEG inputs give Keras's probabilities (JPEG decoded by libjpeg-turbo, as PIL does)",
      async () => {
        // An input bit-identical to Keras/PIL's (all 16 of them, measured) gives the output the adapter
        // already returned for it in the shipped-images batch: only the others are run again.
        const imagesX = imageBatch();
        const per = 64 * 64 * 3;
        const prepared = goldens.images.map((g) => prepareImage(path.join(DIR, g.file)).x.data);
        const same = prepared.map((x, i) => x.every((v, j) => Object.is(v, imagesX.data[i * per + j])));
        const others = prepared.filter((_, i) => !same[i]);
        const othersOut = others.length
          ? (
              await adapter.run(tensor([others.length, 64, 64, 3], Float32Array.from(others.flatMap((x) => [...x]))), {
                training: false,
              })
            ).output.data
          : new Float32Array(0);
        const batchOut = (await onImages()).data;
        let o = 0;
        goldens.images.forEach((g, i) => {
          const probs = same[i] ? batchOut.slice(i * 6, i * 6 + 6) : othersOut.slice(o * 6, ++o * 6);
          const isPng = manifest.images.find((m) => m.file === g.file)!.pil.format === 'PNG';
          const what = isPng ? 'pipeline PNG' : 'pipeline JPEG (libjpeg-turbo decode)';
          const want = tensor([1, 6], Float32Array.from(g.probabilities));
          const run = judgeOutput(entry, `resnet50/pipeline/${g.file}`, goldens.caseClass, tensor([1, 6], probs), want);
          judged(entry.id, what, `${g.file}${same[i] ? ' (input bit-identical to PIL)' : ''}`, run);
        });
      },
      TIMEOUT,
    );
  });

  describe('CLI on the pre-trained ResNet-50', () => {
    const h5 = path.join(DIR, goldens.files['keras3-h5'].file);
    test(
      'classify prints per image and adapter the probabilities, the class and the largest disagreement',
      async () => {
        const r = await runCli([
          'classify',
          '--model',
          h5,
          '--image',
          path.join(DIR, 'images', 'rgb-100x80.png'),
          '--image',
          path.join(DIR, 'images', 'photo-420-128x128.jpg'),
          '--adapters',
          'reference,onnxruntime-cpu',
        ]);
        expect(r.stderr).not.toMatch(/ERROR/);
        expect(r.code).toBe(0);
        const g = goldens.images.find((x) => x.file === 'images/rgb-100x80.png')!;
        const block = r.stdout.slice(r.stdout.indexOf('rgb-100x80.png: PNG RGB 100x80 -> 64x64'));
        expect(block.length).toBeLessThan(r.stdout.length);
        const line = /\n {2}reference +(\d) +\[([^\]]+)\]/.exec(block);
        expect(line).not.toBeNull();
        const printed = line![2].split(', ').map(Number);
        // The printed values (6 significant digits, within 5e-7 of what the adapter returned) judged as its output.
        const run = judgeRun(
          pretrainedCase('resnet50/cli-classify/rgb-100x80.png', goldens.caseClass),
          { adapter: 'reference', profile: 'fp64-reference' },
          { output: tensor([1, 6], Float32Array.from(printed)), intermediates: {} },
          { output: tensor([1, 6], Float32Array.from(g.probabilities)), intermediates: {} },
        );
        expect(describeFailures(run)).toEqual([]);
        expect(run.comparisons.map((c) => c.verdict)).toEqual(['pass']);
        expect(Number(line![1])).toBe(argmax(printed));
        expect(block).toMatch(
          /largest disagreement: \d\.\d\de-\d+ \(reference vs onnxruntime-cpu, p\(\d\)\); (all adapters say class \d|ADAPTERS DISAGREE on the class)/,
        );
        expect(r.stdout).toMatch(/largest disagreement over all images: /);
      },
      TIMEOUT,
    );

    test(
      'evaluate prints accuracy per adapter and the predictions that differ from the baseline',
      async () => {
        const r = await runCli([
          'evaluate',
          '--model',
          path.join(DIR, goldens.files['keras-archive'].file),
          '--dataset',
          path.join(DIR, manifest.dataset.file),
          '--adapters',
          'reference,onnxruntime-cpu',
          '--json',
        ]);
        expect(r.code).toBe(0);
        const j = JSON.parse(r.stdout) as {
          baseline: string;
          adapters: { id: string; correct: number; differFromBaseline: number; maxAbsDiffFromBaseline: number }[];
        };
        expect(j.baseline).toBe('reference');
        // Keras's classes, except near-ties (top-two margin within twice the tolerance) where float32 adapters may flip.
        const fp32 = caseRows(pretrainedCase('resnet50/cli-evaluate', goldens.caseClass), {
          adapter: 'onnxruntime-cpu',
          profile: 'fp32-cpu',
        }).own;
        const nearTies = decisiveRows(goldens.dataset.probabilities, fp32).length;
        const ties = goldens.dataset.classes.length - nearTies;
        const correct = goldens.dataset.classes.filter((c, i) => c === manifest.dataset.labels[i]).length;
        expect(j.adapters.map((a) => a.id)).toEqual(['reference', 'onnxruntime-cpu']);
        for (const a of j.adapters) expect(Math.abs(a.correct - correct)).toBeLessThanOrEqual(ties);
        expect(j.adapters[0].differFromBaseline).toBe(0);
        expect(j.adapters[1].differFromBaseline).toBeLessThanOrEqual(ties);
        expect(j.adapters[1].maxAbsDiffFromBaseline).toBeLessThan(2 * fp32.atol);
      },
      TIMEOUT,
    );

    test(
      'an unreadable image exits 2 naming it',
      async () => {
        const r = await runCli([
          'classify',
          '--model',
          h5,
          '--image',
          path.join(DIR, 'datasets', 'test_signs_synthetic.h5'),
          '--adapters',
          'reference',
        ]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/classify: --image: .*test_signs_synthetic\.h5: not a PNG or JPEG image/);
      },
      TIMEOUT,
    );
  });
}

describe('CLI without the large files', () => {
  test('an unreadable image exits 2 before any model is loaded', async () => {
    const r = await runCli([
      'classify',
      '--model',
      path.join(DIR, 'no-such-model.h5'),
      '--image',
      path.join(DIR, 'pil-nearest.json'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/classify: --image: .*pil-nearest\.json: not a PNG or JPEG image/);
  });
  test('usage errors exit 2 with the usage line', async () => {
    const r = await runCli(['evaluate', '--model', 'm.h5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('evaluate: --dataset is required\nusage: resnet-conformance evaluate --model');
    const c = await runCli(['classify', '--model', 'm.h5']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('at least one --image is required');
  });
});
