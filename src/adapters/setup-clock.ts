/**
 * Time an adapter spends inside its runtime's own model or session creation (ort.InferenceSession.create,
 * building a tfjs-layers model, the reference executor preparing its kernels), as opposed to the
 * harness's preparation around it (exporting ONNX, weights, sending bytes to a page). Adapters that
 * keep one expose it as Adapter.runtimeSetupMs; the runner records the part spent in build() and the
 * part spent in run() (sessions some adapters create on the first run of a BatchNormalization mode
 * or capture set), so that neither is counted as inference (src/report/overhead.ts).
 */
export class SetupClock {
  private total = 0;

  /** Milliseconds measured so far (never decreases). */
  get ms(): number {
    return this.total;
  }

  /** Adds a duration measured elsewhere (e.g. inside a browser page); ignores anything not finite and ≥ 0. */
  add(ms: unknown): void {
    if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) this.total += ms;
  }

  /** Runs `fn`, adding its duration (also when it throws). */
  async time<T>(fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.total += performance.now() - t;
    }
  }

  /** Synchronous `time`. */
  timeSync<T>(fn: () => T): T {
    const t = performance.now();
    try {
      return fn();
    } finally {
      this.total += performance.now() - t;
    }
  }
}

type CumulativeMs = 'runtimeSetupMs' | 'harnessPrepMs';

/** What the adapter's cumulative counter `name` says now; undefined when it has none or it says nothing usable. */
function readCumulative(adapter: { [K in CumulativeMs]?: () => number }, name: CumulativeMs): number | undefined {
  const read = adapter[name];
  if (typeof read !== 'function') return undefined;
  const v = read.call(adapter);
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** The adapter's cumulative own preparation time (Adapter.harnessPrepMs), or undefined when it does not record one. */
export function harnessPrepOf(adapter: { harnessPrepMs?: () => number }): number | undefined {
  return readCumulative(adapter, 'harnessPrepMs');
}

/** The adapter's cumulative runtime setup time, or undefined when it does not record one. */
export function runtimeSetupOf(adapter: { runtimeSetupMs?: () => number }): number | undefined {
  return readCumulative(adapter, 'runtimeSetupMs');
}

/**
 * How much a cumulative counter (runtimeSetupOf, harnessPrepOf) grew since this call: a function
 * giving the growth so far, undefined when the counter was or is not recorded (never negative).
 */
export function growthSince(read: () => number | undefined): () => number | undefined {
  const start = read();
  return () => {
    if (start === undefined) return undefined;
    const now = read();
    return now === undefined ? undefined : Math.max(0, now - start);
  };
}
