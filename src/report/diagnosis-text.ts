/**
 * The per-layer diagnosis of a case (CaseResult.diagnosis / diagnosisError) in one line of text, for
 * the Markdown summary, JUnit, the terminal and the HTML result details. Deliberately free of the
 * diagnosis module itself (src/diagnose), which renders the full charts and tables.
 */
import type { Diagnosis, LayerRow } from '../diagnose/types';
import { formatNumber } from './format';
import type { CaseResult } from './schema';

type Located = Pick<LayerRow, 'name' | 'className' | 'block' | 'role'>;

function layerText(d: Diagnosis, f: Located): string {
  // A block model is one block: its name says nothing; in ResNet-50 the block locates the layer.
  const block = d.model === 'resnet50' && f.block && f.block !== 'input' ? f.block : '';
  const where = [block, f.role].filter(Boolean).join(' ');
  return `${f.name} (${f.className}${where ? `, ${where}` : ''})`;
}

/**
 * The layer a reader should look at first, and why: the first layer out of its budget; else the
 * first the diagnosis calls a suspect (inside its budget, matching no arithmetic: Diagnosis.unexplained);
 * else the layer with the largest local error relative to its budget (the one that moved a
 * within-tolerance output most, e.g. in a case that regressed against its baseline). Null when no
 * layer has any local error.
 */
export interface SuspectLayer {
  why: 'out-of-budget' | 'unexplained' | 'largest-local-error';
  row: Located;
  /** Local error / budget (null: infinite). */
  ratio: number | null;
  errorUlp: number | null;
  budgetUlp: number;
}

export function suspectLayer(d: Diagnosis): SuspectLayer | null {
  const f = d.firstDiverging;
  if (f) return { why: 'out-of-budget', row: f, ratio: f.ratio, errorUlp: f.errorUlp, budgetUlp: f.budgetUlp };
  const of = (why: SuspectLayer['why'], r: LayerRow): SuspectLayer => ({
    why,
    row: r,
    ratio: r.local!.ratio,
    errorUlp: r.local!.errorUlp,
    budgetUlp: r.local!.budgetUlp,
  });
  const unexplained = d.rows.find((r) => r.local && d.unexplained.includes(r.name));
  if (unexplained) return of('unexplained', unexplained);
  let best: LayerRow | undefined;
  for (const r of d.rows) {
    const ratio = r.local?.ratio;
    if (ratio === undefined || ratio === 0) continue;
    if (!best || ratio === null || (best.local!.ratio !== null && ratio > best.local!.ratio)) best = r;
    if (ratio === null) break;
  }
  return best ? of('largest-local-error', best) : null;
}

/** "batch_normalization_1 (BatchNormalization, conv 2 BN)": the first layer out of its budget, or null. */
export function firstDivergingText(r: CaseResult): string | null {
  const d = r.diagnosis;
  const f = d?.firstDiverging;
  if (!d || !f) return null;
  return layerText(d, f);
}

/** "layer X (Class, role)" with why it is named, for a diagnosis with no layer out of its budget; null when there is none. */
export function suspectText(r: CaseResult): string | null {
  const d = r.diagnosis;
  if (!d) return null;
  const s = suspectLayer(d);
  if (!s) return null;
  const share = `at ${formatNumber(s.ratio)} of its budget (${formatNumber(s.errorUlp)} of ${formatNumber(s.budgetUlp)} ULP(S))`;
  switch (s.why) {
    case 'out-of-budget':
      return `first diverging layer: ${layerText(d, s.row)}`;
    case 'unexplained':
      return `suspect layer: ${layerText(d, s.row)}, ${share}, matching no arithmetic`;
    case 'largest-local-error':
      return `largest local error: ${layerText(d, s.row)}, ${share}`;
  }
}

/** One line: the first diverging layer (or the suspect layer) with its error and budget, the arithmetic, capture problems; or why there is no diagnosis. Null when neither is recorded. */
export function diagnosisLine(r: CaseResult): string | null {
  const d = r.diagnosis;
  if (!d) return r.diagnosisError !== undefined ? `no diagnosis: ${r.diagnosisError}` : null;
  const parts: string[] = [];
  const f = d.firstDiverging;
  if (f) {
    const more = d.outOfBudget.length - 1;
    parts.push(
      `first diverging layer: ${layerText(d, f)}: error ${formatNumber(f.errorUlp)} ULP(S), over its budget of ${formatNumber(f.budgetUlp)}` +
        `${more > 0 ? `; ${more} more layer(s) out of budget after it` : ''}`,
    );
  } else {
    const analysed = d.rows.length - d.notAnalysed.length;
    const suspect = suspectText(r);
    parts.push(
      `no layer out of its error budget (${analysed}/${d.rows.length} analysed)${suspect ? `; ${suspect}` : '; every layer exact'}`,
    );
  }
  parts.push(`arithmetic: ${d.precision.text}`);
  if (d.captureIssues.length) parts.push(`capture: ${d.captureIssues.join('; ')}`);
  return parts.join('. ');
}

/** The layer to name in a one-line failure message (JUnit message, terminal): the first diverging layer, else the suspect. */
export function layerToName(r: CaseResult): string | null {
  if (!r.diagnosis) return null;
  return r.diagnosis.firstDiverging ? `first diverging layer: ${firstDivergingText(r)}` : suspectText(r);
}
