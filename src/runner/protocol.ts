/** Messages between the orchestrator and an adapter worker (over the child_process IPC channel). */
import type { AdapterDescription } from '../adapters/types';
import type { CaseResult } from '../report/schema';

/** Orchestrator → worker, once, right after the fork. */
export interface StartMessage {
  type: 'start';
  adapter: string;
  fixturesDir: string;
  /** Case ids to run, in the order to report them. */
  cases: string[];
  /** Skip the probe (already done by an earlier worker of the same adapter). */
  skipProbe: boolean;
}

export type WorkerMessage =
  /** First message, as soon as the worker has loaded its modules and received the start message. */
  | { type: 'ready' }
  | { type: 'probe'; available: boolean; reason?: string; fix?: string }
  | { type: 'describe'; description: AdapterDescription | null; error?: string }
  | { type: 'case-start'; case: string }
  | { type: 'case-result'; result: CaseResult }
  | { type: 'fatal'; error: string }
  | { type: 'done' };
