/**
 * Combines reports of disjoint parts (shards, or per-device CI jobs) into one report. The parts must
 * share the schema version and the fixtures (same manifest digest); an adapter × case may appear in
 * only one part. Each result keeps a pointer to the part (run, machine) that produced it.
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
import { countsFor, summarize } from './summary';

export class MergeError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

export function mergeReports(
  reports: ConformanceReport[],
  names: string[] = reports.map((_, i) => `#${i + 1}`),
): ConformanceReport {
  if (reports.length === 0) throw new MergeError('merge needs at least one report');
  const first = reports[0];
  for (const [i, r] of reports.entries()) {
    if (r.schemaVersion !== REPORT_SCHEMA_VERSION)
      throw new MergeError(`${names[i]}: schemaVersion ${r.schemaVersion}, expected ${REPORT_SCHEMA_VERSION}`);
    if (r.fixtures.sha256 !== first.fixtures.sha256) {
      throw new MergeError(
        `${names[i]} ran on different fixtures (manifest sha256 ${r.fixtures.sha256.slice(0, 12)}…) than ${names[0]} (${first.fixtures.sha256.slice(0, 12)}…)`,
      );
    }
  }

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
      else {
        if (baseline.runId !== r.baseline.runId)
          throw new MergeError(
            `${names[i]} was compared with baseline ${r.baseline.runId}, ${names[0]} with ${baseline.runId}`,
          );
        baseline.regressed += r.baseline.regressed;
        baseline.newlyFailing += r.baseline.newlyFailing;
        baseline.improved += r.baseline.improved;
        baseline.newPairs += r.baseline.newPairs;
        baseline.missingPairs += r.baseline.missingPairs;
      }
    }
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
  const runId = reports.length === 1 ? first.runId : `merged-${first.runId}`;
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
    summary: summarize(results, adapterList),
  };
}
