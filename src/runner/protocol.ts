/** Messages between the orchestrator and an adapter worker (over the child_process IPC channel). */
import type { AdapterCommandSource } from '../adapters/pool';
import type { AdapterDescription } from '../adapters/types';
import type { KnownCrashReport } from '../adapters/known-crashes';
import type { Diagnosis } from '../diagnose/types';
import type { CaseResult } from '../report/schema';
import type { RegressionWatch } from './regression';

/** Orchestrator → worker, once, right after the fork. */
export interface StartMessage {
  type: 'start';
  adapter: string;
  /**
   * `--adapter-module` files (absolute) the adapter may come from: the worker loads them as the
   * parent did (src/adapters/pool.ts). Passed here, never through the environment.
   */
  adapterModules: string[];
  /** `--adapter-command` programs (ids resolved, cwd absolute): the worker starts the same program. */
  adapterCommands: AdapterCommandSource[];
  fixturesDir: string;
  /** Case ids to run, in the order to report them. */
  cases: string[];
  /** Skip the probe (already done by an earlier worker of the same adapter). */
  skipProbe: boolean;
  /**
   * Diagnose every case that ends 'fail-numeric' (src/runner/diagnose-failure.ts), after all the
   * worker's cases have their results (`run --no-diagnose` turns it off).
   */
  diagnose: boolean;
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

export type WorkerMessage =
  /** First message, as soon as the worker has loaded its modules and received the start message. */
  | { type: 'ready' }
  | { type: 'probe'; available: boolean; reason?: string; fix?: string; knownCrash?: KnownCrashReport }
  | { type: 'describe'; description: AdapterDescription | null; error?: string }
  | { type: 'case-start'; case: string }
  | { type: 'case-result'; result: CaseResult }
  /** The diagnosis of a case whose result was already sent begins (cases are never run after this). */
  | { type: 'diagnosis-start'; case: string }
  /** Its outcome: the diagnosis, or why there is none. Never changes the case's status. */
  | { type: 'diagnosis'; case: string; diagnosis?: Diagnosis; error?: string }
  | { type: 'fatal'; error: string }
  | { type: 'done' };
