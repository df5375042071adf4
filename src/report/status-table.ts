/**
 * The one status table: every verdict a result can have, how it counts, and what it means. The
 * report's lists (CASE_STATUSES, FAILING_STATUSES), the regression comparison's and the mutant
 * scorer's, and the case judge's precedence (src/runner/execute-case.ts) are derived from it.
 * Row order is the display order (the summary counts, the legends, report.json's byStatus keys).
 */
export interface StatusInfo {
  /** Inside the tolerance: the errors are compared for growth against a baseline. */
  within: boolean;
  /** Not a failure of the case (a failure now, against a baseline with this status, is newly failing). */
  passing: boolean;
  /** Makes the run fail (exit code 1), however the adapter was selected. */
  failsRun: boolean;
  /**
   * A status the case's comparisons give (src/runner/execute-case.ts statusOf): its precedence, the
   * highest found wins. Absent for statuses that come from elsewhere (faults, selection, baselines).
   */
  fromComparisons?: number;
  /** An imported check no configuration reproduces ends 'unexplained' instead of this (adapter faults stay). */
  becomesUnexplained?: true;
  description: string;
}

export const STATUS_TABLE = {
  pass: {
    within: true,
    passing: true,
    failsRun: false,
    fromComparisons: 0,
    becomesUnexplained: true,
    description: 'every check inside its tolerance',
  },
  'expected-divergence': {
    within: false,
    passing: true,
    failsRun: false,
    fromComparisons: 1,
    becomesUnexplained: true,
    description:
      'some tensors fall under an expected-divergence row of the tolerance table and diverge as that row says (finite, right shape, beyond the tight bound); every other check passes. Not a failure; reason = the row and the tensors named',
  },
  regressed: {
    within: true,
    passing: true,
    failsRun: true,
    description: 'inside tolerance, but the error grew beyond the regression factor against the baseline',
  },
  'unexpected-match': {
    within: false,
    passing: false,
    failsRun: true,
    fromComparisons: 2,
    becomesUnexplained: true,
    description:
      'the tensors under an expected-divergence row all matched within its tight bound: the divergence did not happen, the row is stale (fix the row)',
  },
  unexplained: {
    within: false,
    passing: false,
    failsRun: true,
    description:
      'a check of an imported notebook revision that no configuration explain searched reproduces: compared and measured, never a pass (error, crashed, timeout and fail-shape keep their status)',
  },
  'fail-numeric': {
    within: false,
    passing: false,
    failsRun: true,
    fromComparisons: 3,
    becomesUnexplained: true,
    description:
      'a value check outside tolerance (or NaN/Inf where the expected value is finite), or a named check failed',
  },
  'fail-shape': {
    within: false,
    passing: false,
    failsRun: true,
    fromComparisons: 4,
    description: 'an output/intermediate has the wrong shape, or a parameter count differs',
  },
  error: {
    within: false,
    passing: false,
    failsRun: true,
    description: 'the adapter threw (build or run), or the case could not be evaluated',
  },
  crashed: {
    within: false,
    passing: false,
    failsRun: true,
    description: "the adapter's worker process died (signal, abort, out of memory, non-zero exit)",
  },
  timeout: {
    within: false,
    passing: false,
    failsRun: true,
    description: "the adapter's time budget ran out while this case was running",
  },
  unavailable: {
    within: false,
    passing: false,
    failsRun: false,
    description:
      "the adapter's probe says it cannot run here (reason + fix given); fails the run only when the adapter was named explicitly",
  },
  'not-applicable': {
    within: false,
    passing: false,
    failsRun: false,
    description:
      'not run: the adapter declares it cannot run this kind of case (an inference-only runtime, AdapterEntry.inferenceOnly, and a training-mode case); never a pass, never a failure, counted apart in every report format',
  },
  skipped: {
    within: false,
    passing: false,
    failsRun: false,
    description: 'not run: an earlier timeout used up the budget',
  },
} as const satisfies Record<string, StatusInfo>;

/** Verdict of one adapter × case (STATUS_TABLE). */
export type CaseStatus = keyof typeof STATUS_TABLE;

const table = STATUS_TABLE as Readonly<Record<CaseStatus, StatusInfo>>;
const where = (f: (s: StatusInfo) => boolean): readonly CaseStatus[] =>
  (Object.keys(table) as CaseStatus[]).filter((s) => f(table[s]));

export function statusInfo(s: CaseStatus): StatusInfo {
  return table[s];
}

/** Every status, in display order. */
export const CASE_STATUSES: readonly CaseStatus[] = where(() => true);
/** Statuses that make a run fail (exit code 1) regardless of how the adapter was selected. */
export const FAILING_STATUSES: readonly CaseStatus[] = where((s) => s.failsRun);

/**
 * How bad a status is when two reports are compared: 0 pass, 1 passing otherwise (a known divergence,
 * grown error), 2 not run (unavailable, not-applicable, skipped), 3 failing.
 */
export function statusRank(s: CaseStatus): 0 | 1 | 2 | 3 {
  const i = table[s];
  if (s === 'pass') return 0;
  if (i.passing) return 1;
  return i.failsRun ? 3 : 2;
}
