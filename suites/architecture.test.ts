/**
 * One-way architecture: the folders of src/ depend on each other in one direction only (README.md,
 * "How it is organised"). Reads the import / export-from / require / import() statements of every
 * src/**\/*.ts file; a folder-level cycle, or an import of a folder not below the importer in LAYERS,
 * fails and is named with the files that hold the imports.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  describeCycle,
  describeViolations,
  findCycles,
  graphFromEdges,
  moduleSpecifiers,
  orderViolations,
  readFolderGraph,
  tsFiles,
} from './helpers/import-graph';
import { toleranceResolutions } from './helpers/tolerance-resolution';

const SRC = path.join(__dirname, '..', 'src');

/**
 * The folders of src/, lowest first: each may import only folders listed before it. A new folder
 * (or a file directly in src/) must be placed here, in README.md and in docs/architecture.md.
 */
const LAYERS = [
  'util', // errors, fs helpers, text formatting, sample statistics, timing loop: imports nothing in src/
  'tensor', // the Tensor type, .npy files, seeded sample inputs
  'model', // the model description: layers, shapes, parameters (the notebook's blocks and ResNet-50)
  'init', // Keras-exact weight initialization and its on-disk cache
  'onnx', // ONNX export
  'adapters', // the runtimes under test and their registry
  'environment', // facts about the machine and software of a run
  'compare', // comparison metrics and the tolerance table
  'images', // image decoding and preprocessing
  'import', // Keras .h5 import
  'datasets', // datasets (signs)
  'golden', // golden data: paths, manifest, loading, the case judge, generation, verification
  'workers', // how worker processes are started (precompiled bundle) and talk to the parent
  'diagnose', // layer-by-layer diagnosis of a numeric failure
  'notebook', // notebook revisions: their test files parsed (pyodide), baselines, explain
  'calibration', // what makes bench numbers comparable on a noisy VM: ceiling, pairing, core probe, noise
  'bench', // the latency bench
  'report', // the conformance report: schema, perf section, renderers
  'runner', // runs cases in adapter workers and writes the report
  'mutants', // the mutant bank (defective float32 runtimes on the reference executor) and the mutation score
  'sweep', // oracle-driven configuration sweeps: generator, error bounds from the arithmetic, shrinking, reproductions
  'cli', // commands
  'index.ts', // the package's public entry: types, the registry, main
] as const;

describe('import-graph detector', () => {
  test('finds import, export-from, side-effect import, require and import() specifiers, not those in comments', () => {
    const src = [
      "import { a } from './a';",
      "import type { B } from '../b/b';",
      "export * from './c';",
      'export { d } from "./d";',
      "import './e';",
      "const f = require('./f') as typeof import('./f');",
      "// import { g } from './g';",
      "/* require('./h') */",
      'const s = \'import { i } from "./i"\';',
      "const t = `${require('./j').x}`;",
      'import {\n  k,\n  l,\n} from "./kl";',
    ].join('\n');
    expect(moduleSpecifiers(src)).toEqual(['./a', '../b/b', './c', './d', './e', './f', './f', './j', './kl']);
  });

  test('a cycle is found and named with the files holding each import', () => {
    const g = graphFromEdges([
      ['util', 'util'],
      ['bench', 'util', 'bench/run.ts'],
      ['bench', 'report', 'bench/perf.ts'],
      ['report', 'bench', 'report/html.ts'],
      ['report', 'util', 'report/write.ts'],
    ]);
    const cycles = findCycles(g);
    expect(cycles).toHaveLength(1);
    expect(cycles[0].nodes).toEqual(['bench', 'report', 'bench']);
    expect(describeCycle(cycles[0])).toBe(
      'bench -> report -> bench\n  bench -> report: bench/perf.ts\n  report -> bench: report/html.ts',
    );
  });

  test('a longer cycle is found through every folder on it', () => {
    const g = graphFromEdges([
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'a'],
      ['c', 'd'],
    ]);
    expect(findCycles(g).map((c) => c.nodes)).toEqual([['a', 'b', 'c', 'a']]);
  });

  test('an acyclic graph has no cycles, and an import against the order is named', () => {
    const g = graphFromEdges([
      ['cli', 'report'],
      ['report', 'bench'],
      ['bench', 'util'],
      ['report', 'util'],
    ]);
    expect(findCycles(g)).toEqual([]);
    expect(orderViolations(g, ['util', 'bench', 'report', 'cli'])).toEqual([]);
    // bench above report: report -> bench goes up, before any cycle closes.
    const v = orderViolations(g, ['util', 'report', 'bench', 'cli']);
    expect(describeViolations(v)).toBe('report imports bench, which is not below it: report/x.ts');
    // A folder missing from the order is reported.
    expect(describeViolations(orderViolations(g, ['util', 'bench', 'report']))).toMatch(
      /cli is not in the declared order/,
    );
  });
});

describe('src/ architecture', () => {
  const { graph, unresolved } = readFolderGraph(SRC);

  test('every relative import names an existing file', () => {
    expect(unresolved).toEqual([]);
  });

  test('every folder and root file of src/ is in the declared order', () => {
    expect([...graph.keys()].filter((n) => !(LAYERS as readonly string[]).includes(n)).sort()).toEqual([]);
  });

  test('no folder-level import cycle', () => {
    const cycles = findCycles(graph);
    expect(cycles.map(describeCycle).join('\n\n')).toBe('');
  });

  test('each folder imports only folders below it in the declared order', () => {
    expect(describeViolations(orderViolations(graph, LAYERS))).toBe('');
  });
});

/**
 * One tolerance resolution: a suite judges adapter output through the one judge (src/golden/run-case.ts
 * judgeCase, judgeRun, caseRows), never by looking a row up itself or by a table of its own.
 */
describe('no tolerance resolution in suites/', () => {
  const SUITES = path.join(__dirname);
  /** The suites that test the table and its lookup themselves (and this guard), and why they may read them. */
  const TABLE_TESTS: Record<string, string> = {
    'tolerances.test.ts':
      "the table's own rules (a row per class x role x profile, ordering, reasons, measurements) and its lookup",
    'expected-divergence.test.ts':
      "resolveTolerance's expected-divergence and known-defect rows, compared with what the report states",
    'architecture.test.ts': "this guard: the detector's planted violations, as string literals",
  };

  test('the detector catches a planted lookup import, a namespace import and a table of its own, and not comparator test data', () => {
    const planted = [
      "import { compareTensors } from '../src/compare';",
      "import { toleranceFor, type ToleranceEntry } from '../src/compare/tolerances';",
      "import { toleranceForName as tfn } from '../src/compare/tolerances/lookup';",
      "import * as tolerances from '../src/compare/tolerances';",
      'const TOLERANCES: Record<string, Tol> = {',
      "  'fp32-cpu': { blocks: { atol: 5e-6, rtol: 1e-5 } },",
      '};',
      "const OWN = { 'block-training': { atol: 1e-3, rtol: 0 } };",
    ].join('\n');
    expect(toleranceResolutions(planted)).toEqual([
      'imports toleranceFor from ../src/compare/tolerances',
      'imports toleranceForName from ../src/compare/tolerances/lookup',
      'namespace import of ../src/compare/tolerances',
      "a tolerance table keyed by 'fp32-cpu'",
      "a tolerance table keyed by 'block-training'",
    ]);
    const clean = [
      "import type { ResolvedTolerance } from '../src/compare/tolerances';",
      "import { caseRows, judgeRun } from '../src/golden/run-case';",
      "// import { toleranceFor } from '../src/compare/tolerances';",
      'const r = compareTensors(a, b, { atol: 1e-5, rtol: 0 });',
      "const k = { caseClass: 'block-training', expected: { output: {} } };",
    ].join('\n');
    expect(toleranceResolutions(clean)).toEqual([]);
  });

  test('no suite or helper resolves a tolerance itself (the table tests excepted, each with its reason)', () => {
    const found = tsFiles(SUITES)
      .filter((f) => !Object.prototype.hasOwnProperty.call(TABLE_TESTS, path.relative(SUITES, f)))
      .flatMap((f) => toleranceResolutions(fs.readFileSync(f, 'utf8')).map((w) => `${path.relative(SUITES, f)}: ${w}`));
    expect(found).toEqual([]);
    // The exceptions are real (a stale entry is removed, not kept).
    for (const f of Object.keys(TABLE_TESTS))
      expect(toleranceResolutions(fs.readFileSync(path.join(SUITES, f), 'utf8'))).not.toEqual([]);
  });
});
