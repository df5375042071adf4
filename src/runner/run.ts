/**
 * One conformance run: select adapters × cases (and a shard of them), run every adapter in its own
 * worker, and assemble the canonical report (src/report/schema.ts), with the baseline applied.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FixtureError, loadCaseTensors, loadManifest, modelKey } from '../golden/load';
import type { FixtureCase, FixtureManifest } from '../golden/manifest';
import { MANIFEST_FILE } from '../golden/paths';
import { collectRunInfo, packageRoot, toolVersion } from '../environment/run-info';
import {
  REPORT_SCHEMA_VERSION,
  type AdapterReport,
  type CaseInfo,
  type CaseResult,
  type ConformanceReport,
  type RunOptionsRecord,
} from '../report/schema';
import { packageStates } from '../adapters/runtime-packages';
import type { RunProgressSink } from './progress';
import { sha256 } from '../util/fs';
import { buildModel, type ModelArgs } from '../model/model-args';
import type { AdapterSelection } from '../adapters/select';
import { notApplicableReason } from '../adapters/inference-only';
import { applyBaseline, regressionWatchFor } from './regression';
import { filterCases } from './case-filter';
import { runAdapterJobs, WORKER_FILE, workerUnitKey, type AdapterJob, type ProgressSink } from './orchestrator';
import { workerLaunch } from '../workers/precompiled-worker';
import { historicalDurations, orderByHistory } from './schedule';
import { allPairs, shardPairs, type Shard } from './shard';
import { countsFor, summarize } from './summary';
import { ensureCachedWeights, type EnsureOutcome, type WeightCacheOptions } from '../init/weight-cache';

export interface RunConfig {
  fixturesDir: string;
  adapters: AdapterSelection;
  cases?: string;
  shard: Shard | null;
  timeoutS: number;
  jobs: number;
  regressionFactor: number;
  baseline?: { path: string; report: ConformanceReport };
  runId: string;
  /** Folder whose newest complete report orders the workers (slowest first); see ./schedule. */
  historyDir?: string;
  progress?: ProgressSink;
  verbose?: boolean;
  /** Process start to the run command starting (parts[].timings.startupMs); 0 when not measured. */
  startupMs?: number;
  /** Diagnose every 'fail-numeric' case per layer (results[].diagnosis); default true. */
  diagnose?: boolean;
}

/** Reads the manifest and every tensor of the selected cases (digest, shape, dtype). Throws FixtureError. */
export function loadAndCheckFixtures(
  dir: string,
  casesPattern: string | undefined,
): { manifest: FixtureManifest; cases: FixtureCase[]; manifestText: string } {
  const manifest = loadManifest(dir);
  const manifestText = fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8');
  const ids = filterCases(
    manifest.cases.map((k) => k.id),
    casesPattern,
  );
  const cases = manifest.cases.filter((k) => ids.includes(k.id));
  for (const k of cases) loadCaseTensors(dir, k);
  return { manifest, cases, manifestText };
}

export function describeModel(args: ModelArgs): string {
  const parts: string[] = [args.model];
  if (args.inputShape) parts.push(args.inputShape.join('×'));
  if (args.classes !== undefined) parts.push(`${args.classes} classes`);
  if (args.f !== undefined) parts.push(`f=${args.f}`);
  if (args.filters) parts.push(`filters=[${args.filters.join(',')}]`);
  if (args.s !== undefined) parts.push(`s=${args.s}`);
  if (args.initializer) parts.push(args.initializer);
  return parts.join(' ');
}

export function caseInfos(cases: FixtureCase[]): CaseInfo[] {
  const specs = new Map<string, ReturnType<typeof buildModel> | null>();
  return cases.map((k) => {
    const key = modelKey(k.model);
    if (!specs.has(key)) {
      try {
        specs.set(key, buildModel(k.model));
      } catch {
        specs.set(key, null);
      }
    }
    const spec = specs.get(key);
    const captured = new Set(Object.keys(k.expected.intermediates ?? {}));
    if (k.expected.output && spec) captured.add(spec.output);
    const boundaries = spec ? spec.boundaries.filter((b) => captured.has(b.layer)).map((b) => b.label) : [];
    return {
      id: k.id,
      caseClass: k.caseClass,
      model: describeModel(k.model),
      modelArgs: { ...k.model },
      training: k.training,
      inputShape: [...k.input.shape],
      boundaries,
      source: { ...k.source },
      description: k.description,
      fixtureSha256: sha256(JSON.stringify(k)),
    };
  });
}

/**
 * Computes into the weight cache, before any worker starts, the initial weights of every model that
 * two or more adapter jobs will build (src/init/weight-cache.ts ensureCachedWeights): on a cold
 * cache the concurrent workers would otherwise each compute them. Models one job builds are left to
 * that worker. Nothing to do (a header read) when the cache already has them.
 */
export function prepareSharedWeights(
  jobs: ReadonlyArray<Pick<AdapterJob, 'cases'>>,
  cases: readonly FixtureCase[],
  opts: WeightCacheOptions = {},
): Array<{ model: string; jobs: number; outcome: EnsureOutcome | 'one-job' | 'error' }> {
  const byId = new Map(cases.map((k) => [k.id, k]));
  const users = new Map<string, { args: ModelArgs; jobs: number }>();
  for (const j of jobs) {
    const seen = new Set<string>();
    for (const id of j.cases) {
      const k = byId.get(id);
      if (!k) continue;
      const key = modelKey(k.model);
      if (seen.has(key)) continue;
      seen.add(key);
      const u = users.get(key) ?? { args: k.model, jobs: 0 };
      u.jobs++;
      users.set(key, u);
    }
  }
  return [...users.values()].map((u) => {
    const model = describeModel(u.args);
    if (u.jobs < 2) return { model, jobs: u.jobs, outcome: 'one-job' as const };
    try {
      return { model, jobs: u.jobs, outcome: ensureCachedWeights(buildModel(u.args), opts) };
    } catch {
      return { model, jobs: u.jobs, outcome: 'error' as const }; // a model that cannot be built fails in its cases, with the reason
    }
  });
}

function displayPath(file: string): string {
  const rel = path.relative(packageRoot(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export async function runConformance(cfg: RunConfig): Promise<ConformanceReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const { manifest, cases, manifestText } = loadAndCheckFixtures(cfg.fixturesDir, cfg.cases);
  const fixturesMs = performance.now() - t0;
  const adapterIds = cfg.adapters.entries.map((e) => e.id);
  const caseIds = cases.map((k) => k.id);
  const pairs = shardPairs(allPairs(adapterIds, caseIds), cfg.shard);
  const training = new Set(cases.filter((k) => k.training).map((k) => k.id));
  const jobs: AdapterJob[] = cfg.adapters.entries
    .map((entry): AdapterJob => {
      const ids = pairs.filter((p) => p.adapter === entry.id).map((p) => p.case);
      if (!entry.inferenceOnly) return { entry, cases: ids };
      return {
        entry,
        cases: ids,
        notApplicable: ids.filter((c) => training.has(c)),
        notApplicableReason: notApplicableReason(entry),
      };
    })
    .filter((j) => j.cases.length > 0);

  const ordered = cfg.historyDir
    ? orderByHistory(jobs, historicalDurations(cfg.historyDir), (j) => workerUnitKey(j.entry))
    : jobs;
  const tw = performance.now();
  prepareSharedWeights(jobs, cases);
  const weightsMs = performance.now() - tw;
  const ta = performance.now();
  const progress = cfg.progress as RunProgressSink | undefined;
  progress?.start?.(pairs.length);
  const started = await runAdapterJobs({
    fixturesDir: cfg.fixturesDir,
    adapterModules: cfg.adapters.modules,
    adapterCommands: cfg.adapters.commands,
    jobs: ordered,
    timeoutMs: cfg.timeoutS * 1000,
    concurrency: cfg.jobs,
    progress: cfg.progress,
    verbose: cfg.verbose,
    diagnose: cfg.diagnose ?? true,
    ...(cfg.baseline
      ? { regressionWatch: (a: string) => regressionWatchFor(cfg.baseline!.report, a, cfg.regressionFactor) }
      : {}),
  });
  progress?.stop?.();
  const adaptersMs = performance.now() - ta;
  const launch = await workerLaunch(WORKER_FILE); // resolved by the orchestrator already (one per process)
  const runs = [...started].sort((a, b) => adapterIds.indexOf(a.id) - adapterIds.indexOf(b.id));

  const caseOrder = new Map(caseIds.map((id, i) => [id, i]));
  const results: CaseResult[] = runs
    .flatMap((r) => r.results)
    .map((r) => ({ ...r, part: 0 }))
    .sort(
      (a, b) =>
        adapterIds.indexOf(a.adapter) - adapterIds.indexOf(b.adapter) ||
        caseOrder.get(a.case)! - caseOrder.get(b.case)!,
    );

  const adapters: AdapterReport[] = runs.map((r) => {
    const entry = cfg.adapters.entries.find((e) => e.id === r.id)!;
    const a: AdapterReport = {
      id: r.id,
      summary: entry.summary,
      profile: entry.profile,
      outOfTheBox: entry.outOfTheBox,
      explicitlyRequested: cfg.adapters.explicit.has(r.id),
      available: r.available,
      description: r.description,
      worker: r.worker,
      durationMs: r.durationMs,
      probeMs: r.probeMs,
      exitMs: r.exitMs,
      counts: countsFor(results, r.id),
      parts: [0],
    };
    if (r.unavailableReason !== undefined) a.unavailableReason = r.unavailableReason;
    if (r.fix !== undefined) a.fix = r.fix;
    if (r.knownCrash) a.knownCrash = r.knownCrash;
    // The runtime packages as this process resolves them (the worker resolves the same node_modules).
    if (entry.packages?.length) a.runtimePackages = packageStates(entry.packages);
    return a;
  });

  const options: RunOptionsRecord = {
    adapters: adapterIds,
    adapterSelection: cfg.adapters.mode,
    cases: cfg.cases ?? null,
    shard: cfg.shard,
    timeoutS: cfg.timeoutS,
    jobs: cfg.jobs,
    regressionFactor: cfg.regressionFactor,
    baseline: cfg.baseline ? cfg.baseline.path : null,
    diagnose: cfg.diagnose ?? true,
  };
  const report: ConformanceReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'resnet-conformance', version: toolVersion() },
    runId: cfg.runId,
    createdAt: new Date().toISOString(),
    fixtures: {
      manifest: displayPath(path.join(cfg.fixturesDir, MANIFEST_FILE)),
      sha256: sha256(manifestText),
      caseCount: manifest.cases.length,
    },
    parts: [
      {
        runId: cfg.runId,
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        durationMs: performance.now() - t0,
        options,
        environment: collectRunInfo(Object.fromEntries(runs.map((r) => [r.id, r.description]))),
        // reportMs is set by whoever renders and writes the report (the run command).
        timings: {
          startupMs: cfg.startupMs ?? 0,
          fixturesMs,
          weightsMs,
          adaptersMs,
          workerStartupMs: runs.reduce((s, r) => s + r.workerStartupMs, 0),
          reportMs: 0,
        },
        workers: {
          launch: launch.mode,
          ...(launch.reason ? { reason: launch.reason } : {}),
          prepareMs: launch.prepareMs,
        },
      },
    ],
    // Every selected case (before sharding), in manifest order: shards of one run list the same cases.
    cases: caseInfos(cases),
    adapters,
    results,
    baseline: null,
    summary: summarize(results, adapters),
  };
  if (cfg.baseline) {
    const whole = new Set(allPairs(adapterIds, caseIds).map((p) => `${p.adapter}\u0000${p.case}`));
    const first = !cfg.shard || cfg.shard.index === 1;
    report.baseline = applyBaseline(
      report,
      cfg.baseline.report,
      cfg.baseline.path,
      cfg.regressionFactor,
      (a, c) => first && !whole.has(`${a}\u0000${c}`),
    );
    for (const a of report.adapters) a.counts = countsFor(report.results, a.id);
    report.summary = summarize(report.results, report.adapters);
  }
  return report;
}

export { FixtureError };
