/**
 * Core-to-core round trip: two threads of the bench worker hand a cache line back and forth, and
 * the median time of one round trip says how far apart the cores they run on are.
 *
 * Why the bench measures it: on a virtual machine the host may place the vCPUs in one cache domain
 * (one L3) or in two, and move them while a benchmark runs. With the cores far apart a parallel
 * runtime runs measurably slower — the "slow periods" of the benchmark machine
 * (docs/notes/2026-11-28-performance-investigations.md) — while the MatMul ceiling, which hardly
 * synchronizes its threads, keeps its rate. A parallel
 * runtime's latency (and so its efficiency against the ceiling) then depends on where the host put
 * the cores, not on the runtime. The bench records the round trip after every block of runs, so a
 * reader can tell a placement change from a regression.
 *
 * The responder thread sleeps (Atomics.wait) between measurements: it takes no CPU while the adapter
 * runs. It is started after the adapter's memory pass, so its few MiB are not in the peak RSS.
 */
import { Worker } from 'worker_threads';
import { availableCores } from './ceiling';
import { median } from '../util/stats';

/** Round trips per sample, and samples per measurement (a sample takes milliseconds: see BUDGET_NS). */
export const TRIPS_PER_SAMPLE = 100;
export const SAMPLES = 50;
/** A round trip this long means the responder is not running (gone, or descheduled for good). */
const STALL_NS = 50e6;
/**
 * Time a measurement may take. When the other core is taken, the two threads take turns on one and
 * every round trip costs a scheduler time slice (milliseconds): the budget keeps the measurement
 * short then, and the few round trips it got still say "busy".
 */
export const BUDGET_NS = 20e6;

// Int32 slots of the shared buffer (each on its own 64-byte line).
const BALL = 0; // odd: the responder's turn; even: the measuring thread's
const PHASE = 16; // 1 while a measurement runs
const QUIT = 32;

const RESPONDER = `
const { workerData } = require('worker_threads');
const f = new Int32Array(workerData);
for (;;) {
  Atomics.wait(f, ${PHASE}, 0);
  if (Atomics.load(f, ${QUIT}) === 1) break;
  while (Atomics.load(f, ${PHASE}) === 1) {
    const v = Atomics.load(f, ${BALL});
    if ((v & 1) === 1) Atomics.store(f, ${BALL}, v + 1);
  }
}
`;

export interface CoreProbe {
  /** Median round trip in ns, or null when the responder did not answer. */
  measure(): number | null;
  close(): Promise<void>;
}

function nowNs(): bigint {
  return process.hrtime.bigint();
}

/**
 * The measurement itself, apart from the threads: `trip()` hands the line over once and waits for it
 * to come back (false: it stalled), `now()` reads the clock in ns. Ten unmeasured trips wake the
 * responder; then samples of TRIPS_PER_SAMPLE trips until SAMPLES samples or the BUDGET_NS budget.
 * Returns the median ns per round trip, or null when a trip stalled.
 */
export function measureRoundTrips(trip: () => boolean, now: () => bigint): number | null {
  for (let i = 0; i < 10; i++) if (!trip()) return null; // the responder wakes up
  const deadline = now() + BigInt(BUDGET_NS);
  const samples: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t = now();
    let trips = 0;
    while (trips < TRIPS_PER_SAMPLE) {
      if (!trip()) return null;
      trips++;
      if ((trips & 7) === 0 && now() > deadline) break;
    }
    const end = now();
    samples.push(Number(end - t) / trips);
    if (end > deadline) break;
  }
  return median(samples);
}

/** Starts the responder thread; null on a single core (no second core to hand a line to). */
export function startCoreProbe(cores = availableCores()): CoreProbe | null {
  if (cores < 2) return null;
  const sab = new SharedArrayBuffer(4 * (QUIT + 16));
  const f = new Int32Array(sab);
  const worker = new Worker(RESPONDER, { eval: true, workerData: sab });
  worker.unref();
  let dead = false;
  worker.on('error', () => {
    dead = true;
  });
  worker.on('exit', () => {
    dead = true;
  });

  /** One round trip; false when it stalled. */
  const trip = (): boolean => {
    const v = Atomics.load(f, BALL);
    Atomics.store(f, BALL, v + 1);
    let spins = 0;
    const start = nowNs();
    while (Atomics.load(f, BALL) === v + 1) {
      if (++spins % 4096 === 0 && (dead || Number(nowNs() - start) > STALL_NS)) return false;
    }
    return true;
  };

  return {
    measure(): number | null {
      if (dead) return null;
      Atomics.store(f, BALL, 0);
      Atomics.store(f, PHASE, 1);
      Atomics.notify(f, PHASE);
      try {
        return measureRoundTrips(trip, nowNs);
      } finally {
        Atomics.store(f, PHASE, 0);
      }
    },
    async close(): Promise<void> {
      if (dead) return;
      dead = true;
      Atomics.store(f, QUIT, 1);
      Atomics.store(f, PHASE, 1);
      Atomics.notify(f, PHASE);
      await worker.terminate();
    },
  };
}

/** What a batch's round trips say (BatchResult.coreRoundTrip in src/bench/schema.ts). */
export interface CoreRoundTripSummary {
  /** Round trip after each block of runs, ns (null: not answered). */
  samplesNs: Array<number | null>;
  /** Median run latency of each block, ms (same order). */
  blockMedianMs: number[];
  medianNs: number | null;
  minNs: number | null;
  maxNs: number | null;
  /** Blocks whose round trip was at least FAR_FACTOR × the lowest one (and below BUSY_NS). */
  farBlocks: number;
  /**
   * Blocks whose round trip was BUSY_NS or more: the two threads could not run at the same time
   * (the other core was taken — by the adapter's own leftover threads or another process).
   */
  busyBlocks?: number;
  /** The lowest round trip "far" was judged against: the whole bench's (set by run-bench.ts; null from a worker). */
  lowestNs?: number | null;
  /** The largest round trip of the far blocks (null: none). */
  farMaxNs?: number | null;
  /** Median run latency over the near and the far blocks' medians (null when there are none). */
  nearMedianMs: number | null;
  farMedianMs: number | null;
}

/**
 * A round trip this many times the lowest one seen means the cores were placed farther apart.
 * Measured here: near 62–140 ns, far 380–420 ns (lowest 62–85 ns), so 3× separates them.
 */
export const FAR_FACTOR = 3;
/** A round trip this long is no placement (cross-socket is ≈ 1 µs) but time slicing: one core for both threads. */
export const BUSY_NS = 20_000;

/** What one round trip says, judged against the lowest one: 'busy' (≥ BUSY_NS), 'far' (≥ FAR_FACTOR × lowest) or 'near'. */
export function placementOf(ns: number, lowestNs: number | null): 'near' | 'far' | 'busy' {
  if (ns >= BUSY_NS) return 'busy';
  return lowestNs !== null && ns >= FAR_FACTOR * lowestNs ? 'far' : 'near';
}

export function summarizeRoundTrips(
  samplesNs: Array<number | null>,
  blockMedianMs: number[],
  lowestNs: number | null,
): CoreRoundTripSummary {
  const good = samplesNs.filter((v): v is number => v !== null);
  const busy = (v: number | null): boolean => v !== null && placementOf(v, lowestNs) === 'busy';
  const far = (v: number | null): boolean => v !== null && placementOf(v, lowestNs) === 'far';
  const near = (v: number | null): boolean => v !== null && placementOf(v, lowestNs) === 'near';
  const nearMs = blockMedianMs.filter((_, i) => near(samplesNs[i]));
  const farMs = blockMedianMs.filter((_, i) => far(samplesNs[i]));
  return {
    samplesNs: [...samplesNs],
    blockMedianMs: [...blockMedianMs],
    medianNs: good.length ? median(good) : null,
    minNs: good.length ? Math.min(...good) : null,
    maxNs: good.length ? Math.max(...good) : null,
    farBlocks: farMs.length,
    busyBlocks: samplesNs.filter(busy).length,
    lowestNs,
    farMaxNs: samplesNs.some(far) ? Math.max(...samplesNs.filter(far).map((v) => v!)) : null,
    nearMedianMs: nearMs.length ? median(nearMs) : null,
    farMedianMs: farMs.length ? median(farMs) : null,
  };
}
