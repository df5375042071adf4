import { compareBench } from '../../bench/compare';
import { benchComparisonText, readBenchPair } from '../../bench/compare-files';
import { isBenchFile } from '../../bench/read';
import { BenchReadError } from '../../bench/schema';
import { ReportReadError, readReport } from '../../report/read';
import { DEFAULT_REGRESSION_FACTOR, diffReports, type ReportDiff } from '../../runner/regression';
import { UsageError, bool, parseArgs, str } from '../args';
import { COMPARE_SPEC } from '../specs';
import { benchCompareOptions } from './bench-compare-options';
import { positiveNumber } from './run';

const BENCH_ONLY = ['noise-floor', 'noise-profile', 'normalize'];

/** Markdown text as a table cell or list item holds it: no line breaks, pipes escaped. */
function mdText(s: string): string {
  return s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/**
 * `compare --format md`: the comparison as Markdown (a GitHub step summary or merge-request comment
 * renders plain text as one paragraph): a heading with the verdict, the counts, one list item per difference.
 */
export function comparisonMarkdown(c: ReportDiff & { from: string; to: string; factor: number }): string {
  const out = [
    `### ${c.regressions > 0 ? '❌' : '✅'} Compared with \`${mdText(c.from)}\`: ${c.regressions} worse, ${c.improvements} better`,
    '',
    `\`${mdText(c.from)}\` → \`${mdText(c.to)}\`, error growth allowed up to ${c.factor}×; ${c.lines.length} difference(s).`,
    '',
  ];
  if (c.fixtureWarning) out.push(`> **Warning:** ${mdText(c.fixtureWarning)}`, '');
  for (const l of c.lines) out.push(`- ${mdText(l)}`);
  if (c.lines.length === 0) out.push('No differences beyond the factor.');
  return `${out.join('\n')}\n`;
}

function fail(message: string): number {
  process.stderr.write(`resnet-conformance compare: ${message}\n`);
  return 2;
}

/**
 * Two bench results (src/bench): latency regressions beyond the noise band, as `bench --compare`.
 * Exit 1 when an adapter × batch regressed or now fails, else 0.
 */
function compareBenchFiles(aPath: string, bPath: string, p: ReturnType<typeof parseArgs>): number {
  if (str(p, 'regression-factor') !== undefined) {
    throw new UsageError(
      '--regression-factor applies to conformance reports; bench results take --noise-floor, --noise-profile and --normalize',
    );
  }
  if (str(p, 'format') !== undefined)
    throw new UsageError('--format applies to conformance reports; bench results print text, or JSON with --json');
  const { floor, normalize, profileFile } = benchCompareOptions(p);
  let read;
  try {
    read = readBenchPair(aPath, bPath, profileFile);
  } catch (err) {
    if (err instanceof BenchReadError) return fail(err.message);
    throw err;
  }
  let c;
  try {
    c = compareBench(read.a, read.b, { floor, normalize, profile: read.profile });
  } catch (err) {
    return fail((err as Error).message);
  }
  if (bool(p, 'json')) {
    process.stdout.write(`${JSON.stringify({ kind: 'bench-comparison', from: aPath, to: bPath, ...c }, null, 2)}\n`);
  } else {
    process.stdout.write(benchComparisonText(c, aPath, bPath, profileFile));
  }
  return c.exitCode;
}

/**
 * `compare`: differences from the first report to the second — status changes, error growth or
 * shrinkage beyond the factor, pairs only in one of them; a warning (stderr, and fixtureWarning in
 * --json) naming the cases whose fixtures differ when the reports ran on different fixture manifests.
 * Exit 1 when something got worse
 * (a failing status that was not failing, or error growth beyond the factor), else 0; 2 on bad input.
 * Given two bench results instead (`bench --json`), compares their latencies (see compareBenchFiles).
 */
export async function compareCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, COMPARE_SPEC.flags);
  if (p.positional.length !== 2)
    throw new UsageError(`compare takes two reports (old, new), got ${p.positional.length}`);
  const [aPath, bPath] = p.positional;
  const benches = [isBenchFile(aPath), isBenchFile(bPath)];
  if (benches[0] && benches[1]) return compareBenchFiles(aPath, bPath, p);
  if (benches[0] || benches[1]) {
    return fail(
      `${benches[0] ? aPath : bPath} is a bench result but ${benches[0] ? bPath : aPath} is not: compare two conformance reports, or two bench results`,
    );
  }
  const benchFlag = BENCH_ONLY.find((f) => str(p, f) !== undefined);
  if (benchFlag)
    throw new UsageError(`--${benchFlag} applies to bench results; ${aPath} and ${bPath} are not bench results`);
  const format = str(p, 'format') ?? (bool(p, 'json') ? 'json' : 'text');
  if (!['text', 'md', 'json'].includes(format))
    throw new UsageError(`--format must be text, md or json, got '${format}'`);
  if (bool(p, 'json') && format !== 'json') throw new UsageError(`--json and --format ${format} are exclusive`);
  const factor = positiveNumber(str(p, 'regression-factor'), 'regression-factor', DEFAULT_REGRESSION_FACTOR);
  if (factor < 1) throw new UsageError(`--regression-factor must be >= 1, got ${factor}`);
  let a;
  let b;
  try {
    a = readReport(aPath);
    b = readReport(bPath);
  } catch (err) {
    if (err instanceof ReportReadError) return fail(err.message);
    throw err;
  }
  const d = diffReports(a, b, factor);
  if (d.fixtureWarning) process.stderr.write(`resnet-conformance compare: warning: ${d.fixtureWarning}\n`);
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify({ from: a.runId, to: b.runId, factor, ...d }, null, 2)}\n`);
  } else if (format === 'md') {
    process.stdout.write(comparisonMarkdown({ from: a.runId, to: b.runId, factor, ...d }));
  } else {
    process.stdout.write(
      `compare ${a.runId} → ${b.runId} (factor ${factor}×): ${d.regressions} worse, ${d.improvements} better, ${d.lines.length} difference(s)\n`,
    );
    for (const l of d.lines) process.stdout.write(`  ${l}\n`);
    if (d.lines.length === 0) process.stdout.write('  no differences beyond the factor\n');
  }
  return d.regressions > 0 ? 1 : 0;
}
