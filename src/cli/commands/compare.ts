import * as fs from 'fs';
import { DEFAULT_NOISE_FLOOR, compareBench, type Normalize } from '../../bench/compare';
import { parseNoiseProfile, type NoiseProfile } from '../../bench/noise-profile';
import { isBenchFile, readBenchFile } from '../../bench/read';
import { BenchReadError } from '../../bench/schema';
import { ReportReadError, readReport } from '../../report/read';
import { DEFAULT_REGRESSION_FACTOR, diffReports } from '../../runner/baseline';
import { UsageError, bool, parseArgs, str } from '../args';
import { positiveNumber } from './run';

export const COMPARE_USAGE = 'compare <old-report.json> <new-report.json> [--regression-factor 2] [--json]\n'
  + '  resnet-conformance compare <old-bench.json> <new-bench.json> [--noise-floor 0.1] [--noise-profile noise.json] [--normalize auto|always|never] [--json]';

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
    throw new UsageError('--regression-factor applies to conformance reports; bench results take --noise-floor, --noise-profile and --normalize');
  }
  const floorText = str(p, 'noise-floor');
  const floor = floorText === undefined ? DEFAULT_NOISE_FLOOR : Number(floorText);
  if (!(Number.isFinite(floor) && floor >= 0)) throw new UsageError(`--noise-floor must be a number >= 0 (a fraction: 0.1 = 10%), got '${floorText}'`);
  const normalize = (str(p, 'normalize') ?? 'auto') as Normalize;
  if (!['auto', 'always', 'never'].includes(normalize)) throw new UsageError(`--normalize must be auto, always or never, got '${normalize}'`);
  const profileFile = str(p, 'noise-profile');
  let a;
  let b;
  let profile: NoiseProfile | undefined;
  try {
    a = readBenchFile(aPath);
    b = readBenchFile(bPath);
    if (profileFile !== undefined) {
      let text: string;
      try {
        text = fs.readFileSync(profileFile, 'utf8');
      } catch (err) {
        throw new BenchReadError(`cannot read noise profile ${profileFile} (${(err as Error).message})`);
      }
      try {
        profile = parseNoiseProfile(text, profileFile);
      } catch (err) {
        throw new BenchReadError((err as Error).message);
      }
    }
  } catch (err) {
    if (err instanceof BenchReadError) return fail(err.message);
    throw err;
  }
  let c;
  try {
    c = compareBench(a, b, { floor, normalize, profile });
  } catch (err) {
    return fail((err as Error).message);
  }
  if (bool(p, 'json')) {
    process.stdout.write(`${JSON.stringify({ kind: 'bench-comparison', from: aPath, to: bPath, ...c }, null, 2)}\n`);
  } else {
    const within = c.rows.filter((r) => r.verdict === 'within-noise').length;
    const normalized = c.rows.filter((r) => r.normalized).length;
    process.stdout.write(`bench compare ${aPath} → ${bPath}: ${c.regressions} regression(s), ${c.improvements} improvement(s), `
      + `${within} within noise (floor ${(c.floor * 100).toFixed(0)}%${profile ? `, noise profile ${profileFile}` : ''}; `
      + `${normalized} of ${c.rows.length} rows compared relative to the ceiling)\n`);
    for (const l of c.lines) process.stdout.write(`  ${l}\n`);
  }
  return c.exitCode;
}

/**
 * `compare`: differences from the first report to the second — status changes, error growth or
 * shrinkage beyond the factor, pairs only in one of them. Exit 1 when something got worse
 * (a failing status that was not failing, or error growth beyond the factor), else 0; 2 on bad input.
 * Given two bench results instead (`bench --json`), compares their latencies (see compareBenchFiles).
 */
export async function compareCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, ['regression-factor', ...BENCH_ONLY], ['json']);
  if (p.positional.length !== 2) throw new UsageError(`compare takes two reports (old, new), got ${p.positional.length}`);
  const [aPath, bPath] = p.positional;
  const benches = [isBenchFile(aPath), isBenchFile(bPath)];
  if (benches[0] && benches[1]) return compareBenchFiles(aPath, bPath, p);
  if (benches[0] || benches[1]) {
    return fail(`${benches[0] ? aPath : bPath} is a bench result but ${benches[0] ? bPath : aPath} is not: compare two conformance reports, or two bench results`);
  }
  const benchFlag = BENCH_ONLY.find((f) => str(p, f) !== undefined);
  if (benchFlag) throw new UsageError(`--${benchFlag} applies to bench results; ${aPath} and ${bPath} are not bench results`);
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
  if (bool(p, 'json')) {
    process.stdout.write(`${JSON.stringify({ from: a.runId, to: b.runId, factor, ...d }, null, 2)}\n`);
  } else {
    process.stdout.write(`compare ${a.runId} → ${b.runId} (factor ${factor}×): ${d.regressions} worse, ${d.improvements} better, ${d.lines.length} difference(s)\n`);
    for (const l of d.lines) process.stdout.write(`  ${l}\n`);
    if (d.lines.length === 0) process.stdout.write('  no differences beyond the factor\n');
  }
  return d.regressions > 0 ? 1 : 0;
}
