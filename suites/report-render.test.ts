/**
 * Renderers: JUnit is well-formed XML with the right counts, Markdown holds the adapter × case
 * matrix, HTML is self-contained; the perf section is rendered when the report has one; the atomic
 * writer and the report reader reject incomplete output.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { perfForReport } from '../src/report/perf-section';
import { BENCH_KIND, BENCH_SCHEMA_VERSION, type BenchReport } from '../src/bench/schema';
import { summarize as summarizeSamples } from '../src/util/stats';
import { noiseBand } from '../src/calibration/noise';
import { renderWithPerf } from '../src/cli/commands/run';
import { renderErrorChart } from '../src/report/chart';
import { formatNumber, formatValue } from '../src/report/format';
import { renderHtml } from '../src/report/html';
import { renderJunit } from '../src/report/junit';
import { MARKDOWN_BUDGET, renderMarkdown } from '../src/report/markdown';
import { ReportReadError, parseReport, readReport } from '../src/report/read';
import { renderAll } from '../src/report/render';
import { CASE_STATUSES, VOLATILE_KEYS, type CaseResult, type ConformanceReport } from '../src/report/schema';
import { COMPLETE_MARKER, prepareOutDir, writeReportDir } from '../src/report/write';
import { writeFileAtomic } from '../src/util/fs';
import { describeFailure, summarize } from '../src/runner/summary';
import { diagnosisLine } from '../src/report/diagnosis-text';
import type { Diagnosis } from '../src/diagnose/types';
import { NASTY, sampleReport } from './helpers/sample-report';
import { childrenNamed, parseXml } from './helpers/xml';

describe('JUnit XML', () => {
  const report = sampleReport();
  const xml = renderJunit(report);
  const root = parseXml(xml);

  test('is well-formed, one testsuite per adapter, counts match the results', () => {
    expect(root.name).toBe('testsuites');
    const suites = childrenNamed(root, 'testsuite');
    expect(suites.map((s) => s.attrs.name)).toEqual(['alpha', 'beta', 'gamma']);
    expect(root.attrs.tests).toBe('9');
    // alpha: regressed + fail-shape are failures; beta: fail-numeric failure, error + crashed errors;
    // gamma: timeout error, skipped skipped, unavailable (explicitly requested) error.
    expect([root.attrs.failures, root.attrs.errors, root.attrs.skipped]).toEqual(['3', '4', '1']);
    const counts = suites.map((s) => [s.attrs.tests, s.attrs.failures, s.attrs.errors, s.attrs.skipped]);
    expect(counts).toEqual([
      ['3', '2', '0', '0'],
      ['3', '1', '2', '0'],
      ['3', '0', '2', '1'],
    ]);
    for (const s of suites) {
      const cases = childrenNamed(s, 'testcase');
      expect(cases).toHaveLength(Number(s.attrs.tests));
      expect(cases.filter((c) => childrenNamed(c, 'failure').length).length).toBe(Number(s.attrs.failures));
      expect(cases.filter((c) => childrenNamed(c, 'error').length).length).toBe(Number(s.attrs.errors));
      expect(cases.filter((c) => childrenNamed(c, 'skipped').length).length).toBe(Number(s.attrs.skipped));
    }
  });

  test('escapes reasons (the text survives a round trip, control characters dropped)', () => {
    const beta = childrenNamed(root, 'testsuite')[1];
    const failing = childrenNamed(beta, 'testcase').find((c) => c.attrs.name === 'resnet50/b1')!;
    const failure = childrenNamed(failing, 'failure')[0];
    expect(failure.attrs.type).toBe('fail-numeric');
    expect(failure.attrs.message).toContain('a <b> & "c" \'d\' | e\nf g');
    expect(failure.text).toContain('maxAbs');
  });

  test('an unavailable adapter not requested explicitly is skipped, not an error', () => {
    const r = sampleReport();
    r.adapters[2].explicitlyRequested = false;
    const g = childrenNamed(parseXml(renderJunit(r)), 'testsuite')[2];
    expect([g.attrs.errors, g.attrs.skipped]).toEqual(['1', '2']);
  });
});

describe('number formatting', () => {
  test('errors at 3 significant digits, tensor values at 9 (float32 values stay apart), full precision only in JSON', () => {
    expect(formatNumber(1.234567890123e-5)).toBe('1.23e-5');
    expect(formatValue(0.12345678901234567)).toBe('0.123456789');
    // Two float32 neighbours: 9 digits keep them apart where 3 would print them the same.
    const a = Math.fround(0.1);
    const b = Math.fround(a + 2 ** -27);
    expect(a).not.toBe(b);
    expect(formatNumber(a)).toBe(formatNumber(b));
    expect(formatValue(a)).not.toBe(formatValue(b));
    expect(formatValue('NaN')).toBe('NaN');
    expect(formatValue(0)).toBe('0');

    const report = sampleReport();
    const failing = report.results.find((r) => r.checks.some((c) => c.metrics?.worst))!;
    const check = failing.checks.find((c) => c.metrics?.worst)!;
    check.metrics!.worst!.actual = 0.12345678901234567;
    check.metrics!.worst!.expected = -3.2100000000000004e-7;
    for (const text of [renderJunit(report), renderHtml(report)]) {
      expect(text).not.toContain('0.12345678901234567');
      expect(text).not.toContain('3.2100000000000004e-7');
    }
    expect(renderJunit(report)).toContain('actual 0.123456789 expected -3.21e-7');
  });
});

describe('Markdown summary', () => {
  const report = sampleReport();
  const md = renderMarkdown(report);
  const lines = md.split('\n');

  test('has the verdict and an adapter × case matrix with one row per case', () => {
    expect(lines[0]).toContain('FAIL');
    const header = lines.findIndex((l) => l.startsWith('| case |'));
    expect(header).toBeGreaterThan(0);
    expect(lines[header]).toBe('| case | `alpha` | `beta` | `gamma` |');
    expect(lines[header + 1]).toBe('|---|---|---|---|');
    const rows = lines.slice(header + 2, header + 5);
    expect(rows.map((r) => r.split('|')[1].trim())).toEqual(['`resnet50/b1`', '`block/inference`', '`block/training`']);
    // Every row has one cell per adapter (escaped pipes do not split cells).
    for (const r of rows) expect(r.split(/(?<!\\)\|/).length - 2).toBe(4);
    expect(rows[0]).toContain(formatNumber(5e-8));
    expect(rows[0]).toContain('NaN');
    expect(rows[2]).toContain('unavailable');
  });

  test('lists what does not pass, with reasons escaped for a table-free line', () => {
    expect(md).toContain('### Not passing');
    expect(md).toContain('**beta** × `block/training` — crashed: worker killed by SIGSEGV');
    expect(md).toContain('NaN 🆕'); // beta × resnet50/b1 newly failing against the baseline
    expect(md).not.toMatch(/<b>/);
    expect(md).toContain('Baseline `20241231T000000Z`');
    expect(md).toContain('Tolerances applied');
  });

  test('stays within the pull-request comment budget for a large run', () => {
    const big = sampleReport();
    const many: CaseResult[] = [];
    for (let a = 0; a < 12; a++)
      for (let c = 0; c < 400; c++) many.push({ ...big.results[3], adapter: `adapter-${a}`, case: `case-${c}` });
    big.results = many;
    big.adapters = [];
    big.cases = [];
    big.summary = summarize(many, []);
    const text = renderMarkdown(big);
    expect(text.length).toBeLessThanOrEqual(MARKDOWN_BUDGET);
    expect(text).toContain('cut to fit');
  });
});

describe('HTML report', () => {
  const html = renderHtml(sampleReport());

  test('is self-contained: no external scripts, styles, images or fonts', () => {
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).not.toMatch(/<img[^>]+src="?https?:/i);
    expect(html).not.toMatch(/url\(\s*['"]?https?:/i);
    expect(html).not.toMatch(/@import/);
  });

  test('has the matrix, a chart with one line per adapter at the boundaries, and escaped text', () => {
    expect(html.match(/<tr class="case-row"/g)).toHaveLength(3);
    expect(html).toContain('id="matrix"');
    const svg = /<svg[\s\S]*?<\/svg>/.exec(html)![0];
    expect(svg.match(/<polyline/g)).toHaveLength(2); // alpha and beta have boundary errors
    expect(svg).toContain('stage2_block1_conv');
    expect(html).not.toContain(NASTY);
    expect(html).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
    // The SVG alone is well-formed XML.
    expect(parseXml(svg).name).toBe('svg');
  });

  test('the chart puts exact zeros on the bottom row and infinities on the top row', () => {
    const svg = renderErrorChart(['a', 'b', 'c'], [{ name: 's', values: [0, 1e-6, null] }], {
      title: 't',
      height: 300,
    });
    const ys = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(ys).toHaveLength(3);
    expect(ys[0]).toBeGreaterThan(ys[1]);
    expect(ys[1]).toBeGreaterThan(ys[2]);
  });
});

/** A bench result with one adapter × batch 8 (60 ms median) against a 100 GFLOP/s ceiling. */
function benchResult(adapter: string): BenchReport {
  const samplesMs = [58, 59, 60, 60, 61, 62, 60, 59, 61, 60];
  const latencyMs = summarizeSamples(samplesMs);
  const flops = 616357888 * 8;
  const gflops = flops / (latencyMs.median * 1e6);
  return {
    kind: BENCH_KIND,
    schemaVersion: BENCH_SCHEMA_VERSION,
    tool: { name: 'resnet-conformance', version: '0.1.0' },
    createdAt: '2025-02-03T04:05:06.000Z',
    durationMs: 1,
    environment: sampleReport().parts[0].environment,
    options: {
      adapters: [adapter],
      adapterSelection: 'explicit',
      batches: [8],
      policy: { warmup: 1, runs: 10, minRuns: 10, minTimeMs: 0, maxRuns: 10, budgetMs: 1, floorRuns: 5 },
      ceiling: true,
      pairedCeiling: false,
      ceilingN: 2048,
      training: false,
    },
    model: {
      name: 'resnet50',
      inputShape: [64, 64, 3],
      classes: 6,
      flopsPerImage: 616357888,
      flopsBreakdown: { conv: 1, dense: 1, other: 1 },
      flopConvention: 'x',
    },
    ceiling: {
      op: 'MatMul 2048x2048x2048 float32',
      n: 2048,
      flops: 2 * 2048 ** 3,
      gflops: 100,
      drift: 0.01,
      pairedScale: null,
      points: [],
    },
    adapters: [
      {
        id: adapter,
        summary: adapter,
        profile: 'fp32-cpu',
        outOfTheBox: true,
        available: true,
        description: null,
        process: null,
        ceilingGflops: 100,
        batches: [
          {
            batch: 8,
            warmupMs: [70],
            samplesMs,
            stoppedBy: 'runs',
            latencyMs,
            noise: noiseBand(samplesMs, latencyMs.median),
            imagesPerSec: 8000 / latencyMs.median,
            flops,
            gflops,
            peakRssMiB: 640,
            peakRssCumulative: false,
            pairedCeiling: null,
            ceilingGflops: 100,
            ceilingBasis: 'bracket',
            efficiency: gflops / 100,
            efficiencyVsBracket: gflops / 100,
          },
        ],
      },
    ],
  } as BenchReport;
}

/** The sample report with the timings a run records (per case, and the parent's phases). */
function timedReport(): ConformanceReport {
  const r = sampleReport();
  for (const x of r.results) if (x.timings) x.timings = { ...x.timings, initMs: 40, fixtureMs: 3, setupMs: 0 };
  r.parts[0].timings = { startupMs: 150, fixturesMs: 30, adaptersMs: 3000, workerStartupMs: 450, reportMs: 0 };
  return r;
}

describe('diagnosis of failing cases', () => {
  test('a diagnosis that could not run is listed, escaped, in Markdown, HTML and JUnit; none: no section', () => {
    const plain = sampleReport();
    expect(renderMarkdown(plain)).not.toContain('Per-layer diagnosis');
    expect(renderHtml(plain)).not.toContain('id="diagnosis"');
    const r = sampleReport();
    r.results[3].diagnosisError = `adapter 'beta' cannot capture every layer: ${NASTY}`;
    const md = renderMarkdown(r);
    expect(md).toContain('### Per-layer diagnosis (1)');
    expect(md).toContain(
      "- **beta** × `resnet50/b1` — no diagnosis: adapter 'beta' cannot capture every layer: a &lt;b&gt; & \"c\" 'd' \\| e f",
    );
    const html = renderHtml(r);
    expect(html).toContain('<h2 id="diagnosis">');
    expect(html).not.toContain('<section class="diagnosis">'); // nothing to chart
    expect(html).not.toContain(NASTY);
    const junit = parseXml(renderJunit(r));
    const beta = junit.children.find((x) => x.name === 'testsuite' && x.attrs.name === 'beta')!;
    const tc = beta.children.find((x) => x.name === 'testcase' && x.attrs.name === 'resnet50/b1')!;
    const failure = tc.children.find((x) => x.name === 'failure')!;
    expect(failure.attrs.message).not.toContain('first diverging layer');
    expect(failure.text).toContain("diagnosis: no diagnosis: adapter 'beta' cannot capture every layer");
  });

  /** A diagnosis with no layer out of its budget: three rows with the given local error ratios (budget 4 ULP(S)). */
  function withinBudget(ratios: number[], unexplained: string[] = []): Diagnosis {
    const rows = ratios.map((ratio, i) => ({
      name: `conv2d_${i}`,
      layer: `conv2d_${i}`,
      className: 'Conv2D',
      part: 'output',
      block: 'stage2.block1',
      role: `conv ${i + 1}`,
      shape: [1, 2, 2, 4],
      cumulative: null,
      fp32Envelope: null,
      local: {
        budgetKind: 'conv',
        budgetUlp: 4,
        errorUlp: ratio * 4,
        ratio,
        withinBudget: true,
        outside: 0,
        maxAbs: 0,
        worst: null,
      },
      precision: { status: 'match', best: 'fp32', runnerUp: null, gapUlp: null, distances: [] },
    }));
    return {
      model: 'resnet50',
      rows,
      firstDiverging: null,
      outOfBudget: [],
      unexplained,
      notAnalysed: [],
      precision: { text: 'fp32 everywhere' },
      captureIssues: [],
    } as unknown as Diagnosis;
  }

  test('with no layer out of its budget, the line, the JUnit message and the terminal line name the suspect layer', () => {
    const r = sampleReport();
    const beta = r.results[3];
    beta.diagnosis = withinBudget([0.1, 0.6, 0.3]);
    const largest =
      'largest local error: conv2d_1 (Conv2D, stage2.block1 conv 2), at 0.6 of its budget (2.4 of 4 ULP(S))';
    expect(diagnosisLine(beta)).toBe(
      `no layer out of its error budget (3/3 analysed); ${largest}. arithmetic: fp32 everywhere`,
    );
    expect(renderMarkdown(r)).toContain(
      `- **beta** × \`resnet50/b1\` — no layer out of its error budget (3/3 analysed); ${largest}.`,
    );
    const tc = parseXml(renderJunit(r))
      .children.find((x) => x.name === 'testsuite' && x.attrs.name === 'beta')!
      .children.find((x) => x.name === 'testcase' && x.attrs.name === 'resnet50/b1')!;
    expect(tc.children.find((x) => x.name === 'failure')!.attrs.message).toMatch(
      new RegExp(`— ${largest.replace(/[().]/g, '\\$&')}$`),
    );
    expect(describeFailure(beta)).toContain(` — ${largest} — ${beta.reason}`);

    // A layer the diagnosis calls a suspect (inside its budget, no arithmetic explains it) comes first.
    beta.diagnosis = withinBudget([0.1, 0.6, 0.3], ['conv2d_2']);
    expect(diagnosisLine(beta)).toContain(
      '; suspect layer: conv2d_2 (Conv2D, stage2.block1 conv 3), at 0.3 of its budget (1.2 of 4 ULP(S)), matching no arithmetic.',
    );
    beta.diagnosis = withinBudget([0, 0, 0]);
    expect(diagnosisLine(beta)).toBe(
      'no layer out of its error budget (3/3 analysed); every layer exact. arithmetic: fp32 everywhere',
    );
    expect(describeFailure(beta)).toBe(`beta × resnet50/b1: ${beta.status} (newly failing) — ${beta.reason}`);
  });
});

describe('perf section', () => {
  test('absent: no performance heading in Markdown, no performance section in HTML', () => {
    const r = sampleReport();
    expect(r.perf).toBeUndefined();
    expect(renderMarkdown(r)).not.toContain('Performance');
    expect(renderHtml(r)).not.toContain('id="performance"');
  });

  test('present: Markdown before the tolerances, HTML before the environment, with the bench rows and the harness phases', () => {
    const r = timedReport();
    r.perf = perfForReport(r, { bench: { report: benchResult('onnx<runtime>|cpu'), source: 'bench.json' } });
    const md = renderMarkdown(r);
    const perfAt = md.indexOf('### Performance');
    expect(perfAt).toBeGreaterThan(md.indexOf('### Adapters'));
    expect(perfAt).toBeLessThan(md.indexOf('Tolerances applied'));
    // The harness's own cost is for its developers: closed, after the bench table, in users' reports.
    const closed = md.slice(md.indexOf('<details><summary>Harness overhead ('));
    expect(closed).toMatch(
      /^<details><summary>Harness overhead \(the harness's own time by phase, for its developers\)<\/summary>\n\n/,
    );
    expect(closed.indexOf('| weight init |')).toBeLessThan(closed.indexOf('</details>'));
    expect(md.indexOf('| onnx&lt;runtime&gt;')).toBeLessThan(md.indexOf('<details><summary>Harness overhead'));
    expect(md).not.toContain('#### Harness overhead');
    expect(md).toContain('| onnx&lt;runtime&gt;\\|cpu | 8 | 60.00 ms |');
    expect(md).toMatch(/\| weight init \| [\d.]+ ms \|/);
    expect(md).toContain('(bench.json)');
    const html = renderHtml(r);
    const section = /<section id="performance">[\s\S]*?<\/section>/.exec(html)![0];
    expect(html.indexOf(section)).toBeLessThan(html.indexOf('<h2 id="environment">'));
    expect(html.indexOf(section)).toBeGreaterThan(html.indexOf('<h2 id="results">'));
    expect(section).toContain('onnx&lt;runtime&gt;|cpu');
    expect(section).not.toContain('<runtime>');
    expect(section).toContain('weight init');
    expect(
      /<details class="harness"><summary>Harness overhead[^<]*<\/summary>[\s\S]*weight init[\s\S]*<\/details>/.test(
        section,
      ),
    ).toBe(true);
    expect(section).not.toContain('<details class="harness" open');
    // Every timing phase is recorded by such a report: nothing listed as missing.
    expect(r.perf.harness!.missing).toEqual([]);
    expect(section).not.toContain('Not recorded');
    // JUnit has no perf section; the JSON keeps it through a round trip.
    expect(renderJunit(r)).not.toContain('Performance');
    expect(parseReport(renderAll(r)['report.json'], 'r.json').perf).toEqual(JSON.parse(JSON.stringify(r.perf)));
  });

  test('only the harness part: no bench table, the phases of the run itself', () => {
    const r = timedReport();
    r.perf = perfForReport(r);
    const md = renderMarkdown(r);
    // Nothing for users: no heading, the harness's phases closed.
    expect(md).not.toContain('### Performance');
    expect(md).toContain(
      "<details><summary>Harness overhead (the harness's own time by phase, for its developers)</summary>",
    );
    expect(renderHtml(r)).not.toContain('<h2>Performance</h2>');
    expect(md).not.toContain('| adapter | batch |');
    expect(md).toMatch(/harness overhead [\d.]+ m?s \([\d.]+%; target ≤ 20%\)/);
  });

  test('renderWithPerf (the run command): times one rendering as reportMs, then renders with the perf section', () => {
    const r = timedReport();
    const files = renderWithPerf(r, { report: benchResult('ort'), source: 'b.json' });
    expect(r.parts[0].timings!.reportMs).toBeGreaterThan(0);
    const written = parseReport(files['report.json'], 'report.json');
    expect(written.perf!.harness!.phases.reportMs).toBe(r.parts[0].timings!.reportMs);
    expect(written.perf!.bench!.rows.map((x) => x.adapter)).toEqual(['ort']);
    expect(files['report.md']).toContain('### Performance');
    expect(files['report.html']).toContain('<section id="performance">');
    // Timing fields and the perf section are volatile (blanked when runs are compared for determinism).
    for (const k of [
      'perf',
      'initMs',
      'fixtureMs',
      'startupMs',
      'fixturesMs',
      'weightsMs',
      'adaptersMs',
      'workerStartupMs',
      'reportMs',
    ])
      expect(VOLATILE_KEYS).toContain(k);
    const noBench = renderWithPerf(timedReport());
    expect(parseReport(noBench['report.json'], 'report.json').perf!.bench).toBeNull();
  });
});

describe('report files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-report-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('writeReportDir writes every format and then the completion marker; readReport accepts it', () => {
    const r = sampleReport();
    writeReportDir(dir, r.runId, r.schemaVersion, renderAll(r));
    expect(fs.readdirSync(dir).sort()).toEqual(
      [COMPLETE_MARKER, 'junit.xml', 'report.html', 'report.json', 'report.md'].sort(),
    );
    expect(readReport(dir).runId).toBe(r.runId);
    expect(readReport(path.join(dir, 'report.json')).results).toHaveLength(9);
  });

  test('a run directory without the marker (interrupted) is refused; so is a modified report', () => {
    const r = sampleReport();
    writeReportDir(dir, r.runId, r.schemaVersion, renderAll(r));
    fs.appendFileSync(path.join(dir, 'report.json'), ' ');
    expect(() => readReport(dir)).toThrow(/does not match the digest/);
    prepareOutDir(dir); // what a new run does first
    expect(fs.readdirSync(dir)).toEqual([]);
    writeFileAtomic(path.join(dir, 'report.json'), JSON.stringify(r));
    expect(() => readReport(dir)).toThrow(/did not finish/);
  });

  test('atomic write leaves no temporary files behind', () => {
    writeFileAtomic(path.join(dir, 'x.txt'), 'hello');
    expect(fs.readdirSync(dir)).toEqual(['x.txt']);
  });

  test('parseReport names the problem: not JSON, no schemaVersion, wrong version, bad results', () => {
    expect(() => parseReport('{', 'r.json')).toThrow(ReportReadError);
    expect(() => parseReport('{}', 'r.json')).toThrow(/no schemaVersion/);
    expect(() => parseReport('{"schemaVersion": 99}', 'r.json')).toThrow(/schemaVersion 99/);
    const r = sampleReport() as unknown as Record<string, unknown>;
    r.results = [{ adapter: 1 }];
    expect(() => parseReport(JSON.stringify(r), 'r.json')).toThrow(/results\[0\]/);
    expect(() => readReport(path.join(dir, 'missing.json'))).toThrow(/no such file/);
  });
});

describe('summary verdict', () => {
  test('each failing status fails the run; pass, expected-divergence, not-applicable, skipped and unrequested unavailable do not', () => {
    const r = sampleReport();
    const base = r.results[0];
    for (const s of CASE_STATUSES) {
      const s1 = summarize(
        [{ ...base, status: s }],
        r.adapters.map((a) => ({ ...a, explicitlyRequested: false })),
      );
      expect([s, s1.exitCode]).toEqual([
        s,
        ['pass', 'expected-divergence', 'not-applicable', 'skipped', 'unavailable'].includes(s) ? 0 : 1,
      ]);
    }
    // Not-applicable is not a failure even for an adapter named in --adapters (unlike unavailable).
    expect(
      summarize(
        [{ ...base, status: 'not-applicable' }],
        r.adapters.map((a) => ({ ...a, explicitlyRequested: true })),
      ).exitCode,
    ).toBe(0);
    const explicit = summarize(
      [{ ...base, status: 'unavailable' }],
      r.adapters.map((a) => ({ ...a, explicitlyRequested: true })),
    );
    expect(explicit.exitCode).toBe(1);
    expect(explicit.requiredUnavailable).toBe(1);
  });
});
