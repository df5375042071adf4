/**
 * Regression baselines: the same adapter × case in an earlier report.
 *
 * With `--baseline old.json`, a result is marked as a regression when
 *   - newly failing: the baseline passed (pass, regressed or expected-divergence) and now the status
 *     is unexpected-match, fail-numeric, fail-shape, error, crashed or timeout (the status stays;
 *     `regression.kind` = 'newly-failing'), or
 *   - error growth: it still passes, but for some check present in both reports the max abs error
 *     grew beyond `factor` × the baseline's (status becomes 'regressed'). A check that was bit-exact
 *     (max abs 0) in the baseline and now is not counts as growth (growth null = from exact).
 * An expected divergence is never a regression (its errors are known to be large; they are not
 * compared for growth), and neither is a change from pass to expected-divergence (the table said so).
 * From expected-divergence to unexpected-match is newly failing: the divergence stopped, the row is stale.
 * `diffReports` (the `compare` command) lists every status change and every error change beyond
 * the factor in either direction.
 */
import {
  FAILING_STATUSES,
  type CaseResult,
  type CaseStatus,
  type CheckResult,
  type ConformanceReport,
  type BaselineInfo,
} from '../report/schema';
import { formatNumber } from '../util/format';

export const DEFAULT_REGRESSION_FACTOR = 2;

// the report's failing statuses, less 'regressed' (which this comparison itself decides)
const FAILING: readonly CaseStatus[] = FAILING_STATUSES.filter((s) => s !== 'regressed');
/** Not failing in the baseline: a failure now is newly failing. */
const PASSING: readonly CaseStatus[] = ['pass', 'regressed', 'expected-divergence'];
/** Within tolerance: errors are compared for growth. */
const WITHIN: readonly CaseStatus[] = ['pass', 'regressed'];

function key(adapter: string, c: string): string {
  return `${adapter}\u0000${c}`;
}

export function indexResults(results: readonly CaseResult[]): Map<string, CaseResult> {
  const m = new Map<string, CaseResult>();
  for (const r of results) m.set(key(r.adapter, r.case), r);
  return m;
}

export interface Growth {
  check: string;
  baselineMaxAbs: number;
  maxAbs: number;
  /** null: the baseline was exact (0). */
  growth: number | null;
}

/** The check whose max abs error grew the most (relative), among checks with finite errors in both. */
export function worstGrowth(current: readonly CheckResult[], baseline: readonly CheckResult[]): Growth | null {
  const old = new Map(baseline.map((c) => [c.name, c]));
  let worst: Growth | null = null;
  for (const c of current) {
    const b = old.get(c.name);
    const now = c.metrics?.maxAbs;
    const then = b?.metrics?.maxAbs;
    if (typeof now !== 'number' || typeof then !== 'number') continue;
    const g: Growth = {
      check: c.name,
      baselineMaxAbs: then,
      maxAbs: now,
      growth: then === 0 ? (now === 0 ? 1 : null) : now / then,
    };
    const rank = (x: Growth) => (x.growth === null ? Infinity : x.growth);
    if (!worst || rank(g) > rank(worst)) worst = g;
  }
  return worst;
}

export function grewBeyond(g: Growth | null, factor: number): boolean {
  if (!g) return false;
  return g.growth === null ? g.maxAbs > 0 : g.growth > factor;
}

function growthText(g: Growth): string {
  return g.growth === null
    ? `${g.check}: max abs error ${formatNumber(g.maxAbs)}, was bit-exact (0) in the baseline`
    : `${g.check}: max abs error ${formatNumber(g.maxAbs)} is ${formatNumber(g.growth)}× the baseline's ${formatNumber(g.baselineMaxAbs)}`;
}

/**
 * Marks regressions in `report.results` (in place) against `baseline`; returns the BaselineInfo to store.
 */
export function applyBaseline(
  report: ConformanceReport,
  baseline: ConformanceReport,
  baselinePath: string,
  factor: number,
  /**
   * Whether a baseline pair absent from this run counts as missing. A shard passes "not in the whole
   * (unsharded) selection, and I am shard 1", so that merged shards count each missing pair once.
   */
  countMissing: (adapter: string, c: string) => boolean = () => true,
): BaselineInfo {
  if (!(Number.isFinite(factor) && factor > 0))
    throw new Error(`regression factor must be a finite number > 0, got ${factor}`);
  const old = indexResults(baseline.results);
  const info: BaselineInfo = {
    path: baselinePath,
    runId: baseline.runId,
    factor,
    regressed: 0,
    newlyFailing: 0,
    improved: 0,
    newPairs: 0,
    missingPairs: 0,
  };
  const seen = new Set<string>();
  for (const r of report.results) {
    const k = key(r.adapter, r.case);
    seen.add(k);
    const b = old.get(k);
    if (!b) {
      info.newPairs++;
      continue;
    }
    if (PASSING.includes(b.status) && FAILING.includes(r.status)) {
      r.regression = { kind: 'newly-failing', baselineStatus: b.status, factor };
      r.reason = `newly failing (baseline: ${b.status}) — ${r.reason}`;
      info.newlyFailing++;
      continue;
    }
    if (FAILING.includes(b.status) && PASSING.includes(r.status)) info.improved++;
    if (r.status === 'pass' && WITHIN.includes(b.status)) {
      const g = worstGrowth(r.checks, b.checks);
      if (g && grewBeyond(g, factor)) {
        r.status = 'regressed';
        r.regression = {
          kind: 'error-growth',
          baselineStatus: b.status,
          check: g.check,
          baselineMaxAbs: g.baselineMaxAbs,
          maxAbs: g.maxAbs,
          growth: g.growth,
          factor,
        };
        r.reason = `regressed (still within tolerance): ${growthText(g)} (factor ${formatNumber(factor)})`;
        info.regressed++;
      }
    }
  }
  for (const [k, b] of old) if (!seen.has(k) && countMissing(b.adapter, b.case)) info.missingPairs++;
  return info;
}

export interface ReportDiff {
  lines: string[];
  /** Status got worse (passing → failing) or error grew beyond the factor. */
  regressions: number;
  improvements: number;
  /** Set when the two reports ran on different fixture manifests: which cases differ (fixtureDifferences). */
  fixtureWarning?: string;
}

const MAX_NAMED = 10;

function named(ids: readonly string[]): string {
  return ids.slice(0, MAX_NAMED).join(', ') + (ids.length > MAX_NAMED ? ` and ${ids.length - MAX_NAMED} more` : '');
}

/**
 * When `a` and `b` ran on different fixture manifests (sha256 of manifest.json), one line naming the
 * cases whose fixtures changed (their recorded fixtureSha256 differs; for reports before schema 3,
 * which carry no per-case digest, their description differs), and the cases only one report has.
 * Results of a changed case compare different expected values: their differences are not the adapter's.
 */
export function fixtureDifferences(a: ConformanceReport, b: ConformanceReport): string | undefined {
  if (a.fixtures.sha256 === b.fixtures.sha256) return undefined;
  const inB = new Map(b.cases.map((c) => [c.id, c]));
  const inA = new Set(a.cases.map((c) => c.id));
  const describe = ({ fixtureSha256: _d, ...rest }: ConformanceReport['cases'][number]) => JSON.stringify(rest);
  let undigested = false;
  const changed: string[] = [];
  for (const c of a.cases) {
    const d = inB.get(c.id);
    if (!d) continue;
    if (c.fixtureSha256 && d.fixtureSha256) {
      if (c.fixtureSha256 !== d.fixtureSha256) changed.push(c.id);
    } else {
      undigested = true;
      if (describe(c) !== describe(d)) changed.push(c.id);
    }
  }
  const onlyA = a.cases.filter((c) => !inB.has(c.id)).map((c) => c.id);
  const onlyB = b.cases.filter((c) => !inA.has(c.id)).map((c) => c.id);
  const parts = [
    changed.length ? `changed: ${named(changed)}` : '',
    onlyA.length ? `only in the first: ${named(onlyA)}` : '',
    onlyB.length ? `only in the second: ${named(onlyB)}` : '',
  ].filter(Boolean);
  return (
    `the reports ran on different fixture manifests (sha256 ${a.fixtures.sha256.slice(0, 12)}… vs ${b.fixtures.sha256.slice(0, 12)}…); ` +
    (parts.length ? parts.join('; ') : 'no case differs in what the reports record') +
    (undigested
      ? ' (a report older than schema 3 has no per-case fixture digest: cases compared by description only)'
      : '') +
    '. Differences in those cases compare different expected values.'
  );
}

const STATUS_RANK: Record<CaseStatus, number> = {
  pass: 0,
  regressed: 1,
  'expected-divergence': 1,
  skipped: 2,
  'unexpected-match': 3,
  unexplained: 3,
  unavailable: 2,
  'not-applicable': 2,
  'fail-numeric': 3,
  'fail-shape': 3,
  error: 3,
  crashed: 3,
  timeout: 3,
};

/** Differences from a (older) to b (newer), one line each, in b's result order. */
export function diffReports(a: ConformanceReport, b: ConformanceReport, factor: number): ReportDiff {
  const old = indexResults(a.results);
  const lines: string[] = [];
  let regressions = 0;
  let improvements = 0;
  const seen = new Set<string>();
  for (const r of b.results) {
    const k = key(r.adapter, r.case);
    seen.add(k);
    const p = old.get(k);
    const name = `${r.adapter} × ${r.case}`;
    if (!p) {
      lines.push(`+ ${name}: ${r.status} (not in the first report)`);
      continue;
    }
    // 'regressed' is a pass judged against some other baseline: compare it as a pass, by its errors.
    const within = (st: CaseStatus): CaseStatus => (st === 'regressed' ? 'pass' : st);
    if (within(p.status) !== within(r.status)) {
      const worse = STATUS_RANK[r.status] > STATUS_RANK[p.status] && STATUS_RANK[r.status] >= 3;
      const better = STATUS_RANK[p.status] >= 3 && STATUS_RANK[r.status] < STATUS_RANK[p.status];
      if (worse) regressions++;
      if (better) improvements++;
      const note =
        p.status === 'expected-divergence' && r.status === 'pass'
          ? ' (the expected divergence is gone: its tolerance row was replaced)'
          : '';
      lines.push(`${worse ? '!' : better ? '✓' : '~'} ${name}: ${p.status} → ${r.status}${note} — ${r.reason}`);
      continue;
    }
    const up = worstGrowth(r.checks, p.checks);
    if (up && grewBeyond(up, factor)) {
      regressions++;
      lines.push(`! ${name}: error grew — ${growthText(up)}`);
      continue;
    }
    const down = worstGrowth(p.checks, r.checks);
    if (down && grewBeyond(down, factor)) {
      improvements++;
      lines.push(
        `✓ ${name}: error shrank — ${down.check}: ${formatNumber(down.baselineMaxAbs)} now (was ${formatNumber(down.maxAbs)})`,
      );
    }
  }
  for (const p of a.results) {
    if (!seen.has(key(p.adapter, p.case)))
      lines.push(`- ${p.adapter} × ${p.case}: ${p.status} (not in the second report)`);
  }
  const fixtureWarning = fixtureDifferences(a, b);
  return { lines, regressions, improvements, ...(fixtureWarning ? { fixtureWarning } : {}) };
}
