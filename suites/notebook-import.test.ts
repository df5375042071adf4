/**
 * import-notebook: revision-shaped test files (suites/helpers/notebook-revisions/, written for this
 * project) parsed with Python's ast in pyodide into baselines; bad input names file and line.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCaseTensors, loadManifest } from '../src/golden/load';
import {
  BaselineError,
  baselineSetFixturesDir,
  lineRanges,
  readBaseline,
  writeBaseline,
} from '../src/notebook/revision-baseline';
import { pythonAst } from '../src/notebook/pyodide';
import { importRevision, NotebookImportError, type ImportedRevision } from '../src/notebook/revision';
import { applyView, isResume } from '../src/golden/views';
import { sha256 } from '../src/util/fs';
import { runCli } from './helpers/cli';

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

describe('printed outputs with ANSI escape codes', () => {
  const nbPath = at('stateless-2021/notebook.ipynb');
  type Nb = { cells: { outputs?: { text?: string[] }[] }[] };
  const files = (notebook: string) => [
    { role: 'public-tests' as const, path: at('stateless-2021/public_tests.py') },
    { role: 'outputs' as const, path: at('stateless-2021/outputs.py') },
    { role: 'notebook' as const, path: notebook },
  ];
  const rewrite = (name: string, edit: (line: string) => string): string => {
    const nb = JSON.parse(fs.readFileSync(nbPath, 'utf8')) as Nb;
    for (const c of nb.cells) for (const o of c.outputs ?? []) if (o.text) o.text = o.text.map(edit);
    const file = path.join(tmp, name);
    fs.writeFileSync(file, JSON.stringify(nb));
    return file;
  };

  test('coloured prints (Jupyter stores them with escape sequences) still become checks, with the same values', async () => {
    const plain = await importRevision(files(nbPath));
    // bold/colour around every printed line, as IPython's coloured output or termcolor writes them
    const coloured = rewrite('coloured.ipynb', (l) => `\u001b[1m\u001b[38;5;2m${l.replace(/\n$/, '')}\u001b[0m\n`);
    const rev = await importRevision(files(coloured));
    const printed = (r: ImportedRevision) =>
      r.checks.filter((c) => c.kind === 'printed').map((c) => [c.view, c.expected!.shape, c.expected!.data]);
    expect(printed(plain)).toHaveLength(3);
    expect(printed(rev)).toEqual(printed(plain));
    expect(rev.warnings).toEqual([]);
  });

  test('a printout that cannot be read is a warning naming the cell, never silently dropped', async () => {
    // cut the closing brackets of the convolutional block's printed tensor (cell 2)
    const broken = rewrite('broken.ipynb', (l) => l.replace(' 0.417093]]], shape=', ' 0.417093, shape='));
    const rev = await importRevision(files(broken));
    expect(rev.checks.filter((c) => c.kind === 'printed').map((c) => c.view)).toEqual([
      'np.around(A[:, (0,-1), :, :].mean(axis=3), 5)',
      'A[:, -1, 1, 1][1]',
    ]);
    expect(rev.warnings.join('\n')).toMatch(/broken\.ipynb cell 2: .*print\(A\[0\]\).*could not be read/);
  });
});

describe('a file holding only expected arrays', () => {
  test('given as the public tests, the error says to give it as --outputs next to a public_tests.py', async () => {
    const err = await importRevision([{ role: 'public-tests', path: at('stateless-2021/outputs.py') }]).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NotebookImportError);
    expect((err as Error).message).toMatch(
      /outputs\.py:1: .*only expected arrays \(convolutional_block_output1, convolutional_block_output2\).*--outputs .*outputs\.py next to the public_tests\.py/,
    );
  });
});

describe('bounded evaluation, file:line errors', () => {
  const template = (expr: string, pre = '') =>
    [
      'import numpy as np',
      'from tensorflow.keras.initializers import constant',
      pre,
      '',
      'def identity_block_test(target):',
      `    X = np.ones((3, 4, 4, 3)).astype(np.float32) * ${expr}`,
      '    A = target(X, f=2, filters=[4, 4, 3], initializer=lambda seed=0: constant(value=1), training=False)',
      '    assert tuple(A.shape) == (3, 4, 4, 3)',
      '',
    ].join('\n');
  const importText = async (name: string, text: string | Buffer): Promise<NotebookImportError> => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, text);
    const err = await importRevision([{ role: 'public-tests', path: file }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotebookImportError);
    const e = err as NotebookImportError;
    expect(e.file).toBe(file);
    expect(e.message.startsWith(`${file}:${e.line}: `)).toBe(true);
    return e;
  };
  const cases: [string, string, string, number, RegExp][] = [
    ['huge power', '9**9**9', '', 6, /9\*\*9\*\*9.* (\d+) bits.*limit 1024 bits/],
    ['division by zero', '(1/0)', '', 6, /division by zero in `1\/0`/],
    ['float literal out of range', '1e400', '', 6, /`1e400` is not a finite float64/],
    ['float overflow', '(1e300*1e300)', '', 6, /`1e300\*1e300` is not a finite float64/],
    ['module-level division by zero', '1', 'Y = [[1.0, 1 / 0]]', 3, /division by zero in `1 \/ 0`/],
    [
      '100k-term expression',
      `(${Array(100_000).fill('1').join('+')})`,
      '',
      6,
      /expression nested too deeply: about 100\d\d\d levels \(limit 100;/,
    ],
  ];
  test.each(cases)('%s', async (name, expr, pre, line, re) => {
    const e = await importText(`${name.replace(/\W/g, '_')}.py`, template(expr, pre));
    expect(e.line).toBe(line);
    expect(e.message).toMatch(re);
    expect(e.message).not.toMatch(/Traceback|pyodide/);
  });

  test('import-notebook exits 2 with the file:line error, no traceback', async () => {
    // one CLI process (explain reports the same NotebookImportError the same way, exit 2)
    const file = path.join(tmp, 'cli-power.py');
    fs.writeFileSync(file, template('9**9**9'));
    const r = await runCli([
      'import-notebook',
      '--public-tests',
      file,
      '--name',
      'x',
      '--out',
      path.join(tmp, 'cli-out'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:6: \`9**9**9\``);
    expect(r.stderr).not.toMatch(/Traceback|at .*\.js:\d+/);
  });

  test('a notebook whose JSON nests 100k deep is refused (json.loads would overflow pyodide)', async () => {
    const nb = path.join(tmp, 'deep.ipynb');
    fs.writeFileSync(nb, `{"cells": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const err = await importRevision([
      { role: 'public-tests', path: at('stateless-2021/public_tests.py') },
      { role: 'outputs', path: at('stateless-2021/outputs.py') },
      { role: 'notebook', path: nb },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotebookImportError);
    expect((err as Error).message).toMatch(
      /deep\.ipynb:1: not a notebook: its JSON nests 100001 levels deep \(limit 64;/,
    );
  });

  test('pyodide keeps working after every bad file above (a good revision imports)', async () => {
    const rev = await importRevision([{ role: 'public-tests', path: at('learning-phase-v3/public_tests.py') }]);
    expect(rev.checks.length).toBeGreaterThan(0);
  });

  test('concatenating huge arrays stops at the element-count limit', async () => {
    const text = template('1', '').replace(
      '    X = np.ones((3, 4, 4, 3)).astype(np.float32) * 1',
      '    B = np.ones((1024, 1024))\n    X = np.concatenate((B, B, B, B), axis=0)',
    );
    const e = await importText('concat.py', text);
    expect(e.line).toBe(7);
    expect(e.message).toMatch(/np\.concatenate: 4194304 elements, more than the limit of 1048576/);
  });

  test('a file larger than the source limit is refused before parsing', async () => {
    const e = await importText('big.py', `${template('1')}${'#'.repeat(80)}\n`.repeat(1).padEnd(5 << 20, '#'));
    expect(e.line).toBe(0);
    expect(e.message).toMatch(/5242880 bytes, more than the limit of 4194304 bytes for a Python file/);
  });

  test('invalid UTF-8 is rejected as Python rejects it, naming line and byte', async () => {
    const bytes = Buffer.concat([
      Buffer.from(template('1').split('\n').slice(0, 2).join('\n')),
      Buffer.from('\n# caf'),
      Buffer.from([0xe9]),
      Buffer.from(`\n${template('1').split('\n').slice(3).join('\n')}`),
    ]);
    const e = await importText('latin1.py', bytes);
    expect(e.line).toBe(3);
    const offset = bytes.indexOf(0xe9);
    expect(e.message).toMatch(
      new RegExp(
        `not valid utf-8: byte 0xe9 at byte ${offset} \\(line 3, byte 6 of the line\\).*invalid continuation byte.*PEP 263`,
      ),
    );
    // with an encoding declaration Python reads it, and so does the import
    const declared = path.join(tmp, 'declared.py');
    fs.writeFileSync(declared, Buffer.concat([Buffer.from('# -*- coding: latin-1 -*-\n'), bytes]));
    const rev = await importRevision([{ role: 'public-tests', path: declared }]);
    expect(rev.checks.map((c) => c.kind)).toEqual(['shape']);
  });
});
