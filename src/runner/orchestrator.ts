/**
 * Runs each adapter in its own child process (src/runner/worker.ts through tsx), at most `jobs` at a
 * time, under a per-adapter time budget. What can go wrong in a worker is recorded, never fatal:
 *   - probe says unavailable        → every case 'unavailable' (reason + fix)
 *   - the worker dies (signal, abort, out of memory, uncaught exception, non-zero exit)
 *                                   → the case it was running is 'crashed'; the remaining cases
 *                                     run in a fresh worker (one restart per crashed case)
 *   - it dies before running a case → every case 'crashed'
 *   - the budget runs out           → the worker is stopped (SIGTERM, SIGKILL after a grace: its
 *                                     external programs' groups are killed first); the running case is
 *                                     'timeout', cases not started are 'skipped' (budget used up)
 *
 * With `diagnose`, each worker diagnoses its 'fail-numeric' cases after all its cases have results
 * (src/runner/diagnose-failure.ts); the diagnosis is attached to the result. A diagnosis that throws,
 * crashes the worker or runs out of budget leaves a `diagnosisError` and every status as it was.
 * The worker is forked with the adapter entry's `processEnv` added to this process's environment.
 */
import { fork, type ChildProcess } from 'child_process';
import * as path from 'path';
import type { AdapterCommandSource } from '../adapters/pool';
import type { KnownCrashReport } from '../adapters/known-crashes';
import type { AdapterDescription, AdapterEntry } from '../adapters/types';
import type { CaseResult, WorkerInfo } from '../report/schema';
import type { StartMessage, WorkerMessage } from './protocol';
import { workerLaunch } from '../workers/precompiled-worker';
import { signalMeaning, stopChildren, terminateChild } from '../util/signals';

export interface AdapterJob {
  entry: AdapterEntry;
  /** Case ids for this adapter (manifest order). */
  cases: string[];
  /**
   * Cases of `cases` the adapter cannot run (an inference-only adapter's training-mode cases): they
   * are 'not-applicable' with `notApplicableReason`, settled without a worker (even when the
   * adapter is unavailable: the case would not apply anywhere).
   */
  notApplicable?: string[];
  notApplicableReason?: string;
}

export interface ProgressSink {
  adapterStart?(id: string): void;
  caseResult?(r: CaseResult): void;
  adapterDone?(run: AdapterRun): void;
}

export interface OrchestratorOptions {
  fixturesDir: string;
  /** `--adapter-module` files, for the workers (StartMessage.adapterModules). */
  adapterModules: string[];
  /** `--adapter-command` programs, for the workers (StartMessage.adapterCommands). */
  adapterCommands?: AdapterCommandSource[];
  jobs: AdapterJob[];
  /** Per-adapter time budget (all of its workers together). */
  timeoutMs: number;
  /** Workers running at once (>= 1). */
  concurrency: number;
  progress?: ProgressSink;
  /** Forward worker stdout/stderr to this process's stderr (debugging). */
  verbose?: boolean;
  /** Diagnose the cases that end 'fail-numeric' (default false). */
  diagnose?: boolean;
}

export interface AdapterRun {
  id: string;
  available: boolean;
  unavailableReason?: string;
  fix?: string;
  /** The probe found a known native crash of the runtime on this CPU: every case is 'crashed' with it. */
  knownCrash?: KnownCrashReport;
  description: AdapterDescription | null;
  describeError?: string;
  worker: WorkerInfo;
  durationMs: number;
  /** Fork to the worker's 'ready' message (Node, tsx, the worker's modules), summed over its workers. */
  workerStartupMs: number;
  /** One per requested case, in the requested order. */
  results: CaseResult[];
}

// worker.ts beside this source; worker.js in the built package (dist/, `npm run build`).
export const WORKER_FILE = path.join(__dirname, `worker${path.extname(__filename)}`);
const STDERR_TAIL = 4000;

const active = new Set<ChildProcess>();

/** Stops every worker this process started (used on SIGINT / SIGTERM): SIGTERM, then SIGKILL after a grace. */
export function stopAllWorkers(): Promise<void> {
  return stopChildren(active);
}

interface WorkerOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  done: boolean;
  timedOut: boolean;
  current: string | undefined;
  /** The case being diagnosed when the worker ended (all its cases had results by then). */
  diagnosing?: string;
  fatal: string | undefined;
  tail: string;
  /** The worker printed V8's out-of-memory message (seen while streaming, not only in the tail). */
  oom?: boolean;
  spawnError?: string;
  /** Fork to the 'ready' message (absent when the worker never got that far). */
  startupMs?: number;
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim()) ?? s;
  return line.trim();
}

/** The environment of an adapter's own process: this one's, plus what the adapter entry requires. */
function workerEnv(entry: AdapterEntry): NodeJS.ProcessEnv {
  return { ...process.env, ...entry.processEnv };
}

/** Human reason for a worker that ended without finishing. */
const OOM_TEXT = /heap out of memory|Reached heap limit|Allocation failed|out of memory/i;

export function exitReason(
  o: Pick<WorkerOutcome, 'code' | 'signal' | 'fatal' | 'tail' | 'spawnError' | 'oom'>,
): string {
  if (o.spawnError) return `worker could not start: ${o.spawnError}`;
  const oom = Boolean(o.oom) || OOM_TEXT.test(o.tail);
  if (o.fatal) return `uncaught exception in the worker: ${firstLine(o.fatal)}`;
  if (o.signal) {
    const what = o.signal === 'SIGABRT' && oom ? 'out of memory' : signalMeaning(o.signal);
    return `worker killed by ${o.signal} (${what})${oom && o.signal !== 'SIGABRT' ? ', out of memory' : ''}`;
  }
  if (oom) return `worker ran out of memory (exit code ${o.code})`;
  if (o.code === 134) return 'worker aborted (exit code 134)';
  return `worker exited with code ${o.code} before finishing`;
}

function blank(adapter: string, c: string, status: CaseResult['status'], reason: string): CaseResult {
  return {
    adapter,
    case: c,
    status,
    reason,
    tolerance: null,
    metrics: null,
    checks: [],
    timings: null,
    modelReused: false,
    regression: null,
    part: 0,
  };
}

async function superviseWorker(
  job: AdapterJob,
  cases: string[],
  diagnoseAlso: string[],
  skipProbe: boolean,
  opts: OrchestratorOptions,
  deadline: number,
  on: (m: WorkerMessage) => void,
): Promise<WorkerOutcome> {
  const launch = await workerLaunch(WORKER_FILE);
  return new Promise((resolve) => {
    const outcome: WorkerOutcome = {
      code: null,
      signal: null,
      done: false,
      timedOut: false,
      current: undefined,
      fatal: undefined,
      tail: '',
    };
    let child: ChildProcess;
    const forkedAt = performance.now();
    try {
      child = fork(launch.file, [], {
        execArgv: launch.execArgv,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: workerEnv(job.entry),
      });
    } catch (err) {
      outcome.spawnError = (err as Error).message;
      resolve(outcome);
      return;
    }
    active.add(child);
    const keep = (chunk: Buffer) => {
      const joined = outcome.tail + chunk.toString('utf8');
      if (OOM_TEXT.test(joined)) outcome.oom = true;
      outcome.tail = joined.slice(-STDERR_TAIL);
      if (opts.verbose) process.stderr.write(`[${job.entry.id}] ${chunk.toString('utf8')}`);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const remaining = Math.max(0, deadline - performance.now());
    const timer = setTimeout(() => {
      outcome.timedOut = true;
      terminateChild(child);
    }, remaining);
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') {
        outcome.startupMs ??= performance.now() - forkedAt;
        return;
      }
      if (m.type === 'case-start') outcome.current = m.case;
      else if (m.type === 'case-result') outcome.current = undefined;
      else if (m.type === 'diagnosis-start') outcome.diagnosing = m.case;
      else if (m.type === 'diagnosis') outcome.diagnosing = undefined;
      else if (m.type === 'fatal') outcome.fatal = m.error;
      else if (m.type === 'done') outcome.done = true;
      on(m);
    });
    child.on('error', (err) => {
      outcome.spawnError ??= err.message;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      active.delete(child);
      outcome.code = code;
      outcome.signal = signal;
      // Let stdio drain so the tail holds the last words.
      setImmediate(() => resolve(outcome));
    });
    const start: StartMessage = {
      type: 'start',
      adapter: job.entry.id,
      adapterModules: opts.adapterModules,
      adapterCommands: opts.adapterCommands ?? [],
      fixturesDir: opts.fixturesDir,
      cases,
      skipProbe,
      diagnose: Boolean(opts.diagnose),
      diagnoseAlso,
    };
    child.send(start, (err) => {
      if (err) outcome.spawnError ??= `cannot send the start message: ${err.message}`;
    });
  });
}

async function runAdapter(job: AdapterJob, opts: OrchestratorOptions): Promise<AdapterRun> {
  const id = job.entry.id;
  const t0 = performance.now();
  const deadline = t0 + opts.timeoutMs;
  const results = new Map<string, CaseResult>();
  const run: AdapterRun = {
    id,
    available: true,
    description: null,
    worker: { processes: 0, exits: [] },
    durationMs: 0,
    workerStartupMs: 0,
    results: [],
  };
  const settle = (r: CaseResult) => {
    results.set(r.case, r);
    opts.progress?.caseResult?.(r);
  };
  let probed = false;
  let pending = [...job.cases];
  opts.progress?.adapterStart?.(id);
  if (job.notApplicable?.length) {
    const na = new Set(job.notApplicable);
    for (const c of pending)
      if (na.has(c))
        settle(blank(id, c, 'not-applicable', job.notApplicableReason ?? 'the adapter cannot run this case'));
    pending = pending.filter((c) => !na.has(c));
  }

  // Why the diagnosis of a 'fail-numeric' case is missing, when its worker ended first.
  let undiagnosedBecause = 'internal: the worker ended without diagnosing it';
  const undiagnosed = (): string[] =>
    opts.diagnose
      ? [...results.values()]
          .filter((r) => r.status === 'fail-numeric' && !r.diagnosis && r.diagnosisError === undefined)
          .map((r) => r.case)
      : [];

  while (pending.length > 0) {
    run.worker.processes++;
    const o = await superviseWorker(job, pending, undiagnosed(), probed, opts, deadline, (m) => {
      if (m.type === 'probe') {
        probed = true;
        run.available = m.available;
        if (!m.available) {
          run.unavailableReason = m.reason ?? 'the probe gave no reason';
          if (m.fix) run.fix = m.fix;
          if (m.knownCrash) run.knownCrash = m.knownCrash;
        }
      } else if (m.type === 'describe') {
        run.description = m.description;
        if (m.error) run.describeError = m.error;
      } else if (m.type === 'case-result') {
        settle({ ...m.result, adapter: id });
      } else if (m.type === 'diagnosis') {
        const r = results.get(m.case);
        if (!r) return;
        if (m.diagnosis) r.diagnosis = m.diagnosis;
        else r.diagnosisError = m.error ?? 'the diagnosis gave no result';
      }
    });
    run.workerStartupMs += o.startupMs ?? 0;
    pending = pending.filter((c) => !results.has(c));
    const budget = `${Math.round(opts.timeoutMs / 1000)} s`;

    if (!run.available) {
      if (run.knownCrash) {
        // Not run: the runtime would die of it. A crash, never a pass, and never just "unavailable".
        run.worker.exits.push({ code: o.code, signal: o.signal, reason: 'not started: known crash on this CPU' });
        for (const c of pending) settle(blank(id, c, 'crashed', `not run: ${run.unavailableReason}`));
        break;
      }
      run.worker.exits.push({ code: o.code, signal: o.signal, reason: 'adapter unavailable' });
      for (const c of pending)
        settle(blank(id, c, 'unavailable', `${run.unavailableReason}${run.fix ? ` (fix: ${run.fix})` : ''}`));
      break;
    }
    if (o.timedOut) {
      const where = o.current
        ? `case ${o.current}`
        : o.diagnosing
          ? `the diagnosis of case ${o.diagnosing}`
          : probed
            ? 'start-up'
            : 'probe';
      if (o.diagnosing) {
        results.get(o.diagnosing)!.diagnosisError =
          `not finished within the adapter's ${budget} budget (--timeout); the worker was killed`;
        undiagnosedBecause = `not run: the adapter's ${budget} budget (--timeout) ran out during the diagnosis of case ${o.diagnosing}`;
      } else {
        undiagnosedBecause = `not run: the adapter's ${budget} budget (--timeout) ran out during ${where}`;
      }
      run.worker.exits.push({
        code: o.code,
        signal: o.signal,
        reason: `killed after the ${budget} adapter budget ran out during ${where}`,
      });
      run.worker.stderrTail = o.tail;
      if (o.current) {
        settle(
          blank(
            id,
            o.current,
            'timeout',
            `no result within the adapter's ${budget} budget (--timeout); the worker was killed`,
          ),
        );
        for (const c of pending)
          if (c !== o.current)
            settle(
              blank(
                id,
                c,
                'skipped',
                `not run: the adapter's ${budget} budget (--timeout) ran out during case ${o.current}`,
              ),
            );
      } else {
        for (const c of pending)
          settle(
            blank(
              id,
              c,
              'timeout',
              `the adapter's ${budget} budget (--timeout) ran out during ${where}; the worker was killed`,
            ),
          );
      }
      break;
    }
    if (o.done && pending.length === 0 && o.code === 0) {
      run.worker.exits.push({ code: o.code, signal: o.signal, reason: 'finished' });
      break;
    }
    const reason = o.done && o.code === 0 ? 'worker finished without a result for every case' : exitReason(o);
    run.worker.exits.push({
      code: o.code,
      signal: o.signal,
      reason: o.diagnosing ? `${reason} during the diagnosis of case ${o.diagnosing}` : reason,
    });
    run.worker.stderrTail = o.tail;
    if (o.diagnosing) {
      results.get(o.diagnosing)!.diagnosisError = `${reason} while diagnosing this case`;
      undiagnosedBecause = `not run: ${reason} during the diagnosis of case ${o.diagnosing}`;
    } else {
      undiagnosedBecause = `not run: ${reason}`;
    }
    if (o.current) {
      settle(blank(id, o.current, 'crashed', `${reason} while running this case`));
      pending = pending.filter((c) => c !== o.current);
      continue; // the rest in a fresh worker
    }
    if (pending.length === 0) break; // died after its last result (e.g. in dispose): results stand
    const when = probed ? 'before running any of these cases' : 'during the probe';
    for (const c of pending) settle(blank(id, c, o.done ? 'error' : 'crashed', `${reason} ${when}`));
    break;
  }

  for (const c of undiagnosed()) results.get(c)!.diagnosisError = undiagnosedBecause;
  run.durationMs = performance.now() - t0;
  run.results = job.cases.map((c) => results.get(c) ?? blank(id, c, 'error', 'internal: no result recorded'));
  opts.progress?.adapterDone?.(run);
  return run;
}

/** Runs every job (at most opts.concurrency at once, started in the given order); results in job order. */
export async function runAdapterJobs(opts: OrchestratorOptions): Promise<AdapterRun[]> {
  if (!(Number.isInteger(opts.concurrency) && opts.concurrency >= 1))
    throw new Error(`concurrency must be an integer >= 1, got ${opts.concurrency}`);
  const out: AdapterRun[] = new Array(opts.jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < opts.jobs.length) {
      const i = next++;
      out[i] = await runAdapter(opts.jobs[i], opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.jobs.length) }, lane));
  return out;
}
