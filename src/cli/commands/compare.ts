import { compareBench } from '../../bench/compare';
import { benchComparisonText, readBenchPair } from '../../bench/compare-files';
import { isBenchFile } from '../../bench/read';
import { BenchReadError } from '../../bench/schema';
import { ReportReadError, readReport } from '../../report/read';
import { DEFAULT_REGRESSION_FACTOR, diffReports } from '../../runner/regression';
import { UsageError, bool, parseArgs, str } from '../args';
import { COMPARE_SPEC } from '../specs';
import { benchCompareOptions } from './bench-compare-options';
import { positiveNumber } from './run';

const BENCH_ONLY = ['noise-floor', 'noise-profile', 'normalize'];

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
  if (bool(p, 'json')) {
    process.stdout.write(`${JSON.stringify({ from: a.runId, to: b.runId, factor, ...d }, null, 2)}\n`);
  } else {
    process.stdout.write(
      `compare ${a.runId} → ${b.runId} (factor ${factor}×): ${d.regressions} worse, ${d.improvements} better, ${d.lines.length} difference(s)\n`,
    );
    for (const l of d.lines) process.stdout.write(`  ${l}\n`);
    if (d.lines.length === 0) process.stdout.write('  no differences beyond the factor\n');
  }
  return d.regressions > 0 ? 1 : 0;
}
