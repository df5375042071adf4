/**
 * import-notebook: revision-shaped test files (suites/helpers/notebook-revisions/, written for this
 * project) parsed with Python's ast in pyodide into baselines; bad input names file and line.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCaseTensors, loadManifest } from '../src/fixtures/load';
import {
  BaselineError,
  baselineSetFixturesDir,
  lineRanges,
  readBaseline,
  writeBaseline,
} from '../src/notebook/baseline';
import { pythonAst } from '../src/notebook/pyodide';
import { importRevision, NotebookImportError, type ImportedRevision } from '../src/notebook/revision';
import { applyView, isResume } from '../src/fixtures/views';
import { sha256 } from '../src/util/fs';

const DIR = path.join(__dirname, 'helpers', 'notebook-revisions');
const at = (p: string) => path.join(DIR, p);
let tmp: string;

beforeAll(async () => {
  await pythonAst(); // pyodide once per file
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-import-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('2021 revision (training=, stateless, outputs.py, notebook outputs)', () => {
  let rev: ImportedRevision;
  beforeAll(async () => {
    rev = await importRevision([
      { role: 'public-tests', path: at('stateless-2021/public_tests.py') },
      { role: 'outputs', path: at('stateless-2021/outputs.py') },
      { role: 'notebook', path: at('stateless-2021/notebook.ipynb') },
    ]);
  });

  test('sources are recorded with their sha256', () => {
    expect(rev.sources.map((s) => s.role)).toEqual(['public-tests', 'outputs', 'notebook']);
    for (const s of rev.sources) expect(s.sha256).toBe(sha256(fs.readFileSync(s.path)));
  });

  test('calls: arguments, initializer lambda, training, input X from np.ones * k + np.concatenate', () => {
    const [id1, id2, cb1, cb2, cell] = rev.calls;
    expect(id1).toMatchObject({
      block: 'identity_block',
      f: 2,
      filters: [4, 4, 3],
      training: false,
      effectiveTraining: false,
      trainingFrom: 'argument',
      initializerText: 'constant:1',
      line: 15,
    });
    expect(id1.seeds.npRandomSeed).toBe(1);
    expect(id1.seeds.tfSetSeed).toBeNull();
    expect(id2).toMatchObject({ f: 3, filters: [3, 3, 3], effectiveTraining: true });
    expect(cb1).toMatchObject({
      block: 'convolutional_block',
      initializerText: 'glorot_uniform',
      outputShape: [3, 2, 2, 6],
    });
    expect(cb2.effectiveTraining).toBe(true);
    expect(cell.file).toContain('notebook.ipynb cell 1');
    expect(id1.input.shape).toEqual([3, 4, 4, 3]);
    expect(id1.input.dtype).toBe('float32');
    expect(id1.input.data.slice(0, 48).every((v) => v === -1)).toBe(true);
    expect(id1.input.data.slice(48, 96).every((v) => v === 1)).toBe(true);
    expect(id1.input.data.slice(96).every((v) => v === 3)).toBe(true);
  });

  test('checks: slicing, tolerance (given atol + numpy default rtol), values and their lines', () => {
    const k = rev.checks.find((c) => c.line === 19)!;
    expect(k.kind).toBe('allclose');
    expect(isResume(k.steps)).toBe(true);
    expect(k.view).toBe('A[:, (0,-1), :, :].mean(axis=3)');
    expect(k.tolerance).toMatchObject({ atol: 1e-5, rtol: 1e-5 });
    expect(k.expected!.shape).toEqual([3, 2, 4]);
    expect(k.expected!.data[8]).toBe(192.71236);
    expect(lineRanges(k.expected!.lines)).toBe('19-23');
    const conv = rev.checks.find((c) => c.line === 44)!;
    expect(conv.steps).toEqual([]);
    expect(conv.expected!.file).toContain('outputs.py');
    expect(conv.tolerance).toMatchObject({ atol: 1e-8, rtol: 1e-5 });
    expect(conv.expected!.shape).toEqual([3, 2, 2, 6]);
    expect(rev.checks.filter((c) => c.kind === 'shape').map((c) => c.shape)).toEqual([
      [3, 4, 4, 3],
      [3, 2, 2, 6],
    ]);
  });

  test('printed outputs of notebook cells, matched to their print statements', () => {
    const printed = rev.checks.filter((c) => c.kind === 'printed');
    expect(printed.map((c) => c.view)).toEqual([
      'np.around(A[:, (0,-1), :, :].mean(axis=3), 5)',
      'A[:, -1, 1, 1][1]',
      'A[0]',
    ]);
    expect(printed[0].expected!.data[16]).toBe(578.13715);
    expect(printed[0].tolerance!.atol).toBe(5e-6);
    expect(printed[2].call).toBe(2); // print(A[0]) inside convolutional_block_test, invoked by the cell
    expect(printed[2].expected!.data[1]).toBe(0.66683817);
  });

  test('baseline on disk: manifest the runner reads (digests valid), baseline.json round-trips', () => {
    const dir = path.join(tmp, 'stateless-2021');
    const b = writeBaseline(rev, 'stateless-2021', dir);
    expect(b.runner.cases).toHaveLength(4);
    // printed views stay explain-only: their tolerance is the printing precision
    expect(b.runner.notInManifest.filter((n) => /explain-only/.test(n.why)).map((n) => n.check)).toEqual([
      expect.stringMatching(/cell1:3$/),
      expect.stringMatching(/cell1:11$/),
      expect.stringMatching(/cell2:2$/),
    ]);
    const m = loadManifest(dir);
    expect(m.cases.map((c) => c.caseClass)).toEqual([
      'notebook-identity-resume',
      'notebook-identity-resume',
      'notebook-conv-output',
      'notebook-conv-output',
    ]);
    for (const k of m.cases) {
      const t = loadCaseTensors(dir, k);
      expect(t.input.shape).toEqual([3, 4, 4, 3]);
      expect(k.source).toMatchObject({ kind: 'notebook-published', version: 'stateless-2021' });
    }
    expect(m.cases[2].source.kind === 'notebook-published' && m.cases[2].source.copiedFrom).toMatch(
      /outputs\.py \(sha256 [0-9a-f]{64}\) lines 3-14/,
    );
    const back = readBaseline(dir).revision;
    expect(back.checks.map((c) => c.expected?.data)).toEqual(rev.checks.map((c) => c.expected?.data));
    expect(back.calls.map((c) => c.input.data)).toEqual(rev.calls.map((c) => c.input.data));
    expect(baselineSetFixturesDir('stateless-2021', tmp)).toBe(dir);
  });
});

describe('2023 revision (tf.random.set_seed(2), arrays in public_tests.py)', () => {
  test('seeds before each call, arrays bound to names and inline, dtype', async () => {
    const rev = await importRevision([{ role: 'public-tests', path: at('set-seed-2023/public_tests.py') }]);
    expect(rev.calls.map((c) => c.seeds.tfSetSeed)).toEqual([2, 2, 2]);
    expect(rev.calls.map((c) => c.seeds.previousCallsSinceSetSeed)).toEqual([[], [], []]);
    const [a, b, c] = rev.checks.filter((k) => k.kind === 'allclose');
    expect(a.expected!.line).toBe(19); // expected_false = [...] two lines above the assert
    expect(b.expected!.dtype).toBe('float32');
    expect(c.view).toBe('A[0]');
    expect(c.expected!.shape).toEqual([2, 2, 6]);
    const w = writeBaseline(rev, 'set-seed-2023', path.join(tmp, 'set-seed-2023'));
    // only the shape check stays out: A[0] is a case with a view now
    expect(w.runner.notInManifest.map((n) => n.check)).toEqual([expect.stringMatching(/:43$/)]);
    const m = loadManifest(path.join(tmp, 'set-seed-2023'));
    expect(m.cases.map((k) => [k.view?.text ?? null, k.weights?.rng])).toEqual([
      [null, 'stateful'],
      [null, 'stateful'],
      ['A[0]', 'stateful'],
    ]);
  });
});

describe('newest revision (set_learning_phase, row checks, s=4 shape check)', () => {
  test('the learning phase decides BatchNorm mode when training= is not passed', async () => {
    const rev = await importRevision([{ role: 'public-tests', path: at('learning-phase-v3/public_tests.py') }]);
    expect(rev.calls.map((c) => [c.training, c.effectiveTraining, c.trainingFrom])).toEqual([
      [null, false, 'learning-phase'],
      [null, true, 'learning-phase'],
      [null, false, 'learning-phase'],
    ]);
    expect(rev.calls[0].seeds.learningPhaseLine).toBe(17);
    const shape = rev.checks.find((k) => k.kind === 'shape')!;
    expect(shape.shape).toEqual([3, 1, 1, 6]);
    expect(rev.calls[2]).toMatchObject({ s: 4, outputShape: [3, 1, 1, 6] });
    expect(rev.checks.filter((k) => k.kind === 'allclose').map((k) => k.view)).toEqual([
      'A[:, (0,-1), :, :].mean(axis=3)[1]',
      'A[:, (0,-1), :, :].mean(axis=3)[1]',
      'A[:, (0,-1), :, :].mean(axis=3)[2]',
    ]);
    // the row checks are cases with views now: run --baseline-set has something to compare
    const b = writeBaseline(rev, 'v3', path.join(tmp, 'v3'));
    expect(b.runner.cases).toHaveLength(3);
    expect(baselineSetFixturesDir('v3', tmp)).toBe(path.join(tmp, 'v3'));
    const m = loadManifest(path.join(tmp, 'v3'));
    expect(m.cases[0].view).toEqual({ steps: rev.checks[0].steps, text: 'A[:, (0,-1), :, :].mean(axis=3)[1]' });
    const t = loadCaseTensors(path.join(tmp, 'v3'), m.cases[0]);
    expect(t.view!.data[0]).toBe(192.99992); // a plain list in the file: float64
  });

  test('a revision with shape checks only has no case: run --baseline-set says so and points to explain', async () => {
    const rev = await importRevision([{ role: 'public-tests', path: at('bad/executes_nothing.py') }]);
    writeBaseline(rev, 'shapes-only', path.join(tmp, 'shapes-only'));
    expect(fs.existsSync(path.join(tmp, 'shapes-only', 'manifest.json'))).toBe(false);
    expect(() => baselineSetFixturesDir('shapes-only', tmp)).toThrow(BaselineError);
    expect(() => baselineSetFixturesDir('shapes-only', tmp)).toThrow(
      /no check the runner can compare .*a shape check.*explain --baseline-set shapes-only/,
    );
  });
});

describe('bad input: errors name file and line', () => {
  const cases: [string, number, RegExp][] = [
    ['bad/syntax_error.py', 6, /Python syntax error: '\(' was never closed/],
    ['bad/no_test.py', 1, /no recognisable test/],
    [
      'bad/shape_mismatch.py',
      9,
      /expected values .* shape \[1,2,3\], which does not fit the model: .* has shape \[3,2,4\]/,
    ],
    ['bad/filters_mismatch.py', 6, /does not fit the model: identity_block: input has 3 channels but F3 = 5/],
  ];
  test.each(cases)('%s', async (file, line, re) => {
    const err = await importRevision([{ role: 'public-tests', path: at(file) }]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NotebookImportError);
    const e = err as NotebookImportError;
    expect([e.file, e.line]).toEqual([at(file), line]);
    expect(e.message.startsWith(`${at(file)}:${line}: `)).toBe(true);
    expect(e.message).toMatch(re);
  });

  test('a missing --outputs file for a named expected array says which name and where', async () => {
    const err = await importRevision([{ role: 'public-tests', path: at('stateless-2021/public_tests.py') }]).catch(
      (e: Error) => e,
    );
    expect((err as Error).message).toMatch(
      /public_tests\.py:44: expected values `convolutional_block_output1` are not defined/,
    );
  });

  test('the files are parsed, never executed', async () => {
    const marker = path.join(tmp, 'marker.txt');
    const src = fs
      .readFileSync(at('bad/executes_nothing.py'), 'utf8')
      .replaceAll('MARKER_PATH', JSON.stringify(marker));
    const file = path.join(tmp, 'executes_nothing.py');
    fs.writeFileSync(file, src);
    const rev = await importRevision([{ role: 'public-tests', path: file }]).catch((e: Error) => e);
    expect(fs.existsSync(marker)).toBe(false);
    // it has a call and a shape check but no value: still imported (shape checks only)
    expect(rev).not.toBeInstanceOf(Error);
  });
});

test('views: numpy selection, mean and around', () => {
  const t = { shape: [2, 3, 2, 2], data: Float64Array.from({ length: 24 }, (_, i) => i) };
  const r = applyView(
    t,
    [
      { op: 'select', axes: [{ all: true }, { take: [0, -1] }, { all: true }, { all: true }] },
      { op: 'mean', axis: 3 },
    ],
    'test',
  );
  expect(r.shape).toEqual([2, 2, 2]);
  expect(Array.from(r.data)).toEqual([0.5, 2.5, 8.5, 10.5, 12.5, 14.5, 20.5, 22.5]);
  expect(applyView(t, [{ op: 'select', axes: [{ index: 1 }, { index: -1 }] }], 't').shape).toEqual([2, 2]);
  expect(() => applyView(t, [{ op: 'select', axes: [{ index: 2 }] }], 'where')).toThrow(
    /where: index 2 is out of bounds/,
  );
});
