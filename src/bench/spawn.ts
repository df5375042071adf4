/**
 * Starts one bench worker (src/bench/worker.ts) for one job, under a time limit, and returns its
 * result or a description of how it failed (exit code, signal, time-out, last lines of output).
 */
import { fork, type ChildProcess } from 'child_process';
import * as path from 'path';
import { workerLaunch } from '../workers/precompiled-worker';
import { likelyKnownCrash } from '../adapters/known-crashes';
import { signalMeaning } from '../util/signals';
import type { BenchJob, JobResult, WorkerReply } from './protocol';
import { stopChildren, terminateChild } from '../util/signals';

export interface WorkerOutcome {
  result: JobResult | null;
  /** Why there is no result (null when there is one). */
  failure: string | null;
  wallMs: number;
  /** Last output of the worker (stdout + stderr), kept for failures. */
  tail: string;
}

const TAIL_CHARS = 4000;
const active = new Set<ChildProcess>();

/** Stops every worker this process started (SIGINT / SIGTERM handler of the bench command): SIGTERM, then SIGKILL after a grace. */
export function stopBenchWorkers(): Promise<void> {
  return stopChildren(active);
}

function lastLine(s: string): string {
  const lines = s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

// worker.ts beside this source; worker.js in the built package (dist/, `npm run build`).
export const BENCH_WORKER_FILE = path.join(__dirname, `worker${path.extname(__filename)}`);

export async function runWorker(
  job: BenchJob,
  opts: {
    timeoutMs: number;
    verbose?: boolean;
    label: string;
    onProgress?: (text: string) => void;
    /** Added to this process's environment (an adapter entry's processEnv, e.g. NVIDIA_TF32_OVERRIDE=0). */
    env?: Record<string, string>;
  },
): Promise<WorkerOutcome> {
  const entry = await workerLaunch(BENCH_WORKER_FILE);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const out: WorkerOutcome = { result: null, failure: null, wallMs: 0, tail: '' };
    let fatalText: string | null = null;
    let timedOut = false;
    let child: ChildProcess;
    try {
      child = fork(entry.file, [], {
        execArgv: entry.execArgv,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, ...opts.env },
      });
    } catch (err) {
      resolve({ ...out, failure: `worker could not start: ${(err as Error).message}` });
      return;
    }
    active.add(child);
    const keep = (chunk: Buffer): void => {
      out.tail = (out.tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
      if (opts.verbose) process.stderr.write(`[${opts.label}] ${chunk.toString('utf8')}`);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      terminateChild(child);
    }, opts.timeoutMs);
    child.on('message', (m: WorkerReply) => {
      if (m.type === 'result') out.result = m.result;
      else if (m.type === 'fatal') fatalText = m.error;
      else if (m.type === 'progress') opts.onProgress?.(m.text);
    });
    let spawnError: string | null = null;
    child.on('error', (err) => {
      spawnError ??= err.message;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      active.delete(child);
      out.wallMs = performance.now() - t0;
      setImmediate(() => {
        if (!out.result) {
          if (spawnError) out.failure = `worker could not start: ${spawnError}`;
          else if (timedOut) out.failure = `timed out after ${Math.round(opts.timeoutMs / 1000)} s (worker killed)`;
          else if (fatalText) out.failure = `worker failed: ${fatalText.split('\n')[0]}`;
          else if (signal) {
            const adapter = job.kind === 'adapter' ? job.adapter : undefined;
            const known = adapter ? likelyKnownCrash(adapter, signal) : undefined;
            out.failure =
              `adapter crashed: worker killed by ${signal} (${signalMeaning(signal)})` +
              (/out of memory|heap limit/i.test(out.tail) ? ' (out of memory)' : '') +
              (known ? `; most likely the known crash ${known.id}; workaround: ${known.workaround}` : '');
          } else
            out.failure = `worker exited with code ${code} without a result${out.tail ? `: ${lastLine(out.tail)}` : ''}`;
        }
        resolve(out);
      });
    });
    child.send({ type: 'job', job }, (err) => {
      if (err) spawnError ??= `cannot send the job: ${err.message}`;
    });
  });
}
