/**
 * The product surface a downstream project uses (issue 27):
 *   - the library API (run, compare, readReport from the package entry) on a real run: the report it
 *     resolves to is the one written to report.json, and compare names a planted regression;
 *   - the shipped JSON Schema of report.json: real and hand-made reports conform, planted invalid
 *     reports are rejected with the path of what is wrong;
 *   - progress without a TTY (every N cases, or after the interval), on GitHub (groups, error
 *     annotations) and on a TTY (N/M and elapsed time), with an injected clock (no timing);
 *   - `compare --format md`, `--version`, `help run`;
 *   - runtimes as optional peer dependencies pinned to the measured versions.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compare, readReport, run } from '../src';
import { ADAPTERS } from '../src/adapters/registry';
import {
  installCommand,
  measuredVersions,
  packageStates,
  versionDrift,
  withRuntimePackages,
} from '../src/adapters/runtime-packages';
import type { AdapterEntry } from '../src/adapters/types';
import { comparisonMarkdown } from '../src/cli/commands/compare';
import { REPORT_SCHEMA_FILE, validateJsonSchema, validateReportJson } from '../src/report/json-schema';
import { renderMarkdown } from '../src/report/markdown';
import {
  blankResult,
  CASE_STATUSES,
  runtimeDriftLines,
  type CaseResult,
  type ConformanceReport,
} from '../src/report/schema';
import { progressMode, progressPrinter } from '../src/runner/progress';
import type { AdapterRun } from '../src/runner/orchestrator';
import { FAULTY_MODULE, REPO, runCli } from './helpers/cli';
import { divergenceReport, sampleReport } from './helpers/sample-report';

let tmp: string;
let report: ConformanceReport;
let outDir: string;
const progressLines: string[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'api-'));
  outDir = path.join(tmp, 'run');
  report = await run({
    adapters: ['reference', 'faulty-values', 'faulty-unavailable'],
    adapterModules: [FAULTY_MODULE],
    cases: 'notebook/*',
    out: outDir,
    onProgress: (l) => progressLines.push(l),
  });
}, 240_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('library API', () => {
  test('run() resolves to the report it wrote; readReport(dir) reads the same object back', () => {
    const statuses = (id: string) => report.results.filter((r) => r.adapter === id).map((r) => r.status);
    expect(statuses('reference')).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(new Set(statuses('faulty-values'))).toEqual(new Set(['fail-numeric']));
    expect(new Set(statuses('faulty-unavailable'))).toEqual(new Set(['unavailable']));
    expect([report.summary.verdict, report.summary.exitCode]).toEqual(['fail', 1]);
    for (const f of ['report.json', 'report.md', 'report.html', 'junit.xml'])
      expect(fs.existsSync(path.join(outDir, f))).toBe(true);
    expect(readReport(outDir)).toEqual(clone(report));
    expect(readReport(path.join(outDir, 'report.json')).runId).toBe(report.runId);
    // onProgress heard each adapter finish.
    expect(progressLines.filter((l) => /^(reference|faulty-values|faulty-unavailable): /.test(l))).toHaveLength(3);
  });

  test('run() rejects an unknown adapter, naming it', async () => {
    await expect(run({ adapters: ['no-such-adapter'], cases: 'notebook/*' })).rejects.toThrow(/no-such-adapter/);
  });

  test('compare(a, b): nothing between a report and itself; a planted regression is counted and named', () => {
    expect(compare(report, report)).toMatchObject({ regressions: 0, improvements: 0, lines: [] });
    const worse = clone(report);
    const r = worse.results.find((x) => x.adapter === 'reference')!;
    r.status = 'fail-numeric';
    const c = compare(outDir, worse);
    expect(c.regressions).toBe(1);
    expect(c.lines.join('\n')).toContain(r.case);
    expect([c.from, c.to, c.factor]).toEqual([report.runId, worse.runId, 2]);
    expect(() => compare(report, report, { regressionFactor: 0.5 })).toThrow(/regressionFactor/);
  });

  test('readReport names the file and the problem of a broken report', () => {
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{"schemaVersion": 3, "results": ');
    expect(() => readReport(bad)).toThrow(/bad\.json/);
  });
});

describe('the JSON Schema of report.json (schema/report.schema.json)', () => {
  test('ships in the package files and lists exactly the statuses of the code', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('schema/');
    expect(REPORT_SCHEMA_FILE).toBe(path.join(REPO, 'schema', 'report.schema.json'));
    const schema = JSON.parse(fs.readFileSync(REPORT_SCHEMA_FILE, 'utf8')) as { $defs: { status: { enum: string[] } } };
    expect(schema.$defs.status.enum).toEqual([...CASE_STATUSES]);
  });

  test('a real report (every status the run produced) and the hand-made ones conform', () => {
    expect(validateReportJson(JSON.parse(fs.readFileSync(path.join(outDir, 'report.json'), 'utf8')))).toEqual([]);
    expect(validateReportJson(clone(sampleReport()))).toEqual([]);
    expect(validateReportJson(clone(divergenceReport()))).toEqual([]);
  });

  test('planted invalid reports are rejected, each with the path of what is wrong', () => {
    const base = JSON.parse(fs.readFileSync(path.join(outDir, 'report.json'), 'utf8')) as ConformanceReport;
    const plant = (f: (r: any) => void): string[] => {
      const r = clone(base);
      f(r);
      return validateReportJson(r);
    };
    expect(plant((r) => (r.results[0].status = 'passed'))).toEqual([
      expect.stringMatching(/^\/results\/0\/status: "passed"/),
    ]);
    expect(plant((r) => delete r.summary.verdict)).toEqual(["/summary: missing 'verdict'"]);
    expect(plant((r) => (r.results[0].metrics.maxAbs = -1))).toEqual([
      expect.stringMatching(/^\/results\/0\/metrics\/maxAbs: /),
    ]);
    expect(plant((r) => (r.results[0].metrics.maxAbs = 'nan'))).toEqual([
      expect.stringMatching(/^\/results\/0\/metrics\/maxAbs: /),
    ]);
    expect(plant((r) => (r.schemaVersion = 2))).toEqual(['/schemaVersion: expected 3, got 2']);
    expect(plant((r) => (r.adapters[0].counts = { pass: 4 }))[0]).toMatch(/^\/adapters\/0\/counts: missing/);
    expect(plant((r) => (r.parts = []))).toEqual(['/parts: 0 items, at least 1 required']);
    expect(plant((r) => (r.summary.exitCode = 2))[0]).toMatch(/^\/summary\/exitCode: 2 is not one of 0, 1/);
  });

  test('the validator refuses a keyword it does not implement (no rule silently skipped)', () => {
    expect(() => validateJsonSchema({ type: 'object', oneOf: [] }, {})).toThrow(/oneOf/);
    expect(() => validateJsonSchema({ $ref: '#/$defs/missing' }, {})).toThrow(/unresolvable/);
  });
});

function result(adapter: string, c: string, status: CaseResult['status'], reason = ''): CaseResult {
  return blankResult(adapter, c, status, reason);
}
const done = (id: string, results: CaseResult[]): AdapterRun =>
  ({ id, available: true, results, durationMs: 1000 }) as unknown as AdapterRun;

describe('progress', () => {
  test('the form follows the environment: GitHub Actions, a terminal, a plain log', () => {
    expect(progressMode({ GITHUB_ACTIONS: 'true' }, false)).toBe('github');
    expect(progressMode({}, true)).toBe('tty');
    expect(progressMode({}, false)).toBe('plain');
  });

  test('without a TTY: a line every N cases, and one when the interval passed since the last line', () => {
    const lines: string[] = [];
    let t = 0;
    const p = progressPrinter({
      mode: 'plain',
      write: (l) => lines.push(l),
      everyCases: 3,
      everyMs: 10_000,
      now: () => t,
    });
    p.start?.(8);
    for (let i = 0; i < 6; i++) p.caseResult?.(result('a', `c${i}`, i === 4 ? 'fail-numeric' : 'pass'));
    expect(lines).toEqual(['progress: 3/8 cases done after 0.0 s', 'progress: 6/8 cases done, 1 failing after 0.0 s']);
    t = 12_000; // a slow case: the next finished case prints although N was not reached
    p.caseResult?.(result('a', 'c6', 'pass'));
    expect(lines.at(-1)).toBe('progress: 7/8 cases done, 1 failing after 12.0 s');
    p.adapterDone?.(done('a', []));
    expect(lines.at(-1)).toBe('a: no cases [1.00 s]');
    p.stop?.();
  });

  test('a case settled again is not counted twice: the count never passes the total', () => {
    const lines: string[] = [];
    const p = progressPrinter({ mode: 'plain', write: (l) => lines.push(l), everyCases: 1, everyMs: 0, now: () => 0 });
    p.start?.(3);
    p.caseResult?.(result('a', 'c1', 'pass'));
    p.caseResult?.(result('a', 'c2', 'fail-numeric'));
    p.caseResult?.(result('a', 'c2', 'timeout')); // the same case settled again: no new line, still one failing
    p.caseResult?.(result('b', 'c1', 'pass')); // another adapter's c1 is another case
    expect(lines).toEqual([
      'progress: 1/3 cases done after 0.0 s',
      'progress: 2/3 cases done, 1 failing after 0.0 s',
      'progress: 3/3 cases done, 1 failing after 0.0 s',
    ]);
    p.stop?.();
  });

  test('on GitHub: each adapter in a ::group::, an ::error annotation per failing case (escaped)', () => {
    const lines: string[] = [];
    const p = progressPrinter({
      mode: 'github',
      write: (l) => lines.push(l),
      everyCases: 100,
      everyMs: 0,
      now: () => 0,
    });
    p.start?.(2);
    const rs = [result('a', 'c1', 'pass'), result('a', 'c2', 'crashed', 'died: SIGSEGV\n100%')];
    for (const r of rs) p.caseResult?.(r);
    p.adapterDone?.(done('a', rs));
    expect(lines[0]).toMatch(/^::group::a: 1 pass, 1 crashed/);
    expect(lines.slice(1, 3).every((l) => l.includes(' a '))).toBe(true);
    expect(lines[3]).toBe('::endgroup::');
    expect(lines[4]).toBe('::error title=a × c2%3A crashed::died: SIGSEGV%0A100%25');
    expect(lines).toHaveLength(5);
  });

  test('on a TTY: every case with N/M and the elapsed time', () => {
    const lines: string[] = [];
    let t = 0;
    const p = progressPrinter({ mode: 'tty', write: (l) => lines.push(l), now: () => t });
    p.start?.(4);
    t = 2500;
    p.caseResult?.(result('a', 'c1', 'pass'));
    expect(lines[0]).toMatch(/^ {2}\[1\/4 2\.5 s\] .*pass .* a .* c1/);
  });
});

describe('CLI surface', () => {
  test('compare --format md: a heading with the verdict and one list item per difference', async () => {
    const worse = clone(report);
    worse.results.find((x) => x.adapter === 'reference')!.status = 'fail-numeric';
    const b = path.join(tmp, 'worse.json');
    fs.writeFileSync(b, JSON.stringify(worse));
    const r = await runCli(['compare', path.join(outDir, 'report.json'), b, '--format', 'md']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^### ❌ Compared with `[^`]+`: 1 worse, 0 better\n/);
    expect(r.stdout).toMatch(/\n- .*notebook\//);
    const same = comparisonMarkdown({ ...compare(report, report), from: 'a|b', to: 'c' });
    expect(same).toMatch(/^### ✅ .*`a\\\|b`/);
    expect(same).toContain('No differences beyond the factor.');
    const clash = await runCli(['compare', b, b, '--format', 'md', '--json']);
    expect([clash.code, clash.stderr]).toEqual([2, expect.stringMatching(/exclusive/)]);
  });

  test('--version prints the package version; `help run` is `run --help`', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    const v = await runCli(['--version']);
    expect([v.code, v.stdout]).toEqual([0, `${pkg.version}\n`]);
    const help = await runCli(['help', 'run']);
    const flag = await runCli(['run', '-h']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--adapter-command/);
    expect(help.stdout).toBe(flag.stdout);
  });
});

describe('runtimes as optional peer dependencies', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, any>
  >;
  const lock = JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version: string }>;
  };

  test('each is an optional peer pinned to the locked (measured) version, and a devDependency at the same version', () => {
    const peers = measuredVersions();
    expect(Object.keys(peers).length).toBeGreaterThan(0);
    for (const [name, version] of Object.entries(peers)) {
      expect([name, version]).toEqual([name, lock.packages[`node_modules/${name}`].version]);
      expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
      expect(pkg.devDependencies[name]).toBe(version);
      expect(pkg.dependencies[name]).toBeUndefined();
    }
    // Exact versions everywhere: no range can drift from what was measured.
    for (const deps of [pkg.dependencies, pkg.devDependencies, pkg.peerDependencies])
      for (const v of Object.values(deps)) expect(v).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.exports['./dist/*']).toBeUndefined();
  });

  test('every package an adapter names is a declared peer; the install command pins it', () => {
    const named = new Set(ADAPTERS.flatMap((e) => e.packages ?? []));
    expect([...named].filter((n) => !(n in measuredVersions()))).toEqual([]);
    expect(ADAPTERS.find((e) => e.id === 'onnxruntime-cpu')?.packages).toEqual(['onnxruntime-node']);
    expect(installCommand(['onnxruntime-node'])).toBe(
      `npm install onnxruntime-node@${lock.packages['node_modules/onnxruntime-node'].version}`,
    );
  });

  test('a missing package: unavailable with the npm install, and the runtime probe never runs', async () => {
    let probed = 0;
    const entry: AdapterEntry = {
      id: 'needs-ort',
      summary: 'test',
      profile: 'fp32-cpu',
      outOfTheBox: false,
      packages: ['onnxruntime-node'],
      create: () =>
        ({
          id: 'needs-ort',
          probe: async () => {
            probed++;
            return { available: true };
          },
        }) as never,
    };
    const missing = await withRuntimePackages(entry, () => null)
      .create()
      .probe();
    expect(missing).toEqual({
      available: false,
      reason: 'not installed: onnxruntime-node (optional peer dependency of resnet-conformance)',
      fix: installCommand(['onnxruntime-node']),
    });
    expect(probed).toBe(0);
    expect(await withRuntimePackages(entry).create().probe()).toEqual({ available: true });
    expect(probed).toBe(1);
  });

  test('a runtime at another version is named in the report (field and Markdown line)', () => {
    const states = packageStates(['onnxruntime-node'], () => '9.9.9');
    expect(versionDrift(states)).toEqual([
      { name: 'onnxruntime-node', measured: measuredVersions()['onnxruntime-node'], installed: '9.9.9' },
    ]);
    const r = clone(report);
    expect(runtimeDriftLines(r)).toEqual([]);
    expect(renderMarkdown(r)).not.toMatch(/differs from the measured/);
    r.adapters[0].runtimePackages = states;
    const line = `${r.adapters[0].id}: onnxruntime-node 9.9.9 (tolerances measured on ${measuredVersions()['onnxruntime-node']})`;
    expect(runtimeDriftLines(r)).toEqual([line]);
    expect(renderMarkdown(r)).toContain(`**Runtime version differs from the measured one:** ${line}`);
    expect(validateReportJson(clone(r))).toEqual([]);
  });
});
