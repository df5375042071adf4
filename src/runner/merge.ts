/**
 * Combines reports of disjoint parts (shards, or per-device CI jobs) into one report. The parts must
 * share the schema version and the fixtures (same manifest digest); an adapter × case may appear in
 * only one part. Each result keeps a pointer to the part (run, machine) that produced it.
 *
 * The set must also be whole (setProblems): every shard 1/n .. n/n of the runs over the same adapters,
 * one shard count per run, the same --cases in every part, the same baseline (or none) in every
 * report. Otherwise the merge is refused, unless allowPartial: then the merged report carries
 * `partial` with the reasons, and its verdict is 'fail' (summarize): a partial result is never a pass.
 * The merged run id and times are those of the whole (src/runner/run-id.ts mergedRunId).
 */
import { UsageError } from '../util/errors';
import {
  REPORT_SCHEMA_VERSION,
  type AdapterReport,
  type BaselineInfo,
  type CaseInfo,
  type CaseResult,
  type ConformanceReport,
} from '../report/schema';
import { mergedRunId } from './run-id';
import { countsFor, summarize } from './summary';

export class MergeError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

export interface MergeOptions {
  /** Merge an incomplete or mixed set anyway; the report is marked partial (and fails). */
  allowPartial?: boolean;
}

const show = (v: unknown) => (v === null || v === undefined ? 'none' : JSON.stringify(v));

/**
 * What makes the set of parts not one whole run, one line each (empty when whole): shards missing or
 * given twice, shards of different counts over the same adapters, different --cases, different baselines.
 */
export function setProblems(reports: readonly ConformanceReport[], names: readonly string[]): string[] {
  const problems: string[] = [];
  const parts = reports.flatMap((r, i) => r.parts.map((p) => ({ p, name: names[i] })));
  const casesOf = new Map<string, string[]>();
  for (const { p, name } of parts) {
    const c = show(p.options.cases);
    casesOf.set(c, [...(casesOf.get(c) ?? []), name]);
  }
  if (casesOf.size > 1)
    problems.push(
      `parts ran on different case selections (--cases): ${[...casesOf].map(([c, n]) => `${c} in ${[...new Set(n)].join(', ')}`).join('; ')}`,
    );
  const baselines = new Map<string, string[]>();
  reports.forEach((r, i) => {
    const b = r.baseline ? r.baseline.runId : 'none';
    baselines.set(b, [...(baselines.get(b) ?? []), names[i]]);
  });
  if (baselines.size > 1)
    problems.push(
      `parts were compared with different baselines: ${[...baselines].map(([b, n]) => `${b} in ${n.join(', ')}`).join('; ')}`,
    );
  // Shards of the runs over the same adapters must be 1/n .. n/n of one n, each once.
  const groups = new Map<string, { index: number; count: number; name: string }[]>();
  for (const { p, name } of parts) {
    const s = p.options.shard;
    if (!s || s.count <= 1) continue;
    const key = p.options.adapters.join(',');
    groups.set(key, [...(groups.get(key) ?? []), { ...s, name }]);
  }
  for (const [adapters, shards] of groups) {
    const who = `shards over adapters ${adapters}`;
    const counts = [...new Set(shards.map((s) => s.count))];
    if (counts.length > 1) {
      problems.push(
        `${who} are of different counts: ${shards.map((s) => `${s.index}/${s.count} (${s.name})`).join(', ')}`,
      );
      continue;
    }
    const n = counts[0];
    for (let i = 1; i <= n; i++) {
      const have = shards.filter((s) => s.index === i);
      if (have.length === 0) problems.push(`${who}: shard ${i}/${n} is missing`);
      else if (have.length > 1)
        problems.push(`${who}: shard ${i}/${n} is given ${have.length} times (${have.map((s) => s.name).join(', ')})`);
    }
  }
  return problems;
}

export function mergeReports(
  reports: ConformanceReport[],
  names: string[] = reports.map((_, i) => `#${i + 1}`),
  opts: MergeOptions = {},
): ConformanceReport {
  if (reports.length === 0) throw new MergeError('merge needs at least one report');
  const first = reports[0];
  for (const [i, r] of reports.entries()) {
    if (r.schemaVersion !== REPORT_SCHEMA_VERSION)
      throw new MergeError(`${names[i]}: schemaVersion ${r.schemaVersion}, expected ${REPORT_SCHEMA_VERSION}`);
    // Not even with allowPartial: the merged report names one fixture manifest its results were judged on.
    if (r.fixtures.sha256 !== first.fixtures.sha256) {
      throw new MergeError(
        `${names[i]} ran on different fixtures (manifest sha256 ${r.fixtures.sha256.slice(0, 12)}…) than ${names[0]} (${first.fixtures.sha256.slice(0, 12)}…)`,
      );
    }
  }
  // Judged on the parts themselves, so a partial merge given again with its missing shard is whole.
  const problems = setProblems(reports, names);

  const parts: ConformanceReport['parts'] = [];
  const results: CaseResult[] = [];
  const owner = new Map<string, string>();
  const adapters = new Map<string, AdapterReport>();
  const adapterOrder: string[] = [];
  const cases = new Map<string, CaseInfo>();
  const caseOrder: string[] = [];
  let baseline: BaselineInfo | null = null;

  for (const [i, r] of reports.entries()) {
    const offset = parts.length;
    parts.push(...r.parts);
    for (const res of r.results) {
      const key = `${res.adapter}\u0000${res.case}`;
      const prev = owner.get(key);
      if (prev !== undefined)
        throw new MergeError(
          `${res.adapter} × ${res.case} is in both ${prev} and ${names[i]}: parts must be disjoint (different --shard i/n of the same n, or different adapters)`,
        );
      owner.set(key, names[i]);
      results.push({ ...res, part: res.part + offset });
    }
    for (const a of r.adapters) {
      const mapped = a.parts.map((p) => p + offset);
      const have = adapters.get(a.id);
      if (!have) {
        adapters.set(a.id, { ...a, parts: mapped });
        adapterOrder.push(a.id);
      } else {
        have.parts.push(...mapped);
        have.durationMs += a.durationMs;
        if (have.probeMs !== undefined || a.probeMs !== undefined)
          have.probeMs = have.probeMs === undefined || a.probeMs === undefined ? undefined : have.probeMs + a.probeMs;
        if (have.exitMs !== undefined || a.exitMs !== undefined)
          have.exitMs = have.exitMs === undefined || a.exitMs === undefined ? undefined : have.exitMs + a.exitMs;
        have.explicitlyRequested ||= a.explicitlyRequested;
        if (!have.available && a.available) {
          have.available = true;
          delete have.unavailableReason;
          delete have.fix;
        }
        have.description ??= a.description;
        if (a.worker) {
          have.worker = have.worker
            ? {
                processes: have.worker.processes + a.worker.processes,
                exits: [...have.worker.exits, ...a.worker.exits],
                ...(have.worker.stderrTail || a.worker.stderrTail
                  ? { stderrTail: have.worker.stderrTail ?? a.worker.stderrTail }
                  : {}),
              }
            : a.worker;
        }
      }
    }
    for (const c of r.cases) {
      if (!cases.has(c.id)) {
        cases.set(c.id, c);
        caseOrder.push(c.id);
      }
    }
    if (r.baseline) {
      if (!baseline) baseline = { ...r.baseline };
      // Another baseline (allowPartial only; setProblems named it): its counts are not this one's.
      else if (baseline.runId === r.baseline.runId) {
        baseline.regressed += r.baseline.regressed;
        baseline.newlyFailing += r.baseline.newlyFailing;
        baseline.improved += r.baseline.improved;
        baseline.newPairs += r.baseline.newPairs;
        baseline.missingPairs += r.baseline.missingPairs;
      }
    }
  }

  // After the disjointness check above (a part given twice is named as such), before anything is built.
  if (problems.length && !opts.allowPartial) {
    throw new MergeError(
      `not one whole run: ${problems.join('; ')}. Merge anyway with --allow-partial (the merged report is marked partial and fails)`,
    );
  }

  // Canonical order: adapters as first seen, cases by the first report's case order (then new ones).
  const caseIndex = new Map(caseOrder.map((c, i) => [c, i]));
  results.sort(
    (a, b) =>
      adapterOrder.indexOf(a.adapter) - adapterOrder.indexOf(b.adapter) ||
      caseIndex.get(a.case)! - caseIndex.get(b.case)!,
  );
  const adapterList = adapterOrder.map((id) => {
    const a = adapters.get(id)!;
    return { ...a, counts: countsFor(results, id) };
  });
  const runId = reports.length === 1 ? first.runId : mergedRunId(parts);
  const partial = problems.length ? { reasons: problems } : undefined;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: first.tool,
    runId,
    createdAt: new Date().toISOString(),
    fixtures: first.fixtures,
    parts,
    cases: caseOrder.map((c) => cases.get(c)!),
    adapters: adapterList,
    results,
    baseline,
    ...(partial ? { partial } : {}),
    summary: summarize(results, adapterList, partial),
  };
}
