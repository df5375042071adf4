/**
 * Shrinking a failing configuration (greedy delta debugging): try simpler neighbours in a fixed
 * order (batch, sizes, channels, kernel, stride, padding, block filters, BN mode, values) and keep
 * the first that still fails, until none does or the evaluation budget is spent. Deterministic: the
 * same failure shrinks to the same minimal form.
 */
import { configProblem, type SweepConfig } from './configs';

/** Smaller values to try for a positive integer `v` (smallest first), above `min`. */
function smaller(v: number, min = 1): number[] {
  const out = [min, Math.floor(v / 2), v - 1].filter((x) => x >= min && x < v);
  return [...new Set(out)];
}

/** The simpler neighbours of `c`, most aggressive first. */
export function shrinkCandidates(c: SweepConfig): SweepConfig[] {
  const out: SweepConfig[] = [];
  const push = (patch: Partial<SweepConfig>) => out.push({ ...c, ...patch });
  for (const v of smaller(c.batch)) push({ batch: v });
  if (c.h !== c.w) push(c.h < c.w ? { w: c.h } : { h: c.w });
  for (const v of smaller(c.h)) push({ h: v });
  for (const v of smaller(c.w)) push({ w: v });
  if (c.kind === 'block' && c.filters) {
    const f = c.filters;
    for (let i = 0; i < 3; i++) {
      for (const v of smaller(f[i])) {
        const filters = [...f] as [number, number, number];
        filters[i] = v;
        push(c.block === 'identity' && i === 2 ? { filters, cin: v } : { filters });
      }
    }
  }
  if (!(c.kind === 'block' && c.block === 'identity')) for (const v of smaller(c.cin)) push({ cin: v });
  if (c.kind === 'conv' || c.kind === 'dense') for (const v of smaller(c.cout)) push({ cout: v });
  if (c.kind === 'conv' || c.kind === 'pool' || c.kind === 'block') {
    for (const v of smaller(c.kernel)) push({ kernel: v });
    // The kernel and the input together, keeping their difference (input = kernel, input < kernel
    // are edges a kernel-only or size-only step would leave).
    for (const v of smaller(c.kernel)) {
      const d = c.kernel - v;
      if (c.h - d >= 1 && c.w - d >= 1) push({ kernel: v, h: c.h - d, w: c.w - d });
    }
  }
  if (c.kind === 'conv' || c.kind === 'pool' || (c.kind === 'block' && c.block === 'convolutional'))
    for (const v of smaller(c.stride)) push({ stride: v });
  if ((c.kind === 'conv' || c.kind === 'pool') && c.padding === 'same') push({ padding: 'valid' });
  if (c.training) push({ training: false });
  if (c.values !== 'quarters') push({ values: 'quarters' });
  return out.filter((x) => configProblem(x) === null);
}

export interface ShrinkResult {
  minimal: SweepConfig;
  /** Predicate evaluations spent. */
  evaluations: number;
  /** Accepted steps. */
  steps: number;
  /** The evaluation budget ran out before no candidate failed (the result may not be minimal). */
  exhausted: boolean;
}

/**
 * Shrinks `start` (which fails) while `fails` holds. `fails` must be deterministic for the result
 * to be; it is never called on `start` itself.
 */
export async function shrinkConfig(
  start: SweepConfig,
  fails: (c: SweepConfig) => Promise<boolean>,
  maxEvaluations = 150,
): Promise<ShrinkResult> {
  let cur = start;
  let evaluations = 0;
  let steps = 0;
  for (;;) {
    let moved = false;
    for (const cand of shrinkCandidates(cur)) {
      if (evaluations >= maxEvaluations) return { minimal: cur, evaluations, steps, exhausted: true };
      evaluations++;
      if (await fails(cand)) {
        cur = cand;
        steps++;
        moved = true;
        break;
      }
    }
    if (!moved) return { minimal: cur, evaluations, steps, exhausted: false };
  }
}

/** The group key of a minimal form: everything but the value seed (a group is one shape of bug). */
export function groupKey(adapter: string, c: SweepConfig): string {
  const { valueSeed: _seed, ...rest } = c;
  void _seed;
  return `${adapter} ${JSON.stringify(rest)}`;
}
