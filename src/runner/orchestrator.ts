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
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { AdapterCommandSource } from '../adapters/pool';
import { PROGRAM_STDERR_ENV } from '../adapters/external/process';
import type { KnownCrashReport } from '../adapters/known-crashes';
import type { AdapterDescription, AdapterEntry } from '../adapters/types';
import { blankResult, type CaseResult, type WorkerInfo } from '../report/schema';
import type { AdapterTask, StartMessage, WorkerMessage } from './protocol';
import { willRegress, type RegressionWatch } from './regression';
import { workerLaunch } from '../workers/precompiled-worker';
import { signalMeaning, stopChildren, terminateChild } from '../util/signals';
import { VERIFIED_DIR_ENV } from '../util/verified-files';

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
  /** With a baseline: each adapter's baseline errors, so cases that will be 'regressed' are diagnosed too. */
  regressionWatch?: (adapter: string) => RegressionWatch | undefined;
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
  /** adapter.probe() and describe() in its workers (loading the runtime, a smoke run, a browser launch), summed. */
  probeMs: number;
  /**
   * The worker's exit (its 'done' message to its exit event: the kernel freeing its memory), in the
   * workers whose exit ends this adapter's durationMs (the last adapter of a worker), summed.
   */
  exitMs: number;
  /** One per requested case, in the requested order. */
  results: CaseResult[];
}

// worker.ts beside this source; worker.js in the built package (dist/, `npm run build`).
export const WORKER_FILE = path.join(__dirname, `worker${path.extname(__filename)}`);
const STDERR_TAIL = 4000;
const MAX_TIMER_MS = 2 ** 31 - 1;

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
  /** The 'done' message to the exit event (absent when the worker never sent 'done'). */
  exitMs?: number;
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim()) ?? s;
  return line.trim();
}

/**
 * glibc's malloc backs its large blocks with transparent huge pages (madvise), in the worker and
 * what it starts. On this kind of virtual machine a first touch of a 4 KB page is costly: a worker
 * reading ResNet-50's 94 MB of weights spent 5/6 of it faulting pages in (0.5 s against 0.1 s:
 * docs/notes/2026-12-08-harness-share.md, f-workers), and so does every other fresh array (fixtures,
 * exports, outputs). Pages only: no value computed changes. Ignored by other C libraries; a
 * GLIBC_TUNABLES that already sets glibc.malloc.hugetlb (e.g. =0) is left as it is.
 */
export const HUGE_PAGES_TUNABLE = 'glibc.malloc.hugetlb=1';

/** The environment of an adapter's own process: this one's, plus what the adapter entry requires. */
export function workerEnv(
  entry: Pick<AdapterEntry, 'processEnv'>,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env = { ...base, ...entry.processEnv };
  const t = env.GLIBC_TUNABLES;
  if (!t) env.GLIBC_TUNABLES = HUGE_PAGES_TUNABLE;
  else if (!/(^|:)glibc\.malloc\.hugetlb=/.test(t)) env.GLIBC_TUNABLES = `${t}:${HUGE_PAGES_TUNABLE}`;
  return env;
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

const blank = blankResult;

/**
 * Forks one worker for `tasks` and follows it until it exits. `deadline()` is the time the worker is
 * killed at; it is asked again after every message (the adapter whose budget runs changes when the
 * worker goes on to the next adapter of its group).
 */
async function superviseWorker(
  env: NodeJS.ProcessEnv,
  tasks: AdapterTask[],
  opts: OrchestratorOptions,
  deadline: () => number,
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
    let doneAt: number | undefined;
    const label = tasks.map((t) => t.adapter).join('+');
    try {
      child = fork(launch.file, [], {
        execArgv: launch.execArgv,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env,
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
      if (opts.verbose) process.stderr.write(`[${label}] ${chunk.toString('utf8')}`);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      const at = deadline();
      if (at === Infinity) return; // every task done: the worker only exits now
      // (setTimeout takes at most 2^31 - 1 ms; a longer delay would fire at once.)
      const ms = Math.min(MAX_TIMER_MS, Math.max(0, at - performance.now()));
      timer = setTimeout(() => {
        if (performance.now() < deadline()) return arm();
        outcome.timedOut = true;
        terminateChild(child);
      }, ms);
    };
    arm();
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') outcome.startupMs ??= performance.now() - forkedAt;
      else if (m.type === 'case-start') outcome.current = m.case;
      else if (m.type === 'case-result') outcome.current = undefined;
      else if (m.type === 'diagnosis-start') outcome.diagnosing = m.case;
      else if (m.type === 'diagnosis') outcome.diagnosing = undefined;
      else if (m.type === 'adapter-done') outcome.current = outcome.diagnosing = undefined;
      else if (m.type === 'fatal') outcome.fatal = m.error;
      else if (m.type === 'done') {
        outcome.done = true;
        doneAt = performance.now();
      }
      on(m);
      if (!outcome.timedOut && (m.type === 'adapter-start' || m.type === 'adapter-done')) arm();
    });
    child.on('error', (err) => {
      outcome.spawnError ??= err.message;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      active.delete(child);
      if (doneAt !== undefined) outcome.exitMs = performance.now() - doneAt;
      outcome.code = code;
      outcome.signal = signal;
      // Let stdio drain so the tail holds the last words.
      setImmediate(() => resolve(outcome));
    });
    const start: StartMessage = {
      type: 'start',
      tasks,
      adapterModules: opts.adapterModules,
      adapterCommands: opts.adapterCommands ?? [],
      fixturesDir: opts.fixturesDir,
      diagnose: Boolean(opts.diagnose),
    };
    child.send(start, (err) => {
      if (err) outcome.spawnError ??= `cannot send the start message: ${err.message}`;
    });
  });
}

/** What the orchestrator knows of one adapter while its workers run; becomes its AdapterRun. */
class AdapterState {
  readonly id: string;
  readonly run: AdapterRun;
  readonly results = new Map<string, CaseResult>();
  probed = false;
  /** Cases without a result yet. */
  pending: string[];
  /** When its budget started (undefined until its turn comes). */
  startedAt: number | undefined;
  /** When its task ended while its worker went on with the next adapter of the group. */
  endedAt: number | undefined;
  /** With a baseline: this adapter's baseline errors (cases that will be 'regressed' are diagnosed too). */
  private get watch(): RegressionWatch | undefined {
    if (this.watchMemo === undefined) this.watchMemo = { value: this.opts.regressionWatch?.(this.id) };
    return this.watchMemo.value;
  }
  private watchMemo: { value: RegressionWatch | undefined } | undefined;
  /** Why the diagnosis of a 'fail-numeric' case is missing, when its worker ended first. */
  private undiagnosedBecause = 'internal: the worker ended without diagnosing it';

  constructor(
    readonly job: AdapterJob,
    private readonly opts: OrchestratorOptions,
  ) {
    this.id = job.entry.id;
    this.pending = [...job.cases];
    this.run = {
      id: this.id,
      available: true,
      description: null,
      worker: { processes: 0, exits: [] },
      durationMs: 0,
      workerStartupMs: 0,
      probeMs: 0,
      exitMs: 0,
      results: [],
    };
  }

  /** Its turn: the budget starts now. */
  begin(): void {
    if (this.startedAt !== undefined) return;
    this.startedAt = performance.now();
    this.opts.progress?.adapterStart?.(this.id);
    const na = new Set(this.job.notApplicable ?? []);
    if (na.size === 0) return;
    for (const c of this.pending)
      if (na.has(c))
        this.settle(
          blank(this.id, c, 'not-applicable', this.job.notApplicableReason ?? 'the adapter cannot run this case'),
        );
    this.pending = this.pending.filter((c) => !na.has(c));
  }

  get deadline(): number {
    return (this.startedAt ?? performance.now()) + this.opts.timeoutMs;
  }

  private get budget(): string {
    return `${Math.round(this.opts.timeoutMs / 1000)} s`;
  }

  task(): AdapterTask {
    const watch = this.watch;
    return {
      adapter: this.id,
      cases: this.pending,
      skipProbe: this.probed,
      diagnoseAlso: this.undiagnosed(),
      ...(watch ? { regressionWatch: watch } : {}),
    };
  }

  settle(r: CaseResult): void {
    this.results.set(r.case, r);
    this.opts.progress?.caseResult?.(r);
  }

  private settleAll(status: CaseResult['status'], reason: string, except?: string): void {
    for (const c of this.pending) if (c !== except) this.settle(blank(this.id, c, status, reason));
  }

  undiagnosed(): string[] {
    return this.opts.diagnose
      ? [...this.results.values()]
          .filter(
            (r) =>
              (r.status === 'fail-numeric' || willRegress(r, this.watch)) &&
              !r.diagnosis &&
              r.diagnosisError === undefined,
          )
          .map((r) => r.case)
      : [];
  }

  /** A message of its worker about this adapter. */
  receive(m: WorkerMessage): void {
    if (m.type === 'probe') {
      this.probed = true;
      this.run.probeMs += m.ms ?? 0;
      this.run.available = m.available;
      if (!m.available) {
        this.run.unavailableReason = m.reason ?? 'the probe gave no reason';
        if (m.fix) this.run.fix = m.fix;
        if (m.knownCrash) this.run.knownCrash = m.knownCrash;
      }
    } else if (m.type === 'describe') {
      this.run.probeMs += m.ms ?? 0;
      this.run.description = m.description;
      if (m.error) this.run.describeError = m.error;
    } else if (m.type === 'case-result') {
      this.settle({ ...m.result, adapter: this.id });
    } else if (m.type === 'diagnosis') {
      const r = this.results.get(m.case);
      if (!r) return;
      if (m.diagnosis) r.diagnosis = m.diagnosis;
      else r.diagnosisError = m.error ?? 'the diagnosis gave no result';
    }
  }

  /** The worker said this adapter's task is over: what is still pending is settled as the worker left it. */
  taskDone(): void {
    this.pending = this.pending.filter((c) => !this.results.has(c));
    this.settleUnavailable();
  }

  /** An unavailable adapter (known crash included): every pending case is settled with the reason. */
  private settleUnavailable(): boolean {
    if (this.run.available) return false;
    if (this.run.knownCrash) {
      // Not run: the runtime would die of it. A crash, never a pass, and never just "unavailable".
      this.settleAll('crashed', `not run: ${this.run.unavailableReason}`);
    } else {
      this.settleAll('unavailable', `${this.run.unavailableReason}${this.run.fix ? ` (fix: ${this.run.fix})` : ''}`);
    }
    this.pending = [];
    return true;
  }

  /** Exit record of a worker this adapter finished in (it may have gone on with other adapters). */
  finishedIn(o: WorkerOutcome, after?: string): { code: number | null; signal: string | null; reason: string } {
    const unavailable = this.run.knownCrash
      ? 'not started: known crash on this CPU'
      : !this.run.available
        ? 'adapter unavailable'
        : 'finished';
    const clean = o.done && o.code === 0 && !o.timedOut;
    if (clean || (after === undefined && !this.run.available))
      return { code: o.code, signal: o.signal, reason: unavailable };
    if (after === undefined) this.run.worker.stderrTail = o.tail;
    const why = o.timedOut ? 'was killed when its budget ran out' : `ended: ${exitReason(o)}`;
    return {
      code: o.code,
      signal: o.signal,
      reason: after !== undefined ? `${unavailable}; the worker later ${why} (running ${after})` : exitReason(o),
    };
  }

  /**
   * The worker ended while this adapter's task ran: records why, settles the case it was running and,
   * where that is the rule, the rest. Returns whether the rest goes on in a fresh worker.
   */
  workerEnded(o: WorkerOutcome): boolean {
    this.pending = this.pending.filter((c) => !this.results.has(c));
    if (!this.run.available) {
      this.run.worker.exits.push(this.finishedIn(o));
      this.settleUnavailable();
      return false;
    }
    if (o.timedOut) {
      this.timedOut(o);
      return false;
    }
    if (o.done && this.pending.length === 0 && o.code === 0) {
      this.run.worker.exits.push({ code: o.code, signal: o.signal, reason: 'finished' });
      return false;
    }
    return this.died(o);
  }

  private timedOut(o: WorkerOutcome): void {
    const budget = this.budget;
    const where = o.current
      ? `case ${o.current}`
      : o.diagnosing
        ? `the diagnosis of case ${o.diagnosing}`
        : this.probed
          ? 'start-up'
          : 'probe';
    if (o.diagnosing) {
      this.results.get(o.diagnosing)!.diagnosisError =
        `not finished within the adapter's ${budget} budget (--timeout); the worker was killed`;
      this.undiagnosedBecause = `not run: the adapter's ${budget} budget (--timeout) ran out during the diagnosis of case ${o.diagnosing}`;
    } else {
      this.undiagnosedBecause = `not run: the adapter's ${budget} budget (--timeout) ran out during ${where}`;
    }
    this.run.worker.exits.push({
      code: o.code,
      signal: o.signal,
      reason: `killed after the ${budget} adapter budget ran out during ${where}`,
    });
    this.run.worker.stderrTail = o.tail;
    if (o.current) {
      this.settle(
        blank(
          this.id,
          o.current,
          'timeout',
          `no result within the adapter's ${budget} budget (--timeout); the worker was killed`,
        ),
      );
      this.settleAll(
        'skipped',
        `not run: the adapter's ${budget} budget (--timeout) ran out during case ${o.current}`,
        o.current,
      );
    } else {
      this.settleAll(
        'timeout',
        `the adapter's ${budget} budget (--timeout) ran out during ${where}; the worker was killed`,
      );
    }
    this.pending = [];
  }

  /** The worker died (or exited without a result for every case). True: the rest runs in a fresh worker. */
  private died(o: WorkerOutcome): boolean {
    const reason = o.done && o.code === 0 ? 'worker finished without a result for every case' : exitReason(o);
    this.run.worker.exits.push({
      code: o.code,
      signal: o.signal,
      reason: o.diagnosing ? `${reason} during the diagnosis of case ${o.diagnosing}` : reason,
    });
    this.run.worker.stderrTail = o.tail;
    if (o.diagnosing) {
      this.results.get(o.diagnosing)!.diagnosisError = `${reason} while diagnosing this case`;
      this.undiagnosedBecause = `not run: ${reason} during the diagnosis of case ${o.diagnosing}`;
    } else {
      this.undiagnosedBecause = `not run: ${reason}`;
    }
    if (o.current) {
      this.settle(blank(this.id, o.current, 'crashed', `${reason} while running this case`));
      this.pending = this.pending.filter((c) => c !== o.current);
      return this.pending.length > 0; // the rest in a fresh worker
    }
    if (this.pending.length === 0) return false; // died after its last result (e.g. in dispose): results stand
    const when = this.probed ? 'before running any of these cases' : 'during the probe';
    this.settleAll(o.done ? 'error' : 'crashed', `${reason} ${when}`);
    this.pending = [];
    return false;
  }

  /** Its task is over for good: the AdapterRun, every requested case with a result. */
  finish(): AdapterRun {
    for (const c of this.undiagnosed()) this.results.get(c)!.diagnosisError = this.undiagnosedBecause;
    const end = this.endedAt ?? performance.now();
    this.run.durationMs = end - (this.startedAt ?? end);
    this.run.results = this.job.cases.map(
      (c) => this.results.get(c) ?? blank(this.id, c, 'error', 'internal: no result recorded'),
    );
    this.opts.progress?.adapterDone?.(this.run);
    return this.run;
  }
}

/**
 * Runs the adapters of one process group (or a single adapter) one after the other in worker
 * processes: one worker for all of them while nothing goes wrong; after a worker dies, a fresh one for
 * the cases and adapters left. Each adapter's budget starts when its turn comes.
 */
async function runAdapterGroup(
  jobs: AdapterJob[],
  opts: OrchestratorOptions,
  verifiedDir: string | null,
): Promise<AdapterRun[]> {
  const states = jobs.map((j) => new AdapterState(j, opts));
  const byId = new Map(states.map((s) => [s.id, s]));
  // Members of one unit have the same processEnv (workerUnits).
  // --verbose: an external program's stderr is passed through by its worker (forwarded below).
  const env = opts.verbose ? { ...workerEnv(jobs[0].entry), [PROGRAM_STDERR_ENV]: '1' } : workerEnv(jobs[0].entry);
  // This run's records of checked cache files (src/util/verified-files.ts); never one inherited from elsewhere.
  if (verifiedDir) env[VERIFIED_DIR_ENV] = verifiedDir;
  else delete env[VERIFIED_DIR_ENV];
  let at = 0; // the adapter whose turn it is
  while (at < states.length) {
    const current = () => states[at];
    current().begin();
    if (current().pending.length === 0) {
      // Nothing to run (every case not applicable): no worker.
      current().finish();
      at++;
      continue;
    }
    current().run.worker.processes++;
    const firstInWorker = at;
    const finishedHere: AdapterState[] = [];
    let readyFor: AdapterState | undefined;
    let startedHere = false;
    const o = await superviseWorker(
      env,
      states.slice(at).map((s) => s.task()),
      opts,
      () => current()?.deadline ?? Infinity,
      (m) => {
        if (m.type === 'ready') readyFor ??= current();
        else if (m.type === 'adapter-start') {
          if (m.adapter !== current()?.id) return;
          startedHere = true;
          if (at !== firstInWorker) current().run.worker.processes++;
        } else if (m.type === 'adapter-done') {
          const s = byId.get(m.adapter);
          if (!s || s !== current()) return;
          s.taskDone();
          finishedHere.push(s);
          at++;
          if (at < states.length) s.endedAt = performance.now(); // the last one's time runs to the worker's exit
          startedHere = false;
          current()?.begin();
        } else if ('adapter' in m) byId.get(m.adapter)?.receive(m);
      },
    );
    if (readyFor) readyFor.run.workerStartupMs += o.startupMs ?? 0;
    // The last adapter's time runs to the worker's exit (no endedAt): the exit is part of it.
    const last = finishedHere[finishedHere.length - 1];
    if (last && last.endedAt === undefined) last.run.exitMs += o.exitMs ?? 0;
    const after = at < states.length && startedHere ? current().id : undefined;
    for (const s of finishedHere) {
      s.run.worker.exits.push(s.finishedIn(o, after));
      s.finish();
    }
    if (at >= states.length) break;
    // It died before the next adapter began: not that adapter's fault; it starts in a fresh worker.
    if (!startedHere && finishedHere.length > 0 && !o.timedOut) continue;
    if (current().workerEnded(o)) continue;
    current().finish();
    at++;
  }
  return states.map((s) => s.run);
}

/** What puts adapters into one worker (workerUnits): the process group with its processEnv; undefined for one alone. */
export function workerUnitKey(entry: Pick<AdapterEntry, 'processGroup' | 'processEnv'>): string | undefined {
  return entry.processGroup === undefined
    ? undefined
    : `${entry.processGroup}\u0000${JSON.stringify(entry.processEnv ?? {})}`;
}

/**
 * The jobs as units of work in their given order: adapters of one process group (with the same
 * processEnv) together, where the first of them stands; every other adapter alone.
 */
export function workerUnits(jobs: AdapterJob[]): AdapterJob[][] {
  const units: AdapterJob[][] = [];
  const byGroup = new Map<string, AdapterJob[]>();
  for (const j of jobs) {
    const key = workerUnitKey(j.entry);
    if (key === undefined) {
      units.push([j]);
      continue;
    }
    const unit = byGroup.get(key);
    if (unit) unit.push(j);
    else {
      const u = [j];
      byGroup.set(key, u);
      units.push(u);
    }
  }
  return units;
}

/**
 * Runs every job (at most opts.concurrency workers at once, started in the given order; the adapters
 * of a process group in one worker, one after the other); results in job order.
 */
export async function runAdapterJobs(opts: OrchestratorOptions): Promise<AdapterRun[]> {
  if (!(Number.isInteger(opts.concurrency) && opts.concurrency >= 1))
    throw new Error(`concurrency must be an integer >= 1, got ${opts.concurrency}`);
  const units = workerUnits(opts.jobs);
  const runs = new Map<AdapterJob, AdapterRun>();
  let next = 0;
  // Created for this run and removed at its end: a check is trusted within one run only.
  let verifiedDir: string | null = null;
  try {
    verifiedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'resnet-conformance-verified-'));
  } catch {
    /* without it every worker checks every cache file itself */
  }
  const lane = async () => {
    while (next < units.length) {
      const unit = units[next++];
      (await runAdapterGroup(unit, opts, verifiedDir)).forEach((r, i) => runs.set(unit[i], r));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, units.length) }, lane));
  } finally {
    if (verifiedDir) fs.rmSync(verifiedDir, { recursive: true, force: true });
  }
  return opts.jobs.map((j) => runs.get(j)!);
}
