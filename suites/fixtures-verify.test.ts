/**
 * The committed fixtures: integrity (`fixtures verify`, also on corrupted copies), consistency with
 * src/model (Keras summaries, layer names, boundary captures), provenance of the published values,
 * and src/init against the Keras weight digests (sha256 of float32 little-endian bytes).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { caseTensorRefs, loadCaseTensors, loadManifest, loadTensor, modelKey, parseManifest } from '../src/golden/load';
import type { FixtureManifest } from '../src/golden/manifest';
import { FIXTURES_DIR, MANIFEST_FILE } from '../src/golden/paths';
import { FIXTURE_SIZE_BUDGET_BYTES, verifyFixtures } from '../src/golden/verify';
import { initModelWeights } from '../src/init';
import { buildModel } from '../src/model/model-args';
import { summary } from '../src/model/summary';

const manifest = loadManifest();

describe('committed fixtures', () => {
  test('verify: every file matches its digest, shape and dtype; the manifest is consistent; under 20 MB', () => {
    const r = verifyFixtures();
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.cases).toBe(manifest.cases.length);
    expect(r.files).toBeGreaterThan(manifest.cases.length);
    expect(r.bytes).toBeLessThan(FIXTURE_SIZE_BUDGET_BYTES);
  });

  test('cover both BatchNorm modes for every model kind, and both sources', () => {
    const kinds = new Set(manifest.cases.map((k) => `${k.model.model}/${k.training}`));
    for (const m of ['resnet50', 'identity_block', 'convolutional_block']) {
      expect(kinds).toContain(`${m}/true`);
      expect(kinds).toContain(`${m}/false`);
    }
    const sources = new Set(manifest.cases.map((k) => k.source.kind));
    expect([...sources].sort()).toEqual(['keras-generated', 'notebook-published']);
  });
});

describe('manifest vs src/model', () => {
  test.each(manifest.summaries.map((s) => [modelKey(s.model), s] as const))(
    'Keras summary of %s equals summary(buildModel(args)) (fresh-session names, shapes, params, connections)',
    (_key, rec) => {
      const mine = summary(buildModel(rec.model));
      expect(mine.totals).toEqual(rec.totals);
      expect(mine.rows.map((r) => r.name)).toEqual(rec.rows.map((r) => r.name));
      mine.rows.forEach((row, i) => expect([i, row]).toEqual([i, rec.rows[i]]));
    },
  );

  test('the ResNet-50 summary holds the notebook totals 23,600,006 / 23,546,886 / 53,120', () => {
    const rec = manifest.summaries.find((s) => s.model.model === 'resnet50');
    expect(rec?.totals).toEqual({ total: 23600006, trainable: 23546886, nonTrainable: 53120 });
  });

  test('full-boundary ResNet-50 cases capture exactly the spec boundaries (stage 1, every block, avgpool, logits)', () => {
    const full = manifest.cases.filter(
      (k) => k.model.model === 'resnet50' && Object.keys(k.expected.intermediates ?? {}).length > 7,
    );
    expect(full.length).toBeGreaterThanOrEqual(2);
    for (const k of full) {
      const spec = buildModel(k.model);
      const want = spec.boundaries.filter((b) => b.label !== 'probabilities').map((b) => b.layer);
      expect([k.id, Object.keys(k.expected.intermediates!)]).toEqual([k.id, want]);
    }
  });
});

describe('src/init against the Keras weight digests', () => {
  test.each(manifest.weightDigests.map((d) => [modelKey(d.model), d] as const))(
    'initModelWeights(%s) is bit-identical to Keras seeded initial weights',
    (_key, rec) => {
      const weights = initModelWeights(buildModel(rec.model));
      const mine = new Map<string, string>();
      for (const [layer, ws] of weights) {
        for (const w of ws) {
          const bytes = Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength);
          if (os.endianness() !== 'LE') throw new Error('this check assumes a little-endian host');
          mine.set(`${layer}/${w.name} [${w.shape.join(',')}]`, createHash('sha256').update(bytes).digest('hex'));
        }
      }
      const keras = new Map(rec.weights.map((w) => [`${w.layer}/${w.name} [${w.shape.join(',')}]`, w.sha256]));
      expect([...mine.keys()].sort()).toEqual([...keras.keys()].sort());
      const differing = [...keras].filter(([k, sha]) => mine.get(k) !== sha).map(([k]) => k);
      expect(differing).toEqual([]);
    },
    120_000,
  );
});

describe('notebook-published cases', () => {
  const published = JSON.parse(
    fs.readFileSync(path.join(FIXTURES_DIR, 'published', 'notebook-published.json'), 'utf8'),
  ) as {
    versions: Record<string, unknown>;
  };
  const cases = manifest.cases.filter((k) => k.source.kind === 'notebook-published');

  test('there are four (identity block both modes, convolutional block both modes)', () => {
    expect(cases.map((k) => `${k.model.model}/${k.training}`).sort()).toEqual([
      'convolutional_block/false',
      'convolutional_block/true',
      'identity_block/false',
      'identity_block/true',
    ]);
  });

  test.each(cases.map((k) => [k.id, k] as const))(
    '%s holds exactly the values of the published-values copy it names',
    (_id, k) => {
      if (k.source.kind !== 'notebook-published') throw new Error('filtered above');
      const m = /^fixtures\/published\/notebook-published\.json: versions\.([^. ]+)\.(\S+)/.exec(k.source.copiedFrom);
      expect(m).not.toBeNull();
      let node: unknown = published.versions[m![1]];
      for (const part of m![2].split('.')) node = (node as Record<string, unknown>)[part];
      const flat = (node as unknown[]).flat(5) as number[];
      const t = loadCaseTensors(FIXTURES_DIR, k);
      const expected = t.resume ?? t.output!;
      expect(expected.data).toBeInstanceOf(Float64Array);
      expect(Array.from(expected.data)).toEqual(flat);
    },
  );

  test('their input is the notebook X: float32 (3,4,4,3), sample 0 all -1, sample 1 all 1, sample 2 all 3', () => {
    const x = loadTensor(FIXTURES_DIR, cases[0].input, 'input');
    expect(x.shape).toEqual([3, 4, 4, 3]);
    expect(x.data).toBeInstanceOf(Float32Array);
    [-1, 1, 3].forEach((v, b) =>
      expect(Array.from(x.data.subarray(b * 48, (b + 1) * 48)).every((y) => y === v)).toBe(true),
    );
  });
});

describe('verify on broken copies names the file and the problem', () => {
  let tmp: string;
  const small = manifest.cases
    .filter((k) => k.model.model !== 'resnet50' && k.expected.output && k.source.kind === 'keras-generated')
    .slice(0, 3);

  /** A small fixtures folder: three block cases, their files, and `edit` applied to the manifest JSON. */
  function miniFixtures(edit: (m: FixtureManifest) => void = () => undefined): string {
    const dir = fs.mkdtempSync(path.join(tmp, 'fx-'));
    const keys = new Set(small.map((k) => modelKey(k.model)));
    const m: FixtureManifest = JSON.parse(
      JSON.stringify({
        ...manifest,
        cases: small,
        summaries: manifest.summaries.filter((s) => keys.has(modelKey(s.model))),
        weightDigests: manifest.weightDigests.filter((s) => keys.has(modelKey(s.model))),
      }),
    );
    for (const k of small) {
      for (const { ref } of caseTensorRefs(k)) {
        fs.mkdirSync(path.dirname(path.join(dir, ref.file)), { recursive: true });
        fs.copyFileSync(path.join(FIXTURES_DIR, ref.file), path.join(dir, ref.file));
      }
    }
    edit(m);
    fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify(m, null, 1));
    return dir;
  }

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fixtures-verify-test-'));
  });
  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('an intact copy verifies', () => {
    expect(verifyFixtures(miniFixtures()).problems).toEqual([]);
  });

  test('missing file', () => {
    const dir = miniFixtures();
    const file = small[0].expected.output!.file;
    fs.rmSync(path.join(dir, file));
    const r = verifyFixtures(dir);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      expect.stringContaining(`case '${small[0].id}' expected.output: ${file}: missing file`),
    ]);
  });

  test('truncated file', () => {
    const dir = miniFixtures();
    const file = small[1].expected.output!.file;
    const bytes = fs.readFileSync(path.join(dir, file));
    fs.writeFileSync(path.join(dir, file), bytes.subarray(0, bytes.length - 8));
    const [p] = verifyFixtures(dir).problems;
    expect(p).toContain(file);
    expect(p).toContain('wrong digest');
    expect(p).toMatch(/truncated data/);
  });

  test('modified value (same length)', () => {
    const dir = miniFixtures();
    const file = small[2].expected.output!.file;
    const bytes = fs.readFileSync(path.join(dir, file));
    bytes[bytes.length - 1] ^= 0x01;
    fs.writeFileSync(path.join(dir, file), bytes);
    expect(verifyFixtures(dir).problems).toEqual([
      expect.stringMatching(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: wrong digest .*modified`)),
    ]);
  });

  test('bad JSON', () => {
    const dir = miniFixtures();
    fs.writeFileSync(path.join(dir, MANIFEST_FILE), '{"schemaVersion": 1, "cases": [');
    expect(verifyFixtures(dir).problems).toEqual([expect.stringMatching(/manifest\.json: bad JSON/)]);
  });

  test('shape and dtype that disagree with the file', () => {
    const dir = miniFixtures((m) => {
      m.cases[0].expected.output!.shape = [1, 2, 3];
      m.cases[1].expected.output!.dtype = 'float64';
    });
    const problems = verifyFixtures(dir).problems.join('\n');
    expect(problems).toContain(`case '${small[0].id}' expected.output: ${small[0].expected.output!.file}: shape`);
    expect(problems).toContain('but the manifest says [1,2,3]');
    expect(problems).toContain(
      `case '${small[1].id}' expected.output: ${small[1].expected.output!.file}: dtype float32 but the manifest says float64`,
    );
  });

  test('duplicate id, unknown case class, unknown check, missing field: the manifest is rejected naming the case', () => {
    const variants: [string, (m: FixtureManifest) => void, RegExp][] = [
      [
        'duplicate',
        (m) => {
          m.cases[1].id = m.cases[0].id;
        },
        /case '.*': duplicate case id/,
      ],
      [
        'class',
        (m) => {
          m.cases[0].caseClass = 'no-such-class';
        },
        /caseClass: unknown case class 'no-such-class'/,
      ],
      [
        'check',
        (m) => {
          m.cases[0].checks = ['no-such-check'];
        },
        /checks\[0\]: unknown check 'no-such-check'/,
      ],
      [
        'field',
        (m) => {
          delete (m.cases[2] as unknown as Record<string, unknown>).training;
        },
        /cases\[2\]: missing field 'training'/,
      ],
    ];
    for (const [, edit, re] of variants) {
      const r = verifyFixtures(miniFixtures(edit));
      expect(r.ok).toBe(false);
      expect(r.problems).toEqual([expect.stringMatching(re)]);
    }
  });

  test('an unreferenced file in data/', () => {
    const dir = miniFixtures();
    fs.writeFileSync(path.join(dir, 'data', 'stale.npy'), 'x');
    expect(verifyFixtures(dir).problems).toEqual([
      expect.stringContaining('data/stale.npy: not referenced by the manifest'),
    ]);
  });

  test('parseManifest rejects a case whose model has no summary record', () => {
    const m = JSON.parse(JSON.stringify(manifest)) as FixtureManifest;
    m.summaries = m.summaries.filter((s) => s.model.model !== 'resnet50');
    expect(() => parseManifest(m, 'x.json')).toThrow(/x\.json: case 'resnet50\/.*'\.model: no summaries record/);
  });
});
