/**
 * `bench`: ResNet-50 forward latency per adapter against the machine's MatMul ceiling
 * (src/bench/run-bench.ts); `bench --compare a.json b.json`: latency regressions between two bench
 * results beyond the noise band; `bench --harness`: the cost of a conformance run split by phase.
 * Exit codes: 0 done (compare: no regression), 1 compare found a regression, 2 usage error.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { adapterPool } from '../../adapters/pool';
import { selectAdapters, type AdapterSelection } from '../../adapters/select';
import {
  CEILING_RUNTIMES,
  DEFAULT_CEILING_N,
  DEFAULT_CEILING_RUNTIMES,
  type CeilingRuntime,
} from '../../calibration/ceiling';
import { compareBench } from '../../bench/compare';
import { benchComparisonText, readBenchPair } from '../../bench/compare-files';
import { DEFAULT_RUN_POLICY, type RunPolicy } from '../../util/measure';
import { harnessBreakdown } from '../../report/overhead';
import { benchDigest, perfMarkdown, perfSection, perfText } from '../../report/perf-section';
import { layersMarkdown, layersText } from '../../bench/layers';
import { DEFAULT_BATCHES, runBench } from '../../bench/run-bench';
import { noiseProfile } from '../../calibration/noise-profile';
import { readBenchFile } from '../../bench/read';
import { BenchReadError } from '../../bench/schema';
import { stopBenchWorkers } from '../../bench/spawn';
import { median } from '../../util/stats';
import { packageRoot } from '../../environment/run-info';
import { readReport } from '../../report/read';
import { writeFileAtomic } from '../../util/fs';
import { ownTermination, signalExitCode } from '../../util/signals';
import { UsageError, bool, int, intList, list, parseArgs, str, type ParsedArgs } from '../args';
import { adapterSourcesFromFlags } from '../adapter-sources';
import { BENCH_SPEC } from '../specs';
import { benchCompareOptions } from './bench-compare-options';

async function selectionOf(p: ParsedArgs): Promise<AdapterSelection> {
  return selectAdapters(
    'bench',
    str(p, 'adapters'),
    await adapterPool(adapterSourcesFromFlags(p, Math.max(1, int(p, 'timeout') ?? 600))),
  );
}

/** `--adapters` / `--adapter-module` as `bench` resolves them (through selectAdapters). */
export async function adapterSelection(argv: string[]): Promise<AdapterSelection> {
  return selectionOf(parseArgs(argv, BENCH_SPEC.flags));
}

function nonNegInt(v: number | undefined, name: string): number | undefined {
  if (v !== undefined && v < 0) throw new UsageError(`--${name} must be >= 0, got ${v}`);
  return v;
}

function compareMode(positional: string[], p: ReturnType<typeof parseArgs>): number {
  if (positional.length !== 2)
    throw new UsageError(`bench --compare takes two bench results (before, after), got ${positional.length}`);
  const { floor, normalize, profileFile } = benchCompareOptions(p);
  const { a, b, profile } = readBenchPair(positional[0], positional[1], profileFile);
  const c = compareBench(a, b, { floor, normalize, profile });
  const jsonOut = str(p, 'json-out');
  if (jsonOut) writeFileAtomic(jsonOut, `${JSON.stringify(c, null, 2)}\n`);
  if (bool(p, 'json')) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
  else process.stdout.write(benchComparisonText(c, positional[0], positional[1], profileFile));
  return c.exitCode;
}

function noiseMode(positional: string[], p: ReturnType<typeof parseArgs>): number {
  if (positional.length < 2)
    throw new UsageError(`bench --noise takes at least two bench results of the same code, got ${positional.length}`);
  const profile = noiseProfile(positional.map(readBenchFile), positional);
  const jsonOut = str(p, 'json-out');
  if (jsonOut) writeFileAtomic(jsonOut, `${JSON.stringify(profile, null, 2)}\n`);
  if (bool(p, 'json')) {
    process.stdout.write(`${JSON.stringify(profile, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`noise between ${positional.length} bench runs (max/min − 1 of the medians):\n`);
  const w = Math.max(...profile.rows.map((r) => r.adapter.length));
  for (const r of profile.rows) {
    process.stdout.write(
      `  ${r.adapter.padEnd(w)}  batch ${String(r.batch).padStart(3)}  ${r.normalized ? 'relative to the ceiling' : 'raw latency           '}  ${(r.band * 100).toFixed(1)}%\n`,
    );
  }
  if (jsonOut)
    process.stdout.write(
      `Noise profile: ${jsonOut} (use with bench --compare a.json b.json --noise-profile ${jsonOut})\n`,
    );
  return 0;
}

function ceilingRuntimes(text: string | undefined): CeilingRuntime[] {
  if (text === undefined) return [...DEFAULT_CEILING_RUNTIMES];
  const ids = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = ids.filter((x) => !(CEILING_RUNTIMES as readonly string[]).includes(x));
  if (ids.length === 0 || bad.length)
    throw new UsageError(`--ceiling-runtimes takes a list of ${CEILING_RUNTIMES.join(', ')}; got '${text}'`);
  return ids as CeilingRuntime[];
}

/** Median wall time of `node bin/resnet-conformance.cjs --help`: the start-up cost of one CLI process. */
export function measureCliStartup(repeats = 5): number {
  const bin = path.join(packageRoot(), 'bin', 'resnet-conformance.cjs');
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    execFileSync(process.execPath, [bin, '--help'], { stdio: 'ignore' });
    times.push(performance.now() - t);
  }
  return median(times);
}

function splitArgs(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(/\s+/).filter(Boolean);
}

async function harnessMode(p: ReturnType<typeof parseArgs>, after: string[] | null): Promise<number> {
  if (after && str(p, 'run-args') !== undefined)
    throw new UsageError('give the run options either after -- or with --run-args=..., not both');
  const extra = after ? [...after] : splitArgs(str(p, 'run-args'));
  // The run's report goes to --out when the run args name one (kept), else to a temporary directory (removed).
  const outAt = extra.indexOf('--out');
  if (outAt >= 0 && extra[outAt + 1] === undefined) throw new UsageError('--run-args: --out needs a directory');
  const keep = outAt >= 0;
  const out = keep
    ? path.resolve(extra[outAt + 1])
    : fs.mkdtempSync(path.join(os.tmpdir(), 'resnet-conformance-harness-'));
  if (keep) extra.splice(outAt, 2);
  const bin = path.join(packageRoot(), 'bin', 'resnet-conformance.cjs');
  try {
    const startupMs = measureCliStartup();
    process.stderr.write(`CLI start-up (node + tsx + CLI, median of 5 × --help): ${startupMs.toFixed(0)} ms\n`);
    process.stderr.write(`running: resnet-conformance run ${[...extra, '--out', out].join(' ')}\n`);
    const t = performance.now();
    const r = spawnSync(process.execPath, [bin, 'run', ...extra, '--out', out], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const wallMs = performance.now() - t;
    if (r.status !== 0 && r.status !== 1) {
      process.stderr.write(
        `resnet-conformance bench --harness: the run exited with ${r.status ?? r.signal}; no breakdown\n`,
      );
      return 2;
    }
    const report = readReport(out);
    const h = harnessBreakdown(report, { wallMs, startupMs });
    const result = { runArgs: extra, startupMs, harness: h };
    if (bool(p, 'json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else
      process.stdout.write(`\n${perfMarkdown(perfSection(null, h), '## Harness overhead of one conformance run')}\n`);
    const jsonOut = str(p, 'json-out');
    if (jsonOut) writeFileAtomic(jsonOut, `${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } finally {
    if (!keep) fs.rmSync(out, { recursive: true, force: true });
  }
}

export async function benchCommand(argvAll: string[]): Promise<number> {
  // `bench --harness -- <run options>`: everything after `--` goes to the conformance run.
  const dd = argvAll.indexOf('--');
  const argv = dd >= 0 ? argvAll.slice(0, dd) : argvAll;
  const after = dd >= 0 ? argvAll.slice(dd + 1) : null;
  const p = parseArgs(argv, BENCH_SPEC.flags);
  // `--json FILE` was the file writer before --json meant "JSON on stdout" in every command.
  const jsonFile = bool(p, 'json') ? p.positional.find((a) => a.endsWith('.json') && !fs.existsSync(a)) : undefined;
  if (jsonFile)
    throw new UsageError(
      `--json prints the result as JSON on stdout (in every command); to write it to ${jsonFile} use --json-out ${jsonFile}`,
    );
  try {
    if (bool(p, 'compare')) return compareMode(p.positional, p);
    if (bool(p, 'noise')) return noiseMode(p.positional, p);
    if (p.positional.length)
      throw new UsageError(`unexpected argument '${p.positional[0]}' (bench results to compare need --compare)`);
    if (after && !bool(p, 'harness'))
      throw new UsageError('arguments after -- are conformance run options and need --harness');
    if (bool(p, 'harness')) return await harnessMode(p, after);
  } catch (err) {
    if (err instanceof BenchReadError || (err as Error).name === 'ReportReadError') {
      process.stderr.write(`resnet-conformance bench: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }

  const selection = await selectionOf(p);
  const batches = intList(p, 'batch') ?? DEFAULT_BATCHES;
  if (batches.some((b) => b < 1)) throw new UsageError(`--batch sizes must be >= 1, got ${str(p, 'batch')}`);
  const runs = nonNegInt(int(p, 'runs'), 'runs');
  if (runs === 0) throw new UsageError('--runs must be >= 1');
  const policy: RunPolicy = { ...DEFAULT_RUN_POLICY };
  const warmup = nonNegInt(int(p, 'warmup'), 'warmup');
  if (warmup !== undefined) policy.warmup = warmup;
  if (runs !== undefined) policy.runs = runs;
  const minTime = nonNegInt(int(p, 'min-time-ms'), 'min-time-ms');
  if (minTime !== undefined) policy.minTimeMs = minTime;
  const ceilingN = int(p, 'ceiling-n') ?? DEFAULT_CEILING_N;
  if (ceilingN < 16) throw new UsageError(`--ceiling-n must be >= 16, got ${ceilingN}`);
  const timeoutS = int(p, 'timeout') ?? 600;
  if (timeoutS < 1) throw new UsageError(`--timeout must be >= 1 (seconds per worker), got ${timeoutS}`);
  const jsonOut = str(p, 'json-out');
  const mdOut = str(p, 'md');

  // SIGINT and SIGTERM alike (src/util/signals.ts): workers stopped, exit 130 / 143.
  let stopping = false;
  const releaseSignals = ownTermination((signal) => {
    if (stopping) return;
    stopping = true;
    void stopBenchWorkers().then(() => {
      process.stderr.write(
        `\n${signal === 'SIGINT' ? 'interrupted' : `terminated (${signal})`}: bench workers stopped\n`,
      );
      process.exit(signalExitCode(signal));
    });
  });
  try {
    process.stderr.write(
      `resnet-conformance bench: ${selection.entries.map((e) => e.id).join(', ')}; batch ${batches.join(', ')}\n`,
    );
    const report = await runBench({
      adapters: selection.entries,
      selection: selection.mode,
      adapterModules: selection.modules,
      adapterCommands: selection.commands,
      batches,
      policy,
      ceiling: !bool(p, 'no-ceiling'),
      pairedCeiling: !bool(p, 'no-paired-ceiling'),
      ceilingN,
      ceilingRuntimes: ceilingRuntimes(str(p, 'ceiling-runtimes')),
      timeoutS,
      verbose: bool(p, 'verbose'),
      layers: bool(p, 'layers'),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    const digest = benchDigest(report, jsonOut ?? null);
    if (bool(p, 'json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else
      process.stdout.write(
        `\nResNet-50 ${report.model.inputShape.join('x')} forward, ${(report.model.flopsPerImage / 1e9).toFixed(3)} GFLOP per image ` +
          `(${(report.durationMs / 1000).toFixed(1)} s)\n${perfText(digest)}\n`,
      );
    const layers = layersText(report);
    if (layers && !bool(p, 'json')) process.stdout.write(`\n${layers}\n`);
    if (jsonOut) {
      writeFileAtomic(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
      if (!bool(p, 'json')) process.stdout.write(`Bench JSON: ${jsonOut}\n`);
    }
    if (mdOut) {
      const stageMd = layersMarkdown(report);
      writeFileAtomic(
        mdOut,
        `${perfMarkdown(perfSection({ report, source: jsonOut ?? null }, null), '# ResNet-50 benchmark')}\n${stageMd ? `\n${stageMd}` : ''}`,
      );
      if (!bool(p, 'json')) process.stdout.write(`Markdown: ${mdOut}\n`);
    }
    return 0;
  } finally {
    releaseSignals();
  }
}
