/** Messages between the orchestrator and an adapter worker (over the child_process IPC channel). */
import type { AdapterCommandSource } from '../adapters/pool';
import type { AdapterDescription } from '../adapters/types';
import type { KnownCrashReport } from '../adapters/known-crashes';
import type { Diagnosis } from '../diagnose/types';
import type { CaseResult } from '../report/schema';
import type { RegressionWatch } from './regression';

/** One adapter's share of a worker's work. */
export interface AdapterTask {
  adapter: string;
  /** Case ids to run, in the order to report them. */
  cases: string[];
  /** Skip the probe (already done by an earlier worker of the same adapter). */
  skipProbe: boolean;
  /**
   * 'fail-numeric' cases an earlier worker of this adapter evaluated but did not diagnose (it
   * crashed on a later case): diagnosed after this worker's own cases.
   */
  diagnoseAlso: string[];
  /**
   * With `--baseline`: this adapter's baseline errors, so that a case that passes but will be
   * 'regressed' (error growth, ./regression.ts) is diagnosed as well.
   */
  regressionWatch?: RegressionWatch;
}

/** Orchestrator → worker, once, right after the fork. */
export interface StartMessage {
  type: 'start';
  /**
   * The adapters to run, one after the other: one, or the adapters of one process group
   * (AdapterEntry.processGroup, e.g. the browser adapters sharing one Chromium).
   */
  tasks: AdapterTask[];
  /**
   * `--adapter-module` files (absolute) the adapter may come from: the worker loads them as the
   * parent did (src/adapters/pool.ts). Passed here, never through the environment.
   */
  adapterModules: string[];
  /** `--adapter-command` programs (ids resolved, cwd absolute): the worker starts the same program. */
  adapterCommands: AdapterCommandSource[];
  fixturesDir: string;
  /**
   * Diagnose every case that ends 'fail-numeric' (src/runner/diagnose-failure.ts), after all the
   * adapter's cases have their results (`run --no-diagnose` turns it off).
   */
  diagnose: boolean;
}

/** Every message but 'ready', 'fatal' and 'done' names the adapter it is about. */
export type WorkerMessage =
  /** First message, as soon as the worker has loaded its modules and received the start message. */
  | { type: 'ready' }
  /** The worker begins the task of this adapter (tasks run in StartMessage order). */
  | { type: 'adapter-start'; adapter: string }
  | {
      type: 'probe';
      adapter: string;
      available: boolean;
      reason?: string;
      fix?: string;
      knownCrash?: KnownCrashReport;
      /** Time adapter.probe() took (loading the runtime, a smoke run, a browser launch). */
      ms?: number;
    }
  /** `ms`: time adapter.describe() took. */
  | { type: 'describe'; adapter: string; description: AdapterDescription | null; error?: string; ms?: number }
  | { type: 'case-start'; adapter: string; case: string }
  | { type: 'case-result'; adapter: string; result: CaseResult }
  /** The diagnosis of a case whose result was already sent begins (cases are never run after this). */
  | { type: 'diagnosis-start'; adapter: string; case: string }
  /** Its outcome: the diagnosis, or why there is none. Never changes the case's status. */
  | { type: 'diagnosis'; adapter: string; case: string; diagnosis?: Diagnosis; error?: string }
  /** The adapter's task is over (every result and diagnosis sent, the adapter disposed). */
  | { type: 'adapter-done'; adapter: string }
  | { type: 'fatal'; error: string }
  | { type: 'done' };
