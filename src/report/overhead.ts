/**
 * The harness's own cost: a conformance run split into process start-up, fixture loading, weight
 * init, model build, inference, comparison and report writing, from the timings the run records in
 * its report (plus, when measured from outside, the wall time of the whole command).
 *
 * Read from a ConformanceReport (src/report/schema.ts):
 *   results[].timings.{buildMs, runMs, compareMs, totalMs}            per case (always present)
 *   results[].timings.initMs     (optional) initModelWeights, part of buildMs
 *   results[].timings.fixtureMs  (optional) loading the case's expected tensors in the worker
 *   results[].timings.setupMs, runSetupMs (optional) the runtime's own session/model creation inside
 *                                the build and inside the runs (Adapter.runtimeSetupMs)
 *   results[].timings.runPrepMs  (optional) the adapter's own preparation inside the runs (exporting a
 *                                model for a session made on a first run; Adapter.harnessPrepMs):
 *                                model build, not inference
 *   parts[].timings              (optional, RunPhaseTimings below) the parent process's phases
 *                                (weightsMs, the parent's weight-cache preparation, counts as weight init)
 *   parts[].durationMs           the run's wall time without start-up and report writing
 *   adapters[].probeMs, exitMs   (optional) of an adapter's worker time: probe + describe, the worker's exit
 * Whatever a report does not record is listed in `missing` and left out (never guessed).
 */

/** The fields of a conformance report (ConformanceReport, src/report/schema.ts) the breakdown reads. */
export interface TimedReport {
  adapters: ReadonlyArray<{ id: string; durationMs: number; probeMs?: number; exitMs?: number }>;
  results: ReadonlyArray<{ adapter: string; timings: object | null }>;
  parts: ReadonlyArray<{ durationMs: number; timings?: RunPhaseTimings; options?: { jobs?: number } }>;
}

/** Timings of the parent process of a run (`parts[].timings` of a conformance report). */
export interface RunPhaseTimings {
  /** Process start (performance.timeOrigin) to the run command starting: Node, tsx, CLI modules. */
  startupMs: number;
  /** Reading and checking the fixtures (manifest, tensors, digests) in the parent. */
  fixturesMs: number;
  /**
   * Computing shared initial weights into the weight cache before the workers start (only on a cold
   * cache; a header read otherwise). Optional: absent in reports of earlier versions.
   */
  weightsMs?: number;
  /** All adapter workers, wall time. */
  adaptersMs: number;
  /** Worker start-up (fork to the worker's first message), summed over workers. */
  workerStartupMs: number;
  /** Rendering and writing every report file (the JSON's own final write excluded). */
  reportMs: number;
}

export type PhaseKey =
  'startupMs' | 'fixturesMs' | 'initMs' | 'buildMs' | 'setupMs' | 'inferenceMs' | 'compareMs' | 'reportMs' | 'otherMs';

export const HARNESS_PHASES: ReadonlyArray<{ key: PhaseKey; label: string }> = [
  { key: 'startupMs', label: 'process start-up (parent + workers)' },
  { key: 'fixturesMs', label: 'fixture loading' },
  { key: 'initMs', label: 'weight init' },
  { key: 'buildMs', label: 'model build' },
  { key: 'setupMs', label: "runtime setup (the runtime's own session/model creation)" },
  { key: 'inferenceMs', label: 'inference' },
  { key: 'compareMs', label: 'comparison' },
  { key: 'reportMs', label: 'report writing' },
  { key: 'otherMs', label: 'other (IPC, scheduling, unrecorded)' },
];

export interface HarnessBreakdown {
  /** Wall time of the run (measured from outside when given, else from the report). */
  wallMs: number;
  wallSource: 'measured' | 'report';
  /** Workers that ran at once. */
  concurrency: number;
  /**
   * Busy time the phases add up to: the parent's own phases plus every adapter worker's wall time
   * (AdapterReport.durationMs). Equals the wall time when one worker runs at a time; with parallel
   * workers it is larger than the wall time and is the denominator of every share.
   */
  totalMs: number;
  phases: Record<PhaseKey, number | null>;
  /**
   * Everything but inference: totalMs − inferenceMs. The runtime's own session/model creation
   * (setupMs) counts here, as model build always did: it is what a run costs beyond computing.
   */
  overheadMs: number;
  /** overheadMs / totalMs. */
  overheadFraction: number;
  /**
   * The harness's own work: overheadMs without the runtime setup that adapters recorded (null when
   * none did): what the harness itself adds around the runtimes.
   */
  ownOverheadMs: number | null;
  /** ownOverheadMs / totalMs (null with ownOverheadMs). */
  ownOverheadFraction: number | null;
  /** Phases this report does not record. */
  missing: string[];
  cases: number;
  /** Per adapter: worker wall time and the per-case phases inside it (where the time goes). */
  byAdapter: AdapterPhases[];
}

export interface AdapterPhases {
  adapter: string;
  /** All of the adapter's workers, wall time (AdapterReport.durationMs). */
  durationMs: number;
  /** Model build (weight init included) without the runtime setup, plus the adapter's own preparation inside runs (runPrepMs). */
  buildMs: number;
  /** Runtime setup recorded in builds and runs (0 when the adapter records none). */
  setupMs: number;
  /** Runs without the runtime setup and the adapter's own preparation recorded in them. */
  inferenceMs: number;
  compareMs: number;
  /** durationMs minus the case totals: worker start-up, imports, probe, fixture loading, IPC, exit. */
  outsideCasesMs: number;
  /** Of outsideCasesMs: adapter.probe() and describe() (absent when the report does not record it). */
  probeMs?: number;
  /** Of outsideCasesMs: its workers' exit (absent when the report does not record it). */
  exitMs?: number;
  cases: number;
}

export interface ExternalTimings {
  /** Wall time of the whole command, measured by whoever started it. */
  wallMs?: number;
  /** Parent start-up measured from outside (e.g. `--help` timing), when the report has none. */
  startupMs?: number;
  /** Report writing measured from outside, when the report has none. */
  reportMs?: number;
}

interface OptionalCaseTimings {
  buildMs?: number;
  runMs?: number;
  compareMs?: number;
  totalMs?: number;
  initMs?: number;
  fixtureMs?: number;
  setupMs?: number;
  runSetupMs?: number;
  runPrepMs?: number;
}

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

export function harnessBreakdown(report: TimedReport, ext: ExternalTimings = {}): HarnessBreakdown {
  const missing: string[] = [];
  let build = 0;
  let run = 0;
  let compare = 0;
  let setup = 0;
  let setupRecorded = false;
  let init: number | null = 0;
  let fixture: number | null = 0;
  let cases = 0;
  const per = new Map<string, AdapterPhases>(
    report.adapters.map((a) => [
      a.id,
      {
        adapter: a.id,
        durationMs: num(a.durationMs) ?? 0,
        buildMs: 0,
        setupMs: 0,
        inferenceMs: 0,
        compareMs: 0,
        outsideCasesMs: num(a.durationMs) ?? 0,
        ...(num(a.probeMs) !== null ? { probeMs: a.probeMs } : {}),
        ...(num(a.exitMs) !== null ? { exitMs: a.exitMs } : {}),
        cases: 0,
      },
    ]),
  );
  for (const r of report.results) {
    const t = r.timings as OptionalCaseTimings | null;
    if (!t) continue;
    cases++;
    // Runtime setup is taken out of the build and the runs it happened in (never more than they took).
    const bs = Math.min(num(t.setupMs) ?? 0, num(t.buildMs) ?? 0);
    const rs = Math.min(num(t.runSetupMs) ?? 0, num(t.runMs) ?? 0);
    // The adapter's own preparation inside the runs is build work (never more than the runs left).
    const rp = Math.min(num(t.runPrepMs) ?? 0, (num(t.runMs) ?? 0) - rs);
    if (num(t.setupMs) !== null || num(t.runSetupMs) !== null) setupRecorded = true;
    const pa = per.get(r.adapter);
    if (pa) {
      pa.cases++;
      pa.buildMs += (num(t.buildMs) ?? 0) - bs + rp;
      pa.setupMs += bs + rs;
      pa.inferenceMs += (num(t.runMs) ?? 0) - rs - rp;
      pa.compareMs += num(t.compareMs) ?? 0;
      pa.outsideCasesMs -= num(t.totalMs) ?? 0;
    }
    build += (num(t.buildMs) ?? 0) - bs + rp;
    setup += bs + rs;
    run += (num(t.runMs) ?? 0) - rs - rp;
    compare += num(t.compareMs) ?? 0;
    const i = num(t.initMs);
    init = init === null || i === null ? null : init + i;
    const f = num(t.fixtureMs);
    fixture = fixture === null || f === null ? null : fixture + f;
  }
  if (cases === 0) init = fixture = null;
  if (init === null) missing.push('weight init (results[].timings.initMs; counted inside model build)');
  else build -= init;

  // Reports read from disk may come from older versions without (some of) these fields.
  const parts = report.parts.map((p): Partial<RunPhaseTimings> | null => p.timings ?? null);
  const sumPart = (k: keyof RunPhaseTimings): number | null => {
    let s = 0;
    for (const t of parts) {
      const v = num(t?.[k]);
      if (v === null) return null;
      s += v;
    }
    return parts.length ? s : null;
  };
  const parentStartup = sumPart('startupMs') ?? num(ext.startupMs);
  const workerStartup = sumPart('workerStartupMs');
  if (parentStartup === null) missing.push('parent start-up (parts[].timings.startupMs)');
  if (workerStartup === null) missing.push('worker start-up (parts[].timings.workerStartupMs)');
  const startup = parentStartup === null && workerStartup === null ? null : (parentStartup ?? 0) + (workerStartup ?? 0);
  const parentFixtures = sumPart('fixturesMs');
  if (parentFixtures === null) missing.push('fixture loading in the parent (parts[].timings.fixturesMs)');
  if (fixture === null) missing.push('fixture loading in the workers (results[].timings.fixtureMs)');
  const fixtures = parentFixtures === null && fixture === null ? null : (parentFixtures ?? 0) + (fixture ?? 0);
  // The parent's weight preparation (cold cache only) is weight init too; reports before it existed lack it.
  const parentWeights = parts.reduce((s, t) => s + (num(t?.weightsMs) ?? 0), 0);
  if (init !== null) init += parentWeights;
  const reportMs = sumPart('reportMs') ?? num(ext.reportMs);
  if (reportMs === null) missing.push('report writing (parts[].timings.reportMs)');

  const concurrency = Math.max(1, ...report.parts.map((p) => p.options?.jobs ?? 1));
  const partsWall = report.parts.reduce((s, p) => s + (num(p.durationMs) ?? 0), 0);
  const wallMs = num(ext.wallMs) ?? partsWall + (parentStartup ?? 0) + (reportMs ?? 0);
  const workersBusy = report.adapters.reduce((s, a) => s + (num(a.durationMs) ?? 0), 0);
  // Parent time inside the run besides the workers: known only when the report records adaptersMs.
  const adaptersWall = sumPart('adaptersMs');
  const parentInside = adaptersWall === null ? (parentFixtures ?? 0) : Math.max(0, partsWall - adaptersWall);
  let totalMs = (parentStartup ?? 0) + parentInside + workersBusy + (reportMs ?? 0);
  if (concurrency === 1 && ext.wallMs !== undefined) totalMs = Math.max(totalMs, ext.wallMs);
  const known = [startup, fixtures, init, build, setup, run, compare, reportMs].reduce<number>(
    (s, v) => s + (v ?? 0),
    0,
  );
  const overheadMs = Math.max(0, totalMs - run);
  const ownOverheadMs = setupRecorded ? Math.max(0, overheadMs - setup) : null;
  if (!setupRecorded && cases > 0)
    missing.push('runtime setup (results[].timings.setupMs/runSetupMs; counted inside model build and inference)');
  return {
    wallMs,
    wallSource: ext.wallMs !== undefined ? 'measured' : 'report',
    concurrency,
    totalMs,
    phases: {
      startupMs: startup,
      fixturesMs: fixtures,
      initMs: init,
      buildMs: build,
      setupMs: setupRecorded ? setup : null,
      inferenceMs: run,
      compareMs: compare,
      reportMs,
      otherMs: Math.max(0, totalMs - known),
    },
    overheadMs,
    overheadFraction: totalMs > 0 ? overheadMs / totalMs : 0,
    ownOverheadMs,
    ownOverheadFraction: ownOverheadMs === null ? null : totalMs > 0 ? ownOverheadMs / totalMs : 0,
    missing,
    cases,
    byAdapter: [...per.values()],
  };
}
