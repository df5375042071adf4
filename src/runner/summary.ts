/**
 * The verdict of a report, from its results alone (so `merge` and `--baseline` can recompute it).
 *
 * Exit code 1 (verdict 'fail') when the report is partial (`merge --allow-partial` of an incomplete or
 * mixed set of parts), or when any result is regressed, unexpected-match, fail-numeric,
 * fail-shape, error, crashed or timeout, or is unavailable for an adapter that was named explicitly
 * in --adapters. Expected divergences, unavailable adapters picked by default or by `--adapters all`,
 * and skipped cases do not fail the run (they are listed in every report with the reason, and the
 * fix where there is one).
 */
import {
  FAILING_STATUSES,
  emptyCounts,
  type AdapterReport,
  type CaseResult,
  type CaseStatus,
  type CheckResult,
  type PartialInfo,
  type ReportSummary,
} from '../report/schema';
import { metricRank } from '../compare/metrics';
import { layerToName } from '../report/diagnosis-text';
import { formatNumber } from '../util/format';

const MAX_FAILURE_LINES = 200;

/** "adapter × case: status — reason", with the layer the diagnosis names (src/report/diagnosis-text.ts) before the reason, so a cut line keeps it. */
export function describeFailure(r: CaseResult): string {
  const layer = layerToName(r);
  return `${r.adapter} × ${r.case}: ${r.status}${r.regression?.kind === 'newly-failing' ? ' (newly failing)' : ''} — ${layer ? `${layer} — ` : ''}${r.reason}`;
}

export function summarize(
  results: readonly CaseResult[],
  adapters: readonly AdapterReport[],
  partial?: PartialInfo,
): ReportSummary {
  const byStatus: Record<CaseStatus, number> = emptyCounts();
  const explicit = new Set(adapters.filter((a) => a.explicitlyRequested).map((a) => a.id));
  let requiredUnavailable = 0;
  // A partial report (a merge of an incomplete or mixed set) is never a pass, whatever its results say.
  const failures: string[] = (partial?.reasons ?? []).map((r) => `partial report: ${r}`);
  for (const r of results) {
    byStatus[r.status]++;
    if (FAILING_STATUSES.includes(r.status)) failures.push(describeFailure(r));
    else if (r.status === 'unavailable' && explicit.has(r.adapter)) {
      requiredUnavailable++;
      failures.push(`${r.adapter} × ${r.case}: unavailable but requested with --adapters — ${r.reason}`);
    }
  }
  const failed = failures.length > 0;
  if (failures.length > MAX_FAILURE_LINES) {
    const n = failures.length - MAX_FAILURE_LINES;
    failures.length = MAX_FAILURE_LINES;
    failures.push(`... and ${n} more`);
  }
  return {
    total: results.length,
    byStatus,
    requiredUnavailable,
    verdict: failed ? 'fail' : 'pass',
    exitCode: failed ? 1 : 0,
    failures,
  };
}

export function countsFor(results: readonly CaseResult[], adapter: string): Record<CaseStatus, number> {
  const c = emptyCounts();
  for (const r of results) if (r.adapter === adapter) c[r.status]++;
  return c;
}

/** One-line description of a passing result: its worst error. */
export function passReason(maxAbs: number | null, maxUlp: number | null, checks: number): string {
  return `within tolerance; max abs error ${formatNumber(maxAbs)}, max ${formatNumber(maxUlp)} ulp over ${checks} check${checks === 1 ? '' : 's'}`;
}

/**
 * One-line description of an expected divergence: the row(s) and their reason first (so a cut line
 * keeps them), then the tensors that diverged, worst first (by boundary label where they have one;
 * four named, the rest counted), then the worst error of the checks that passed.
 */
export function divergenceReason(
  checks: readonly CheckResult[],
  maxAbs: number | null,
  maxUlp: number | null,
  passing: number,
  measured = passing,
): string {
  const rows = new Map<string, { reason: string; tensors: CheckResult[] }>();
  for (const c of checks) {
    if (c.outcome !== 'expected-divergence' || !c.tolerance) continue;
    const t = c.tolerance;
    const name = `${t.caseClass} x ${t.role} x ${t.profile}`;
    const row = rows.get(name) ?? { reason: t.reason, tensors: [] };
    row.tensors.push(c);
    rows.set(name, row);
  }
  const err = (c: CheckResult) => (c.metrics ? metricRank(c.metrics.maxAbs) : 0);
  const parts = [...rows].map(([name, r]) => {
    const worst = [...r.tensors].sort((a, b) => err(b) - err(a));
    const named = worst
      .slice(0, 4)
      .map((c) => `${c.label ?? c.name} (max abs ${formatNumber(c.metrics?.maxAbs)})`)
      .join(', ');
    const more = worst.length > 4 ? ` and ${worst.length - 4} more` : '';
    return `${name} — ${r.reason} — beyond the tight bound: ${named}${more}`;
  });
  const plural = (n: number) => `${n} check${n === 1 ? '' : 's'}`;
  const rest =
    passing === 0
      ? 'no other checks'
      : measured === 0
        ? `the other ${plural(passing)} pass (none compares a tensor)`
        : `the other checks ${passReason(maxAbs, maxUlp, measured)}${passing > measured ? ` (and ${plural(passing - measured)} without a tensor pass)` : ''}`;
  return `expected divergence: ${parts.join('; ')} — ${rest}`;
}
