import * as fs from 'fs';
import * as path from 'path';
import { adapterPool } from '../../adapters/pool';
import { selectAdapters, type AdapterSelection } from '../../adapters/select';
import { perfForReport } from '../../report/perf-section';
import { readBenchFile } from '../../bench/read';
import { BenchReadError, type BenchReport } from '../../bench/schema';
import { FixtureError } from '../../golden/load';
import { FIXTURES_DIR } from '../../golden/paths';
import { formatMs, truncate } from '../../util/format';
import { ReportReadError, readReport } from '../../report/read';
import { renderAll } from '../../report/render';
import { runDurationMs, verdictText } from '../../report/view';
import {
  REPORT_SCHEMA_VERSION,
  countsText,
  notApplicableGroups,
  runtimeDriftLines,
  type ConformanceReport,
} from '../../report/schema';
import { acquireOutDirLock, OutDirBusyError, prepareOutDir, writeReportDir } from '../../report/write';
import { DEFAULT_REGRESSION_FACTOR } from '../../runner/regression';
import { stopAllWorkers } from '../../runner/orchestrator';
import { ownTermination, signalExitCode } from '../../util/signals';
import { progressMode, progressPrinter } from '../../runner/progress';
import { runConformance } from '../../runner/run';
import { makeRunId } from '../../runner/run-id';
import { parseShard } from '../../runner/shard';
import { UsageError, bool, parseArgs, str, type ParsedArgs } from '../args';
import { adapterSourcesFromFlags } from '../adapter-sources';
import { RUN_SPEC } from '../specs';
import { baselineSetFixtures } from './baseline-set';

export const DEFAULT_TIMEOUT_S = 300;
export const DEFAULT_JOBS = 2;

export function positiveNumber(v: string | undefined, name: string, fallback: number, integer = false): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got '${v}'`);
  }
  return n;
}

/** Run ids: src/runner/run-id.ts (unique even for runs started in the same second). */
export { makeRunId } from '../../runner/run-id';

function configError(msg: string): number {
  process.stderr.write(`resnet-conformance run: ${msg}\n`);
  return 2;
}

export function printSummary(report: ConformanceReport, outDir: string, write: (s: string) => void): void {
  const s = report.summary;
  const counts = countsText(s.byStatus);
  write(
    `\n${verdictText(report)}: ${s.total} results${counts ? ` (${counts})` : ''} in ${formatMs(runDurationMs(report))}`,
  );
  for (const d of runtimeDriftLines(report)) write(`  runtime version differs from the measured one: ${d}`);
  for (const f of s.failures.slice(0, 20)) write(`  ${truncate(f, 240)}`);
  if (s.failures.length > 20) write(`  ... ${s.failures.length - 20} more in the report`);
  const diverging = report.results.filter((r) => r.status === 'expected-divergence');
  for (const r of diverging.slice(0, 20)) write(`  ${r.adapter} × ${r.case}: ${truncate(r.reason, 240)}`);
  if (diverging.length > 20) write(`  ... ${diverging.length - 20} more expected divergences in the report`);
  for (const g of notApplicableGroups(report.results))
    write(truncate(`  not applicable: ${g.adapter} × ${g.cases} case${g.cases === 1 ? '' : 's'} — ${g.reason}`, 240));
  for (const a of report.adapters.filter((x) => !x.available)) {
    if (a.knownCrash) {
      // One line per adapter, the workaround in full (the case lines above may be cut).
      write(
        `  crashed: ${a.id} — not started, known crash on this CPU (${a.knownCrash.id}); workaround: ${a.knownCrash.workaround}`,
      );
      continue;
    }
    write(
      truncate(
        `  unavailable: ${a.id}${a.explicitlyRequested ? ' (requested: fails the run)' : ''} — ${a.unavailableReason ?? ''}${a.fix ? ` (fix: ${a.fix})` : ''}`,
        240,
      ),
    );
  }
  write(`Report: ${path.join(outDir, 'report.json')} (+ report.md, report.html, junit.xml)`);
}

/** The out dir as the user would type it: relative when under the working directory. */
export function displayDir(dir: string): string {
  const rel = path.relative(process.cwd(), dir);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? dir : rel;
}

/**
 * Renders every format with the perf section: one rendering is timed (parts[0].timings.reportMs),
 * then the perf section (the run's own cost by phase, plus the bench digest when given) is added
 * and the files are rendered again with it.
 */
export function renderWithPerf(
  report: ConformanceReport,
  bench?: { report: BenchReport; source: string },
): Record<string, string> {
  const t = performance.now();
  renderAll(report);
  const reportMs = performance.now() - t;
  const part = report.parts[0];
  if (part?.timings) part.timings.reportMs = reportMs;
  report.perf = perfForReport(report, bench ? { bench } : {});
  return renderAll(report);
}

async function selectionOf(p: ParsedArgs): Promise<AdapterSelection> {
  return selectAdapters(
    'run',
    str(p, 'adapters'),
    await adapterPool(adapterSourcesFromFlags(p, positiveNumber(str(p, 'timeout'), 'timeout', DEFAULT_TIMEOUT_S))),
  );
}

/** `--adapters` / `--adapter-module` as `run` resolves them (through selectAdapters). */
export async function adapterSelection(argv: string[]): Promise<AdapterSelection> {
  return selectionOf(parseArgs(argv, RUN_SPEC.flags));
}

/** `run`: the conformance run. Exit 0 all pass, 1 failure or regression, 2 usage/config error. */
export async function runCommand(argv: string[]): Promise<number> {
  // Process start (performance.timeOrigin) to here: Node, tsx and the CLI's modules.
  const startupMs = performance.now();
  const p = parseArgs(argv, RUN_SPEC.flags);
  if (p.positional.length) throw new UsageError(`run takes no positional arguments (got ${p.positional.join(' ')})`);
  const adapters = await selectionOf(p);
  const shardText = str(p, 'shard');
  const shard = shardText === undefined ? null : parseShard(shardText);
  const timeoutS = positiveNumber(str(p, 'timeout'), 'timeout', DEFAULT_TIMEOUT_S);
  const jobs = positiveNumber(str(p, 'jobs'), 'jobs', DEFAULT_JOBS, true);
  const factor = positiveNumber(str(p, 'regression-factor'), 'regression-factor', DEFAULT_REGRESSION_FACTOR);
  if (factor < 1)
    throw new UsageError(`--regression-factor must be >= 1 (the allowed growth of the error), got ${factor}`);
  const fixturesDir = path.resolve(
    str(p, 'fixtures') ?? baselineSetFixtures(str(p, 'baseline-set'), str(p, 'baselines-dir')) ?? FIXTURES_DIR,
  );

  let baseline: { path: string; report: ConformanceReport } | undefined;
  const baselinePath = str(p, 'baseline');
  if (baselinePath !== undefined) {
    try {
      baseline = { path: baselinePath, report: readReport(baselinePath) };
    } catch (err) {
      if (err instanceof ReportReadError) return configError(`--baseline: ${err.message}`);
      throw err;
    }
  }

  // A bench result to embed in the report's perf section (read first: a bad file is a usage error, not a wasted run).
  let bench: { report: BenchReport; source: string } | undefined;
  const benchPath = str(p, 'bench');
  if (benchPath !== undefined) {
    try {
      bench = { report: readBenchFile(benchPath), source: benchPath };
    } catch (err) {
      if (err instanceof BenchReadError) return configError(`--bench: ${err.message}`);
      throw err;
    }
  }

  const runId = makeRunId(new Date(), shard);
  const outDir = path.resolve(str(p, 'out') ?? path.join('reports', runId));
  const tty = Boolean(process.stdout.isTTY);
  const write = (line: string) => process.stdout.write(`${line}\n`);

  // One writer per folder: a second run into the same --out is refused, not silently interleaved.
  let releaseLock: () => void;
  try {
    releaseLock = acquireOutDirLock(outDir, runId, (s) => process.stderr.write(`resnet-conformance run: ${s}\n`));
  } catch (err) {
    if (err instanceof OutDirBusyError) return configError(`--out: ${err.message}`);
    throw err;
  }
  // Also on process.exit (the signal handler exits once the workers are stopped).
  process.once('exit', releaseLock);

  // SIGINT (Ctrl-C) and SIGTERM (a CI runner's cancel, a container stop) alike: the workers are
  // stopped (their external programs' groups killed), nothing that looks like a complete report is
  // left, exit 130 / 143.
  let interrupted: Promise<never> | undefined;
  const releaseSignals = ownTermination((signal) => {
    if (interrupted) return;
    const what = signal === 'SIGINT' ? 'interrupted' : `terminated (${signal})`;
    interrupted = stopAllWorkers().then(() => {
      process.stderr.write(`\n${what}: workers stopped; no complete report in ${outDir}\n`);
      return process.exit(signalExitCode(signal));
    });
  });
  try {
    prepareOutDir(outDir);
    write(
      `resnet-conformance run ${runId}: ${adapters.entries.length} adapter(s) [${adapters.entries.map((e) => e.id).join(', ')}]${shard ? `, shard ${shard.index}/${shard.count}` : ''}, up to ${jobs} at once`,
    );
    let report: ConformanceReport;
    try {
      report = await runConformance({
        fixturesDir,
        adapters,
        cases: str(p, 'cases'),
        shard,
        timeoutS,
        jobs,
        regressionFactor: factor,
        baseline,
        runId,
        historyDir: path.dirname(outDir),
        progress: progressPrinter({ mode: progressMode(process.env, tty), write }),
        verbose: bool(p, 'verbose'),
        startupMs,
        diagnose: !bool(p, 'no-diagnose'),
      });
    } catch (err) {
      if (err instanceof FixtureError) return configError(`bad fixtures: ${err.message}`);
      throw err;
    }
    if (interrupted) return await interrupted;
    writeReportDir(outDir, report.runId, REPORT_SCHEMA_VERSION, renderWithPerf(report, bench));
    printSummary(report, displayDir(outDir), write);
    return report.summary.exitCode;
  } finally {
    releaseSignals();
    process.removeListener('exit', releaseLock);
    releaseLock();
    // Leave an empty out dir only if nothing was written into it.
    try {
      if (fs.readdirSync(outDir).length === 0) fs.rmdirSync(outDir);
    } catch {
      /* not created or not empty */
    }
  }
}
