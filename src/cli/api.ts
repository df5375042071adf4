/**
 * The library API (`import { run, compare, readReport } from 'resnet-conformance'`): the same run,
 * comparison and report reading as the CLI's `run` and `compare`, as typed functions that return
 * objects instead of printing. Documented in docs/api.md.
 */
import * as path from 'path';
import { adapterPool, type AdapterCommandSource } from '../adapters/pool';
import { selectAdapters } from '../adapters/select';
import type { PrecisionProfile } from '../adapters/types';
import { DEFAULT_TIMEOUT_MS } from '../adapters/external/command';
import { FIXTURES_DIR } from '../golden/paths';
import { readReport as readReportFile } from '../report/read';
import { REPORT_SCHEMA_VERSION, type ConformanceReport } from '../report/schema';
import { writeReportDir } from '../report/write';
import { progressPrinter } from '../runner/progress';
import { DEFAULT_REGRESSION_FACTOR, diffReports, type ReportDiff } from '../runner/regression';
import { runConformance } from '../runner/run';
import { makeRunId } from '../runner/run-id';
import { parseShard } from '../runner/shard';
import { DEFAULT_JOBS, DEFAULT_TIMEOUT_S, renderWithPerf } from './commands/run';

/** An external protocol program (docs/adapter-protocol.md), as `--adapter-command` and its companion flags. */
export interface AdapterCommandOption {
  /** The command line (split like a shell does, without expansion; no shell runs it). */
  command: string;
  /** Adapter id (default: the program's hello name). */
  id?: string;
  /** Tolerance column its results are judged by (default fp32-cpu). */
  profile?: PrecisionProfile;
  /** Seconds one request may take (default: half of timeoutS, at most 300). */
  timeoutS?: number;
  /** Working directory of the program (default: process.cwd()). */
  cwd?: string;
}

/** Options of run(): the `run` command's flags as values. Every field is optional. */
export interface RunApiOptions {
  /** Adapter ids, or 'all' (default: every out-of-the-box adapter plus those of adapterModules/adapterCommands). */
  adapters?: readonly string[] | 'all';
  /** Adapter modules (files or package names) exporting `adapters: AdapterEntry[]` (`--adapter-module`). */
  adapterModules?: readonly string[];
  /** External programs speaking the adapter protocol (`--adapter-command`): a command line or its options. */
  adapterCommands?: ReadonlyArray<string | AdapterCommandOption>;
  /** Case id patterns, comma-separated (`--cases 'notebook/*,blocks/*'`; default: every case). */
  cases?: string;
  /** This shard of the adapter × case pairs: 'i/n' or { index, count } (1-based). */
  shard?: string | { index: number; count: number };
  /** Write report.json, report.md, report.html and junit.xml into this folder (default: nothing written). */
  out?: string;
  /** An earlier report (file or run folder) whose errors this run must not exceed by more than regressionFactor. */
  baseline?: string | ConformanceReport;
  /** Allowed growth of the error against the baseline (default 2). */
  regressionFactor?: number;
  /** Seconds per adapter worker (default 300). */
  timeoutS?: number;
  /** Adapter workers at once (default 2). */
  jobs?: number;
  /** Golden-data folder (default: the package's fixtures/). */
  fixturesDir?: string;
  /** Diagnose numeric failures per layer (default true). */
  diagnose?: boolean;
  /** Receives the progress lines (one per finished adapter); default: none. */
  onProgress?: (line: string) => void;
}

function commandSource(c: string | AdapterCommandOption, timeoutS: number): AdapterCommandSource {
  const o = typeof c === 'string' ? { command: c } : c;
  const s: AdapterCommandSource = {
    command: o.command,
    timeoutMs: o.timeoutS !== undefined ? o.timeoutS * 1000 : Math.min(DEFAULT_TIMEOUT_MS, (timeoutS * 1000) / 2),
  };
  if (o.id !== undefined) s.id = o.id;
  if (o.profile !== undefined) s.profile = o.profile;
  if (o.cwd !== undefined) s.cwd = path.resolve(o.cwd);
  return s;
}

/**
 * One conformance run: every selected adapter on every selected golden case. Resolves to the report
 * (src/report/schema.ts; the verdict is `report.summary.verdict`, the CLI's exit code
 * `report.summary.exitCode`). Rejects on bad options (unknown adapter, bad pattern, bad fixtures).
 */
export async function run(options: RunApiOptions = {}): Promise<ConformanceReport> {
  const timeoutS = options.timeoutS ?? DEFAULT_TIMEOUT_S;
  const pool = await adapterPool({
    modules: options.adapterModules ?? [],
    commands: (options.adapterCommands ?? []).map((c) => commandSource(c, timeoutS)),
  });
  const adaptersText =
    options.adapters === undefined
      ? undefined
      : typeof options.adapters === 'string'
        ? options.adapters
        : options.adapters.join(',');
  const adapters = selectAdapters('run', adaptersText, pool);
  const shard =
    options.shard === undefined
      ? null
      : typeof options.shard === 'string'
        ? parseShard(options.shard)
        : parseShard(`${options.shard.index}/${options.shard.count}`);
  const baseline =
    options.baseline === undefined
      ? undefined
      : typeof options.baseline === 'string'
        ? { path: options.baseline, report: readReportFile(options.baseline) }
        : { path: `(report ${options.baseline.runId})`, report: options.baseline };
  const runId = makeRunId(new Date(), shard);
  const report = await runConformance({
    fixturesDir: path.resolve(options.fixturesDir ?? FIXTURES_DIR),
    adapters,
    cases: options.cases,
    shard,
    timeoutS,
    jobs: options.jobs ?? DEFAULT_JOBS,
    regressionFactor: options.regressionFactor ?? DEFAULT_REGRESSION_FACTOR,
    baseline,
    runId,
    ...(options.out ? { historyDir: path.dirname(path.resolve(options.out)) } : {}),
    ...(options.onProgress ? { progress: progressPrinter({ tty: false, write: options.onProgress }) } : {}),
    diagnose: options.diagnose ?? true,
  });
  const files = renderWithPerf(report);
  if (options.out) writeReportDir(path.resolve(options.out), report.runId, REPORT_SCHEMA_VERSION, files);
  return report;
}

/** What changed from report `a` to report `b` (the `compare` command's result). */
export interface ReportComparison extends ReportDiff {
  from: string;
  to: string;
  factor: number;
}

/**
 * Differences from report `a` to report `b`: status changes, error growth or shrinkage beyond the
 * factor (default 2), pairs only in one of them. `regressions > 0` is what makes `compare` exit 1.
 * Each argument is a report object or a path (report.json or its run folder).
 */
export function compare(
  a: ConformanceReport | string,
  b: ConformanceReport | string,
  options: { regressionFactor?: number } = {},
): ReportComparison {
  const ra = typeof a === 'string' ? readReportFile(a) : a;
  const rb = typeof b === 'string' ? readReportFile(b) : b;
  const factor = options.regressionFactor ?? DEFAULT_REGRESSION_FACTOR;
  if (!(factor >= 1)) throw new RangeError(`regressionFactor must be >= 1, got ${factor}`);
  return { from: ra.runId, to: rb.runId, factor, ...diffReports(ra, rb, factor) };
}

/**
 * The report in a run folder (its report.json) or a report.json file, checked and upgraded from
 * older schema versions. Throws ReportReadError (name 'ReportReadError') naming the file and what is wrong.
 */
export function readReport(dirOrFile: string): ConformanceReport {
  return readReportFile(dirOrFile);
}
