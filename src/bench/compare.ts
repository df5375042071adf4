/**
 * Comparing two bench results (a = before, b = after): which adapter × batch latencies got slower
 * or faster beyond the noise.
 *
 * The metric of a row is the median latency, normalized by the ceiling the batch was measured
 * against when possible (latency × ceiling GFLOP/s: the work in units of what the machine could do
 * at that moment — equivalently, efficiency is compared):
 *   - both batches have a paired ceiling (MatMuls interleaved with their own runs): normalized.
 *     On a shared machine whose speed moves from minute to minute this is what makes two runs
 *     comparable: raw latencies of the same code spread far more than efficiencies do
 *     (docs/notes/2026-11-28-performance-investigations.md, "Stability of the ratio");
 *   - otherwise normalized by the ceilings measured between adapters when the two runs' machine
 *     ceilings differ by more than the floor and both runs' own ceiling drift (another machine, or
 *     the same one much busier); raw otherwise.
 * `normalize: 'always' | 'never'` forces the choice.
 *
 * A change counts only when both hold:
 *   1. the 95% confidence intervals of the two medians (each bench's noise band from its own
 *      repeated runs, src/calibration/noise.ts) do not overlap, and
 *   2. the change exceeds the row's noise band between bench runs: the spread of the same row over
 *      repeated bench runs of the same code (a noise profile, noiseProfile() below), or the floor
 *      (default 10%) when no profile is given or the profile's band is smaller.
 * Regression: b's interval lies entirely above a's and b/a − 1 > band. Improvement: the mirror.
 */
import { placementOf } from '../calibration/core-latency';
import { NOISE_PROFILE_KIND, type NoiseProfile } from '../calibration/noise-profile';
import type { AdapterBench, BatchResult, BenchReport } from './schema';

export const DEFAULT_NOISE_FLOOR = 0.1;

export type Normalize = 'auto' | 'always' | 'never';

export interface CompareBenchOptions {
  /** Smallest relative change reported (default 10%). */
  floor?: number;
  normalize?: Normalize;
  /** Per-row noise bands measured from repeated bench runs (bench --noise). */
  profile?: NoiseProfile;
}

export type RowVerdict =
  'regression' | 'improvement' | 'within-noise' | 'failed' | 'not-measured' | 'only-in-a' | 'only-in-b';

export interface BenchDiffRow {
  adapter: string;
  batch: number;
  verdict: RowVerdict;
  aMedianMs: number | null;
  bMedianMs: number | null;
  /** b / a of the raw medians. */
  ratio: number | null;
  /** b / a after normalizing by each batch's ceiling (null without ceilings). */
  normalizedRatio: number | null;
  /** Whether the verdict used the normalized ratio. */
  normalized: boolean;
  /** The relative change that had to be exceeded (max of the floor and the profile's band). */
  band: number;
  /** Where the band came from. */
  bandSource: 'floor' | 'profile';
  /** Confidence intervals the verdict compared (ms; b's scaled into a's units when normalized). */
  aInterval: [number, number] | null;
  bInterval: [number, number] | null;
  reason: string;
  /**
   * Median core-to-core round trip (ns) of the two results' batches, when both measured it
   * (src/calibration/core-latency.ts): a change by FAR_FACTOR or more means the host placed the cores
   * differently, which moves a parallel runtime's latency without any change to the runtime.
   */
  coreRoundTripNs?: [number, number] | null;
}

export interface BenchComparison {
  rows: BenchDiffRow[];
  regressions: number;
  improvements: number;
  floor: number;
  /** b's machine ceiling / a's (null when either has none). */
  ceilingRatio: number | null;
  notes: string[];
  /** Human-readable lines (one per row that is not within noise, then the notes). */
  lines: string[];
  /** 1 when anything regressed or failed, else 0. */
  exitCode: 0 | 1;
}

function pct(x: number): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
}

function interval(b: BatchResult): [number, number] {
  const ci = b.noise?.ci;
  return ci ? [ci.lo, ci.hi] : [b.latencyMs.min, b.latencyMs.max];
}

/** Whether the machine ceilings of the two runs differ beyond the floor and their own drift. */
function machineChanged(a: BenchReport, b: BenchReport, floor: number): { changed: boolean; ratio: number | null } {
  const ca = a.ceiling?.gflops ?? null;
  const cb = b.ceiling?.gflops ?? null;
  if (!ca || !cb) return { changed: false, ratio: null };
  const ratio = cb / ca;
  const tolerance = Math.max(floor, a.ceiling!.drift, b.ceiling!.drift);
  return { changed: Math.abs(Math.log(ratio)) > Math.log(1 + tolerance), ratio };
}

interface RowContext {
  floor: number;
  mode: Normalize;
  machineChanged: boolean;
  profile: NoiseProfile | undefined;
}

/** The ceiling a batch was measured against: its own (paired or bracket), else the adapter's. */
function ceilingOf(x: BatchResult, ax: AdapterBench): number | null {
  const c = x.ceilingGflops ?? ax.ceilingGflops;
  return c && c > 0 ? c : null;
}

function rowFor(
  adapter: string,
  x: BatchResult,
  y: BatchResult,
  ax: AdapterBench,
  by: AdapterBench,
  ctx: RowContext,
): BenchDiffRow {
  const ratio = y.latencyMs.median / x.latencyMs.median;
  const ca = ceilingOf(x, ax);
  const cb = ceilingOf(y, by);
  const scale = ca !== null && cb !== null ? cb / ca : null;
  const normalizedRatio = scale === null ? null : ratio * scale;
  const bothPaired = x.ceilingBasis === 'paired' && y.ceilingBasis === 'paired';
  if (ctx.mode === 'always' && scale === null) {
    throw new Error(
      `compareBench: normalize "always" needs a ceiling for ${adapter} batch ${x.batch} in both bench results`,
    );
  }
  const useNorm =
    scale !== null && (ctx.mode === 'always' || (ctx.mode === 'auto' && (bothPaired || ctx.machineChanged)));
  const s = useNorm ? scale! : 1;
  const [aLo, aHi] = interval(x);
  const [bLo0, bHi0] = interval(y);
  const bLo = bLo0 * s;
  const bHi = bHi0 * s;
  const r = useNorm ? normalizedRatio! : ratio;

  const prof = ctx.profile?.rows.find((p) => p.adapter === adapter && p.batch === x.batch && p.normalized === useNorm);
  const band = Math.max(ctx.floor, prof?.band ?? 0);
  const bandSource: BenchDiffRow['bandSource'] = prof && prof.band > ctx.floor ? 'profile' : 'floor';
  const bandText = bandSource === 'profile' ? `${pct(band)} band of ${prof!.runs} repeated runs` : `${pct(band)} floor`;

  let verdict: RowVerdict = 'within-noise';
  if (bLo > aHi && r - 1 > band) verdict = 'regression';
  else if (bHi < aLo && 1 / r - 1 > band) verdict = 'improvement';
  const what = `${x.latencyMs.median.toFixed(2)} → ${y.latencyMs.median.toFixed(2)} ms (${pct(ratio - 1)}${useNorm ? `; ${pct(r - 1)} relative to the ceiling` : ''})`;
  let reason: string;
  if (verdict === 'regression')
    reason = `slower: ${what}; intervals do not overlap and the change exceeds the ${bandText}`;
  else if (verdict === 'improvement')
    reason = `faster: ${what}; intervals do not overlap and the change exceeds the ${bandText}`;
  else if (bLo > aHi || bHi < aLo) reason = `${what}: intervals separate but the change is within the ${bandText}`;
  else reason = `${what}: within the noise band (the medians' 95% intervals overlap)`;
  const ta = x.coreRoundTrip?.medianNs ?? null;
  const tb = y.coreRoundTrip?.medianNs ?? null;
  const coreRoundTripNs: [number, number] | null = ta !== null && tb !== null ? [ta, tb] : null;
  if (coreRoundTripNs && verdict !== 'within-noise') {
    const trip = `core-to-core round trip ${ta!.toFixed(0)} → ${tb!.toFixed(0)} ns`;
    const lowest = Math.min(ta!, tb!);
    if (placementOf(Math.max(ta!, tb!), lowest) === 'busy') {
      reason += `; in the ${placementOf(tb!, lowest) === 'busy' ? 'second' : 'first'} result the other core was mostly taken (${trip}): the machine, not necessarily the runtime — rerun to tell`;
    } else if (placementOf(Math.max(ta!, tb!), lowest) === 'far') {
      reason += `; the cores were placed ${tb! > ta! ? 'farther apart' : 'closer together'} in the second result (${trip}): the host, not necessarily the runtime — rerun to tell`;
    }
  }
  return {
    adapter,
    batch: x.batch,
    verdict,
    aMedianMs: x.latencyMs.median,
    bMedianMs: y.latencyMs.median,
    ratio,
    normalizedRatio,
    normalized: useNorm,
    band,
    bandSource,
    aInterval: [aLo, aHi],
    bInterval: [bLo, bHi],
    reason,
    coreRoundTripNs,
  };
}

function blankRow(
  adapter: string,
  batch: number,
  verdict: RowVerdict,
  reason: string,
  floor: number,
  a?: BatchResult,
  b?: BatchResult,
): BenchDiffRow {
  return {
    adapter,
    batch,
    verdict,
    aMedianMs: a?.latencyMs.median ?? null,
    bMedianMs: b?.latencyMs.median ?? null,
    ratio: null,
    normalizedRatio: null,
    normalized: false,
    band: floor,
    bandSource: 'floor',
    aInterval: a ? interval(a) : null,
    bInterval: b ? interval(b) : null,
    reason,
  };
}

export function compareBench(a: BenchReport, b: BenchReport, opts: CompareBenchOptions = {}): BenchComparison {
  const floor = opts.floor ?? DEFAULT_NOISE_FLOOR;
  if (!(Number.isFinite(floor) && floor >= 0))
    throw new Error(`compareBench: noise floor must be a finite number >= 0, got ${floor}`);
  if (opts.profile && opts.profile.kind !== NOISE_PROFILE_KIND)
    throw new Error('compareBench: profile is not a bench noise profile');
  const mode = opts.normalize ?? 'auto';
  const notes: string[] = [];
  const m = machineChanged(a, b, floor);
  if (m.changed && mode === 'auto') {
    notes.push(
      `the machine's ceiling changed ${pct(m.ratio! - 1)} (${a.ceiling!.gflops.toFixed(1)} → ${b.ceiling!.gflops.toFixed(1)} GFLOP/s), beyond the floor and both runs' ceiling drift: rows without paired ceilings are compared relative to the ceilings measured between adapters`,
    );
  }
  if (a.model?.inputShape && b.model?.inputShape && a.model.inputShape.join(',') !== b.model.inputShape.join(',')) {
    notes.push(
      `the models differ (input ${a.model.inputShape.join('x')} vs ${b.model.inputShape.join('x')}): latencies are not comparable`,
    );
  }
  const ctx: RowContext = { floor, mode, machineChanged: m.changed, profile: opts.profile };
  const rows: BenchDiffRow[] = [];
  const bAdapters = new Map(b.adapters.map((x) => [x.id, x]));
  const seen = new Set<string>();
  for (const ax of a.adapters) {
    const bx = bAdapters.get(ax.id);
    for (const x of ax.batches) {
      seen.add(`${ax.id}\u0000${x.batch}`);
      const y = bx?.batches.find((q) => q.batch === x.batch);
      if (!bx) rows.push(blankRow(ax.id, x.batch, 'only-in-a', 'not benchmarked in the second result', floor, x));
      else if (y) rows.push(rowFor(ax.id, x, y, ax, bx, ctx));
      else if (!bx.available)
        rows.push(
          blankRow(
            ax.id,
            x.batch,
            'not-measured',
            `unavailable in the second result: ${bx.unavailableReason ?? 'no reason given'}`,
            floor,
            x,
          ),
        );
      else if (bx.error)
        rows.push(
          blankRow(ax.id, x.batch, 'failed', `failed in the second result: ${bx.error.split('\n')[0]}`, floor, x),
        );
      else
        rows.push(
          blankRow(ax.id, x.batch, 'only-in-a', `batch ${x.batch} not benchmarked in the second result`, floor, x),
        );
    }
  }
  for (const bx of b.adapters) {
    for (const y of bx.batches) {
      if (!seen.has(`${bx.id}\u0000${y.batch}`))
        rows.push(blankRow(bx.id, y.batch, 'only-in-b', 'not benchmarked in the first result', floor, undefined, y));
    }
  }
  if (rows.some((r) => r.ratio !== null && !r.normalized) && !(a.ceiling && b.ceiling))
    notes.push('no ceiling in both results: raw latencies compared');
  const regressions = rows.filter((r) => r.verdict === 'regression' || r.verdict === 'failed').length;
  const improvements = rows.filter((r) => r.verdict === 'improvement').length;
  const mark: Record<RowVerdict, string> = {
    regression: '!',
    failed: '!',
    improvement: '✓',
    'within-noise': '=',
    'not-measured': '?',
    'only-in-a': '-',
    'only-in-b': '+',
  };
  const lines = rows
    .filter((r) => r.verdict !== 'within-noise')
    .map((r) => `${mark[r.verdict]} ${r.adapter} batch ${r.batch}: ${r.verdict} — ${r.reason}`);
  lines.push(...notes.map((n) => `note: ${n}`));
  return {
    rows,
    regressions,
    improvements,
    floor,
    ceilingRatio: m.ratio,
    notes,
    lines,
    exitCode: regressions > 0 ? 1 : 0,
  };
}
