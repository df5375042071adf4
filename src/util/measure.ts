/**
 * The timing loop: warm-up runs (not recorded), then measured runs until there are enough of them
 * for a median, a p90 and a noise band, bounded by a time budget so a slow adapter cannot stall a
 * benchmark. Each run is timed on its own with the monotonic high-resolution clock.
 */

export interface RunPolicy {
  /** Warm-up runs before measuring (first-call compilation, allocator growth, caches). */
  warmup: number;
  /** Exact number of measured runs; when set, minRuns/minTimeMs/maxRuns/budgetMs are ignored. */
  runs?: number;
  /** At least this many measured runs (unless the budget runs out first, see budgetMs). */
  minRuns: number;
  /** And keep measuring until this much measured time has accumulated. */
  minTimeMs: number;
  /** Never more than this many measured runs. */
  maxRuns: number;
  /**
   * Stop once this much measured time has passed and at least `floorRuns` runs exist, even below
   * minRuns: a 4-second-per-batch adapter gets fewer runs rather than minutes of benchmarking.
   */
  budgetMs: number;
  floorRuns: number;
}

export const DEFAULT_RUN_POLICY: RunPolicy = {
  warmup: 2,
  minRuns: 10,
  minTimeMs: 2000,
  maxRuns: 200,
  budgetMs: 30_000,
  floorRuns: 5,
};

export interface Timings {
  warmupMs: number[];
  samplesMs: number[];
  /** Why measuring stopped: 'runs' (exact count), 'enough', 'max-runs' or 'budget'. */
  stoppedBy: 'runs' | 'enough' | 'max-runs' | 'budget';
}

export function checkPolicy(p: RunPolicy): void {
  const nonNegInt = (v: number, name: string): void => {
    if (!(Number.isInteger(v) && v >= 0))
      throw new Error(`run policy: ${name} must be a non-negative integer, got ${v}`);
  };
  nonNegInt(p.warmup, 'warmup');
  nonNegInt(p.minRuns, 'minRuns');
  nonNegInt(p.maxRuns, 'maxRuns');
  nonNegInt(p.floorRuns, 'floorRuns');
  if (p.runs !== undefined && !(Number.isInteger(p.runs) && p.runs >= 1))
    throw new Error(`run policy: runs must be an integer >= 1, got ${p.runs}`);
  if (p.runs === undefined && p.maxRuns < 1) throw new Error('run policy: maxRuns must be >= 1');
  if (!(p.minTimeMs >= 0) || !(p.budgetMs > 0))
    throw new Error(`run policy: minTimeMs must be >= 0 and budgetMs > 0 (got ${p.minTimeMs}, ${p.budgetMs})`);
}

/** Whether another measured run is needed after `n` runs taking `elapsedMs` in total. */
export function wantsMoreRuns(p: RunPolicy, n: number, elapsedMs: number): Timings['stoppedBy'] | null {
  if (p.runs !== undefined) return n >= p.runs ? 'runs' : null;
  if (n >= p.maxRuns) return 'max-runs';
  if (n >= p.minRuns && elapsedMs >= p.minTimeMs) return 'enough';
  if (n >= Math.max(1, p.floorRuns) && elapsedMs >= p.budgetMs) return 'budget';
  return null;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Times `fn` under the policy. `fn` must do one complete unit of work (one forward pass). */
export async function timeRuns(fn: () => Promise<unknown> | unknown, policy: RunPolicy): Promise<Timings> {
  checkPolicy(policy);
  const warmupMs: number[] = [];
  for (let i = 0; i < policy.warmup; i++) {
    const t = nowMs();
    await fn();
    warmupMs.push(nowMs() - t);
  }
  const samplesMs: number[] = [];
  let elapsed = 0;
  for (;;) {
    const stop = wantsMoreRuns(policy, samplesMs.length, elapsed);
    if (stop) return { warmupMs, samplesMs, stoppedBy: stop };
    const t = nowMs();
    await fn();
    const dt = nowMs() - t;
    samplesMs.push(dt);
    elapsed += dt;
  }
}

/**
 * Times several workloads round-robin under one policy each: after every workload's warm-up, one
 * run of each workload that still wants runs, in turn, until none does. Compared with timing them
 * one after the other, the load of a shared machine hits every workload alike, so their ratio is
 * measured under the same conditions (the MatMul ceiling compares runtimes this way).
 */
export async function timeRunsInterleaved(
  fns: ReadonlyArray<() => Promise<unknown> | unknown>,
  policy: RunPolicy,
): Promise<Timings[]> {
  checkPolicy(policy);
  const out: Timings[] = fns.map(() => ({ warmupMs: [], samplesMs: [], stoppedBy: 'enough' }));
  const elapsed = fns.map(() => 0);
  const done: Array<Timings['stoppedBy'] | null> = fns.map(() => null);
  for (let i = 0; i < policy.warmup; i++) {
    for (let k = 0; k < fns.length; k++) {
      const t = nowMs();
      await fns[k]();
      out[k].warmupMs.push(nowMs() - t);
    }
  }
  for (;;) {
    let ran = false;
    for (let k = 0; k < fns.length; k++) {
      if (done[k]) continue;
      const stop = wantsMoreRuns(policy, out[k].samplesMs.length, elapsed[k]);
      if (stop) {
        done[k] = stop;
        out[k].stoppedBy = stop;
        continue;
      }
      const t = nowMs();
      await fns[k]();
      const dt = nowMs() - t;
      out[k].samplesMs.push(dt);
      elapsed[k] += dt;
      ran = true;
    }
    if (!ran) return out;
  }
}
