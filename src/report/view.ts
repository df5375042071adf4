/** Lookups shared by the Markdown and HTML renderers (row/column order, cell text). */
import { metricRank, type MetricNumber } from '../compare/metrics';
import { formatNumber } from './format';
import { statusLabel, type CaseResult, type ConformanceReport } from './schema';

export interface Matrix {
  adapters: string[];
  cases: string[];
  get(adapter: string, c: string): CaseResult | undefined;
}

/** Adapters in report order (then any only seen in results), cases in manifest order (same). */
export function matrixOf(report: ConformanceReport): Matrix {
  const adapters = report.adapters.map((a) => a.id).filter((id) => report.results.some((r) => r.adapter === id));
  const cases = report.cases.map((c) => c.id).filter((id) => report.results.some((r) => r.case === id));
  const byKey = new Map<string, CaseResult>();
  for (const r of report.results) {
    byKey.set(`${r.adapter}\u0000${r.case}`, r);
    if (!adapters.includes(r.adapter)) adapters.push(r.adapter);
    if (!cases.includes(r.case)) cases.push(r.case);
  }
  return { adapters, cases, get: (a, c) => byKey.get(`${a}\u0000${c}`) };
}

/** The headline error of a result: the output's max abs error (else the worst over its checks). */
export function headlineError(r: CaseResult): MetricNumber | undefined {
  if (r.metrics) return r.metrics.maxAbs;
  let worst: MetricNumber | undefined;
  for (const c of r.checks) {
    const m = c.metrics?.maxAbs;
    if (m === undefined) continue;
    if (typeof m !== 'number') return m;
    if (worst === undefined || (typeof worst === 'number' && m > worst)) worst = m;
  }
  return worst;
}

/**
 * Short cell text: for pass/regressed the output's max abs error; for fail-numeric the largest max abs
 * error among the failing checks (named when it is not the output, e.g. "1.2e-3 resume"); for
 * expected-divergence the largest max abs error among the diverging tensors, named the same way;
 * the status otherwise.
 */
export function cellText(r: CaseResult): string {
  switch (r.status) {
    case 'pass':
    case 'regressed': {
      const e = headlineError(r);
      return e === undefined ? r.status : formatNumber(e);
    }
    case 'expected-divergence':
    case 'fail-numeric': {
      if (r.checks.some((c) => (c.metrics?.nanActual ?? 0) > 0)) return 'NaN';
      const counts = (c: CaseResult['checks'][number]) =>
        r.status === 'fail-numeric' ? !c.pass : c.outcome === 'expected-divergence';
      let worst: CaseResult['checks'][number] | undefined;
      for (const c of r.checks) {
        if (!counts(c) || !c.metrics) continue;
        const m = metricRank(c.metrics.maxAbs);
        if (!worst || m > metricRank(worst.metrics?.maxAbs)) worst = c;
        if (m === Infinity) break;
      }
      if (!worst) return r.checks.some((c) => !c.pass) ? `✗ ${r.checks.find((c) => !c.pass)!.name}` : r.status;
      const where = worst.kind === 'output' ? '' : ` ${worst.label ?? worst.name.replace(/^intermediates\//, '')}`;
      return `${formatNumber(worst.metrics!.maxAbs)}${where}`;
    }
    default:
      return statusLabel(r.status);
  }
}

export function shortCommit(report: ConformanceReport): string {
  const commits = [...new Set(report.parts.map((p) => p.environment.git.commit))];
  return commits.map((c) => (c ? c.slice(0, 10) : 'no commit')).join(', ');
}

/** The tolerance rows used in a report: unique caseClass × role × profile with their reason, sorted by the three. */
export function tolerancesUsed(report: ConformanceReport): Array<NonNullable<CaseResult['tolerance']>> {
  const seen = new Map<string, NonNullable<CaseResult['tolerance']>>();
  const add = (t: CaseResult['tolerance'] | undefined) => {
    if (t) seen.set(`${t.caseClass}\u0000${t.role}\u0000${t.profile}`, t);
  };
  for (const r of report.results) {
    add(r.tolerance);
    for (const c of r.checks) add(c.tolerance);
  }
  return [...seen.values()].sort(
    (a, b) =>
      a.caseClass.localeCompare(b.caseClass) || a.role.localeCompare(b.role) || a.profile.localeCompare(b.profile),
  );
}

/**
 * Wall time of the whole run: one part's durationMs; for a merge, from the earliest part's start to
 * the latest part's finish (shards run side by side), else the parts' durations added up.
 */
export function runDurationMs(report: Pick<ConformanceReport, 'parts'>): number | undefined {
  const parts = report.parts;
  if (parts.length <= 1) return parts[0]?.durationMs;
  const starts = parts.map((p) => Date.parse(p.startedAt));
  const ends = parts.map((p) => Date.parse(p.finishedAt));
  if ([...starts, ...ends].every((t) => Number.isFinite(t))) return Math.max(...ends) - Math.min(...starts);
  return parts.reduce((s, p) => s + p.durationMs, 0);
}

/** "FAIL", or "FAIL (PARTIAL)" for a partial merge (its verdict is always fail). */
export function verdictText(report: Pick<ConformanceReport, 'summary' | 'partial'>): string {
  return `${report.summary.verdict.toUpperCase()}${report.partial ? ' (PARTIAL)' : ''}`;
}

/**
 * Against the baseline, short (matrix cells): "baseline 1.2e-6, 10×" for error growth (or "baseline
 * exact (0)"), "baseline: pass" for a newly failing case; null without a regression.
 */
export function regressionCellText(r: CaseResult): string | null {
  const g = r.regression;
  if (!g) return null;
  if (g.kind === 'newly-failing') return `baseline: ${statusLabel(g.baselineStatus)}`;
  if (g.growth === null) return 'baseline exact (0)';
  return `baseline ${formatNumber(g.baselineMaxAbs)}, ${formatNumber(g.growth)}×`;
}

/** Against the baseline, one sentence (result details): the check, both errors, the ratio and the factor. */
export function regressionText(r: CaseResult): string | null {
  const g = r.regression;
  if (!g) return null;
  if (g.kind === 'newly-failing') return `newly failing: ${statusLabel(g.baselineStatus)} in the baseline`;
  const ratio =
    g.growth === null
      ? 'the baseline was exact (0)'
      : `${formatNumber(g.growth)}× the baseline's ${formatNumber(g.baselineMaxAbs)}`;
  return `error growth${g.check ? ` in ${g.check}` : ''}: max abs error ${formatNumber(g.maxAbs)}, ${ratio} (allowed factor ${formatNumber(g.factor)}×; baseline status ${statusLabel(g.baselineStatus)})`;
}

/**
 * The compute time an adapter's program reported for its runs, summed over its results (timings.programComputeMs),
 * and the harness's run time of the same results; undefined when no result of the adapter has one.
 */
export function programComputeOf(
  report: Pick<ConformanceReport, 'results'>,
  adapter: string,
): { computeMs: number; runMs: number; cases: number } | undefined {
  let computeMs = 0;
  let runMs = 0;
  let cases = 0;
  for (const r of report.results) {
    const t = r.timings;
    if (r.adapter !== adapter || t?.programComputeMs === undefined) continue;
    computeMs += t.programComputeMs;
    runMs += t.runMs;
    cases++;
  }
  return cases ? { computeMs, runMs, cases } : undefined;
}
