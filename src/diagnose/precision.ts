/**
 * Which arithmetic a layer most plausibly used: distances between the adapter's output and each
 * hypothesis (src/diagnose/formats.ts), all evaluated on the adapter's own inputs to the layer,
 * in units of ULP(S) (S: the layer's error magnitude, src/compare/layer-budgets.ts).
 *
 * Decision for one layer (FLOOR_ULP = 2):
 *   best      = the hypothesis with the smallest RMS distance
 *   runner-up = the closest other hypothesis whose output differs from best's by > FLOOR_ULP RMS
 *   gap       = RMS distance between best's and runner-up's outputs
 *   match            distance(best) ≤ 0.3·gap
 *   ambiguous        0.3·gap < distance(best) ≤ gap
 *   unexplained      distance(best) > max(gap, FLOOR_ULP)
 *   indistinguishable  no runner-up (all hypotheses within FLOOR_ULP of each other here) and
 *                      distance(best) ≤ FLOOR_ULP
 * A real fp32 kernel differs from the correctly rounded fp32 hypothesis only by summation order,
 * which stays well below one ULP(S) RMS (measured: see docs/diagnose.md), while TF32 operands move a
 * K-term dot product by ~2^-11·‖x∘w‖₂ ≈ 2^12/√K ULP(S) RMS: the gap is large wherever the data lets
 * the hypotheses be told apart.
 */
import type { JsonNumber } from '../compare/metrics';
import { ARITHMETIC_LABEL, type Arithmetic } from './formats';
import type { LayerRow, PrecisionException, PrecisionStatus, PrecisionSummary, PrecisionVerdict } from './types';

/*
 * Math/Number are read once into module constants: inside Jest's vm context every global lookup in
 * a hot loop is slow (two orders of magnitude slower than plain Node: docs/notes/measured-in-code-comments.md).
 */
const M = Math;
const N = Number;

export const FLOOR_ULP = 2;
export const MATCH_FRACTION = 0.3;

/** Distance from `a` to `b` in ULP(S): RMS and max of |a_i − b_i| / unit_i (NaN pairs are 0 apart). */
export function distanceUlp(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  unit: Float64Array,
): { rms: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let i = 0; i < unit.length; i++) {
    const x = a[i];
    const y = b[i];
    let d: number;
    if (x !== x || y !== y) d = x !== x && y !== y ? 0 : Infinity;
    else if (x === y) d = 0;
    else d = M.abs(x - y) / unit[i];
    if (d > max) max = d;
    sum += d * d;
  }
  return { rms: unit.length ? M.sqrt(sum / unit.length) : 0, max };
}

const json = (x: number): JsonNumber => (N.isFinite(x) ? x : null);

/**
 * Classifies one layer. `hypotheses` maps each tested arithmetic to its output on the adapter's inputs;
 * `float64Storage`: the adapter's output is not float32-representable, so only fp64 can match exactly.
 */
export function classifyLayer(
  actual: ArrayLike<number>,
  hypotheses: Map<Arithmetic, Float64Array>,
  unit: Float64Array,
  float64Storage: boolean,
): PrecisionVerdict {
  const names = [...hypotheses.keys()];
  const dist = new Map<Arithmetic, { rms: number; max: number }>();
  for (const a of names) dist.set(a, distanceUlp(actual, hypotheses.get(a)!, unit));
  const distances = names.map((a) => ({
    arithmetic: a,
    rmsUlp: json(dist.get(a)!.rms),
    maxUlp: json(dist.get(a)!.max),
  }));

  if (float64Storage && hypotheses.has('fp64')) {
    // float32-based hypotheses cannot produce non-float32 values; fp64 matches if it is within float64 noise.
    const d = dist.get('fp64')!.rms;
    const other = names.filter((a) => a !== 'fp64').sort((x, y) => dist.get(x)!.rms - dist.get(y)!.rms)[0] ?? null;
    const gap = other ? distanceUlp(hypotheses.get('fp64')!, hypotheses.get(other)!, unit).rms : NaN;
    return { status: d <= 1e-3 ? 'match' : 'unexplained', best: 'fp64', runnerUp: other, gapUlp: json(gap), distances };
  }

  let best = names[0];
  for (const a of names) if (dist.get(a)!.rms < dist.get(best)!.rms) best = a;
  const dBest = dist.get(best)!.rms;
  let runnerUp: Arithmetic | null = null;
  let gap = NaN;
  for (const a of names) {
    if (a === best) continue;
    const g = distanceUlp(hypotheses.get(best)!, hypotheses.get(a)!, unit).rms;
    if (!(g > FLOOR_ULP)) continue;
    if (runnerUp === null || dist.get(a)!.rms < dist.get(runnerUp)!.rms) {
      runnerUp = a;
      gap = g;
    }
  }
  let status: PrecisionStatus;
  if (runnerUp === null) status = dBest <= FLOOR_ULP ? 'indistinguishable' : 'unexplained';
  else if (dBest <= MATCH_FRACTION * gap) status = 'match';
  else if (dBest <= gap || dBest <= FLOOR_ULP) status = 'ambiguous';
  else status = 'unexplained';
  return { status, best, runnerUp, gapUlp: json(gap), distances };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * One sentence for the whole model, e.g. "TF32 in conv 3 of each block (16/16); fp32 elsewhere
 * (139 layers)". Exceptions are grouped by role when they cover that role in every residual block
 * where it can be told apart; otherwise the layers are listed.
 */
export function summarizePrecision(rows: LayerRow[], singleBlock: boolean): PrecisionSummary {
  const counts: Record<PrecisionStatus, number> = {
    match: 0,
    ambiguous: 0,
    indistinguishable: 0,
    unexplained: 0,
    exact: 0,
    'not-analysed': 0,
  };
  for (const r of rows) counts[r.precision.status]++;
  const matched = rows.filter((r) => r.precision.status === 'match' && r.precision.best);
  const tally = new Map<Arithmetic, number>();
  for (const r of matched) tally.set(r.precision.best!, (tally.get(r.precision.best!) ?? 0) + 1);
  let base: Arithmetic | null = null;
  for (const [a, n] of tally)
    if (base === null || n > tally.get(base)! || (n === tally.get(base)! && a === 'fp32')) base = a;
  if (base === null) {
    const ind = rows.filter((r) => r.precision.status === 'indistinguishable' && r.precision.best);
    base = ind.length ? ind[0].precision.best : null;
  }

  const exceptions: PrecisionException[] = [];
  const odd = matched.filter((r) => r.precision.best !== base);
  const byArith = new Map<Arithmetic, LayerRow[]>();
  for (const r of odd) byArith.set(r.precision.best!, [...(byArith.get(r.precision.best!) ?? []), r]);
  const isMatmul = (r: LayerRow): boolean =>
    r.className === 'Conv2D' || (r.className === 'Dense' && r.part === 'logits');
  const tellingMatmul = rows.filter(
    (r) =>
      isMatmul(r) &&
      (r.precision.status === 'match' || r.precision.status === 'ambiguous' || r.precision.status === 'unexplained'),
  );
  for (const [a, all] of byArith) {
    const label = ARITHMETIC_LABEL[a];
    let list = all;
    // Every Conv2D/Dense matmul that can be told apart uses `a`: say so in one phrase.
    if (
      tellingMatmul.length > 1 &&
      tellingMatmul.every((r) => r.precision.best === a && r.precision.status === 'match')
    ) {
      const nMatmul = rows.filter(isMatmul).length;
      exceptions.push({
        arithmetic: a,
        role: 'Conv2D/Dense',
        blocks: 0,
        layers: tellingMatmul.map((r) => r.name),
        text: `${label} in every Conv2D and Dense matmul (${tellingMatmul.length}/${nMatmul}${nMatmul > tellingMatmul.length ? ', the others indistinguishable' : ''})`,
      });
      list = all.filter((r) => !isMatmul(r));
      if (list.length === 0) continue;
    }
    const byRole = new Map<string, LayerRow[]>();
    for (const r of list) byRole.set(r.role, [...(byRole.get(r.role) ?? []), r]);
    const loose: LayerRow[] = [];
    for (const [role, rs] of byRole) {
      // All rows with this role that say anything (match/ambiguous/unexplained), residual blocks only.
      const sameRole = rows.filter((r) => r.role === role && r.block !== 'input');
      const telling = sameRole.filter(
        (r) =>
          r.precision.status === 'match' || r.precision.status === 'ambiguous' || r.precision.status === 'unexplained',
      );
      const residual = rs.every((r) => /_block\d+_/.test(r.block)) || singleBlock;
      if (
        residual &&
        telling.length > 0 &&
        telling.every((r) => r.precision.best === a && r.precision.status === 'match') &&
        (rs.length > 1 || singleBlock)
      ) {
        const kindOfBlock = role.startsWith('shortcut') ? 'convolutional block' : 'block';
        const where = singleBlock ? `${role} (${rs.map((r) => r.name).join(', ')})` : `${role} of each ${kindOfBlock}`;
        const note =
          sameRole.length > telling.length
            ? `${rs.length}/${sameRole.length}, the others indistinguishable`
            : `${rs.length}/${sameRole.length}`;
        exceptions.push({
          arithmetic: a,
          role,
          blocks: rs.length,
          layers: rs.map((r) => r.name),
          text: `${label} in ${where}${singleBlock ? '' : ` (${note})`}`,
        });
      } else {
        loose.push(...rs);
      }
    }
    if (loose.length) {
      const shown = loose
        .slice(0, 6)
        .map((r) => `${r.name} (${singleBlock ? r.role : `${r.block} ${r.role}`})`)
        .join(', ');
      exceptions.push({
        arithmetic: a,
        role: null,
        blocks: 0,
        layers: loose.map((r) => r.name),
        text: `${label} in ${shown}${loose.length > 6 ? ` and ${loose.length - 6} more` : ''}`,
      });
    }
  }

  const parts: string[] = exceptions.map((e) => e.text);
  const baseCount = matched.length - odd.length;
  if (base !== null) {
    const rest = `${ARITHMETIC_LABEL[base]} ${exceptions.length ? 'elsewhere' : 'throughout'}`;
    parts.push(
      `${rest} (${plural(baseCount, 'layer')} matched${counts.indistinguishable ? `, ${counts.indistinguishable} indistinguishable` : ''})`,
    );
  } else {
    parts.push('no layer matched any arithmetic');
  }
  if (counts.ambiguous) parts.push(`${plural(counts.ambiguous, 'layer')} ambiguous`);
  if (counts.unexplained) parts.push(`${plural(counts.unexplained, 'layer')} unexplained by any arithmetic`);
  return { text: parts.join('; '), base, exceptions, counts };
}
