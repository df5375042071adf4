/**
 * The 'not-applicable' status: an adapter that declares it runs inference only
 * (AdapterEntry.inferenceOnly) gets its training-mode cases not-applicable — never run, never a
 * pass, never a failure — in the runner, in executeCase, in the summary and exit code, in every
 * report format and in the baseline comparison.
 *
 * Planted: suites/helpers/inference-only-adapter.ts wraps the reference adapter so that a training
 * run that reaches it throws. The same adapter without the declaration shows what the runner would
 * otherwise do (error, exit 1), so the declared run's clean exit is the declaration's doing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { notApplicableBecause, notApplicableReason } from '../src/adapters/inference-only';
import type { Adapter, AdapterEntry } from '../src/adapters/types';
import { loadManifest } from '../src/golden/load';
import { FIXTURES_DIR } from '../src/golden/paths';
import { blankResult, type CaseResult, type ConformanceReport } from '../src/report/schema';
import { executeCase } from '../src/runner/execute-case';
import { applyBaseline, diffReports } from '../src/runner/regression';
import { summarize } from '../src/runner/summary';
import { runCli } from './helpers/cli';
import { PLANTED_REASON } from './helpers/inference-only-adapter';

const MODULE = path.join(__dirname, 'helpers', 'inference-only-adapter.ts');
// notebook/*: two inference and two training cases, milliseconds each on the reference adapter.
const CASES = ['--cases', 'notebook/*', '--no-diagnose'];

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'not-applicable-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function readReport(dir: string): ConformanceReport {
  return JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as ConformanceReport;
}

const byCase = (r: ConformanceReport, adapter: string) =>
  Object.fromEntries(r.results.filter((x) => x.adapter === adapter).map((x) => [x.case, x]));

describe('run with an inference-only adapter (planted)', () => {
  let out: string;
  let report: ConformanceReport;
  let stdout: string;
  let code: number | null;
  beforeAll(async () => {
    out = path.join(tmp, 'declared');
    const r = await runCli([
      'run',
      '--adapter-module',
      MODULE,
      '--adapters',
      'planted-inference-only',
      ...CASES,
      '--out',
      out,
    ]);
    code = r.code;
    stdout = r.stdout + r.stderr;
    report = readReport(out);
  }, 120_000);

  it('settles every training case not-applicable with the declared reason and passes the inference cases', () => {
    const res = byCase(report, 'planted-inference-only');
    const training = report.cases.filter((c) => c.training).map((c) => c.id);
    const inference = report.cases.filter((c) => !c.training).map((c) => c.id);
    expect(training.length).toBeGreaterThan(0);
    expect(inference.length).toBeGreaterThan(0);
    for (const c of training) {
      expect(res[c].status).toBe('not-applicable');
      expect(res[c].reason).toBe(notApplicableReason({ inferenceOnly: PLANTED_REASON }));
      expect(res[c].metrics).toBeNull();
    }
    for (const c of inference) expect(res[c].status).toBe('pass');
  });

  it('does not count them as passes, nor as failures: exit 0, counted apart', () => {
    const s = report.summary;
    const training = report.cases.filter((c) => c.training).length;
    expect(code).toBe(0);
    expect(s.verdict).toBe('pass');
    expect(s.byStatus['not-applicable']).toBe(training);
    expect(s.byStatus.pass).toBe(report.cases.length - training);
    expect(report.adapters[0].counts['not-applicable']).toBe(training);
    expect(stdout).toMatch(
      new RegExp(`not applicable: planted-inference-only × ${training} cases — training-mode case`),
    );
    expect(stdout).toMatch(new RegExp(`\\(${s.byStatus.pass} pass, ${training} not applicable\\)`));
  });

  it('lists them apart in report.md, report.html and junit.xml (skipped with the status and reason)', () => {
    const training = report.summary.byStatus['not-applicable'];
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain(`### Not applicable (${training})`);
    expect(md).toContain(`**planted-inference-only**: ${training} cases — training-mode case`);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('id="not-applicable"');
    expect(html).toMatch(/data-status="not-applicable"/);
    const junit = fs.readFileSync(path.join(out, 'junit.xml'), 'utf8');
    const skipped = junit.match(/<skipped message="not-applicable: training-mode case[^"]*"\/>/g) ?? [];
    expect(skipped).toHaveLength(training);
    expect(junit).toMatch(new RegExp(`<testsuite [^>]*skipped="${training}"`));
    expect(junit).not.toMatch(/<failure|<error/);
  });
});

describe('the same planted adapter without the declaration', () => {
  it('runs the training cases, which error, and the run fails', async () => {
    const out = path.join(tmp, 'undeclared');
    const r = await runCli([
      'run',
      '--adapter-module',
      MODULE,
      '--adapters',
      'planted-inference-only-undeclared',
      ...CASES,
      '--out',
      out,
    ]);
    const report = readReport(out);
    expect(r.code).toBe(1);
    const res = byCase(report, 'planted-inference-only-undeclared');
    for (const c of report.cases.filter((k) => k.training)) {
      expect(res[c.id].status).toBe('error');
      expect(res[c.id].reason).toContain('planted: run(training=true) reached an inference-only adapter');
    }
    expect(report.summary.byStatus['not-applicable']).toBe(0);
  }, 120_000);
});

describe('an unavailable inference-only adapter', () => {
  it('keeps its training cases not-applicable and its inference cases unavailable', async () => {
    const out = path.join(tmp, 'unavailable');
    await runCli([
      'run',
      '--adapter-module',
      MODULE,
      '--adapters',
      'planted-inference-only-unavailable',
      ...CASES,
      '--out',
      out,
    ]);
    const report = readReport(out);
    const res = byCase(report, 'planted-inference-only-unavailable');
    for (const c of report.cases) expect(res[c.id].status).toBe(c.training ? 'not-applicable' : 'unavailable');
  }, 120_000);
});

describe('executeCase', () => {
  it('returns not-applicable for a training case of an inference-only entry without building or running', async () => {
    const manifest = loadManifest(FIXTURES_DIR);
    const k = manifest.cases.find((c) => c.training)!;
    const calls: string[] = [];
    const adapter = new Proxy({} as Adapter, {
      get: (_t, p) => {
        if (p === 'id') return 'spy';
        return async () => {
          calls.push(String(p));
          throw new Error(`called ${String(p)}`);
        };
      },
    });
    const entry: AdapterEntry = {
      id: 'spy',
      summary: 'spy',
      profile: 'fp32-cpu',
      outOfTheBox: false,
      inferenceOnly: 'spy reason',
      create: () => adapter,
    };
    const r = await executeCase(adapter, entry, k, { fixturesDir: FIXTURES_DIR, manifest });
    expect(r.status).toBe('not-applicable');
    expect(r.reason).toContain('spy reason');
    expect(calls).toEqual([]);
    expect(notApplicableBecause(entry, { training: false })).toBeUndefined();
    expect(notApplicableBecause({ ...entry, inferenceOnly: undefined }, { training: true })).toBeUndefined();
  });
});

describe('summary and baseline comparison', () => {
  const base = (status: CaseResult['status']): CaseResult => blankResult('a', 'c', status, status);

  it('summarize: not-applicable alone is neither a pass nor a failure', () => {
    const s = summarize([base('not-applicable')], []);
    expect(s.byStatus['not-applicable']).toBe(1);
    expect(s.byStatus.pass).toBe(0);
    expect(s.failures).toEqual([]);
    expect(s.exitCode).toBe(0);
  });

  it('a baseline pass (or failure) now not-applicable is neither newly failing nor improved; compare lists the change', () => {
    const report = (status: CaseResult['status']) =>
      ({
        runId: status,
        fixtures: { sha256: 'x', manifest: 'm', caseCount: 1 },
        cases: [],
        results: [base(status)],
        adapters: [],
      }) as unknown as ConformanceReport;
    for (const before of ['pass', 'error'] as const) {
      const now = report('not-applicable');
      const info = applyBaseline(now, report(before), 'b.json', 2);
      expect(info.newlyFailing).toBe(0);
      expect(info.improved).toBe(0);
      expect(now.results[0].status).toBe('not-applicable');
      expect(now.results[0].regression).toBeNull();
    }
    const d = diffReports(report('pass'), report('not-applicable'), 2);
    expect(d.regressions).toBe(0);
    expect(d.improvements).toBe(0);
    expect(d.lines.join('\n')).toMatch(/a × c: .*pass.*not-applicable/);
  });
});
