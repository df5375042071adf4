/**
 * The per-layer diagnosis of a failing case (CaseResult.diagnosis / diagnosisError) in one line of
 * text, for the Markdown summary, JUnit and the HTML result details. Deliberately free of the
 * diagnosis module itself (src/diagnose), which renders the full charts and tables.
 */
import { formatNumber } from './format';
import type { CaseResult } from './schema';

/** "batch_normalization_1 (BatchNormalization, conv 2 BN)": the first layer out of its budget, or null. */
export function firstDivergingText(r: CaseResult): string | null {
  const d = r.diagnosis;
  const f = d?.firstDiverging;
  if (!d || !f) return null;
  // A block model is one block: its name says nothing; in ResNet-50 the block locates the layer.
  const block = d.model === 'resnet50' && f.block && f.block !== 'input' ? f.block : '';
  const where = [block, f.role].filter(Boolean).join(' ');
  return `${f.name} (${f.className}${where ? `, ${where}` : ''})`;
}

/** One line: the first diverging layer with its error and budget, the arithmetic, capture problems; or why there is no diagnosis. Null when neither is recorded. */
export function diagnosisLine(r: CaseResult): string | null {
  const d = r.diagnosis;
  if (!d) return r.diagnosisError !== undefined ? `no diagnosis: ${r.diagnosisError}` : null;
  const parts: string[] = [];
  const f = d.firstDiverging;
  if (f) {
    const more = d.outOfBudget.length - 1;
    parts.push(
      `first diverging layer: ${firstDivergingText(r)}: error ${formatNumber(f.errorUlp)} ULP(S), over its budget of ${formatNumber(f.budgetUlp)}` +
        `${more > 0 ? `; ${more} more layer(s) out of budget after it` : ''}`,
    );
  } else {
    const analysed = d.rows.length - d.notAnalysed.length;
    parts.push(`no layer out of its error budget (${analysed}/${d.rows.length} analysed)`);
  }
  parts.push(`arithmetic: ${d.precision.text}`);
  if (d.captureIssues.length) parts.push(`capture: ${d.captureIssues.join('; ')}`);
  return parts.join('. ');
}
