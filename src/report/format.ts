/** Status marks and tolerance text of the renderers; the number and text helpers live in src/util/format.ts (re-exported here for the renderers). */
import type { AppliedTolerance, CaseStatus } from './schema';

export { finiteMetricsText as finiteText } from '../compare/metrics';

export {
  formatNumber,
  formatValue,
  formatMs,
  formatPct,
  escapeXml,
  escapeHtml,
  escapeMarkdownCell,
  truncate,
} from '../util/format';

export const STATUS_ICON: Record<CaseStatus, string> = {
  pass: '✅',
  'expected-divergence': '🔸',
  'unexpected-match': '❗',
  unexplained: '❔',
  regressed: '📈',
  'fail-numeric': '❌',
  'fail-shape': '📐',
  error: '💥',
  crashed: '☠️',
  timeout: '⏱️',
  unavailable: '⚪',
  'not-applicable': '➖',
  skipped: '⏭️',
};

/**
 * Status marks for HTML: glyphs found in common system fonts (DejaVu, Liberation, Segoe UI Symbol),
 * so the report reads the same on a machine without an emoji font (e.g. headless Chromium in CI).
 */
export const STATUS_MARK: Record<CaseStatus, string> = {
  pass: '✓',
  'expected-divergence': '≈',
  'unexpected-match': '≡',
  unexplained: '?',
  regressed: '↑',
  'fail-numeric': '✗',
  'fail-shape': '▭',
  error: '⚠',
  crashed: '☠',
  timeout: '◷',
  unavailable: '○',
  'not-applicable': '–',
  skipped: '»',
};

/** A tolerance row in one line: "atol 1e-6, rtol 1e-5 (resnet50-inference × logits × fp32-cpu: reason)". */
export function toleranceText(t: AppliedTolerance, withReason = true): string {
  const row = `${t.caseClass} × ${t.role} × ${t.profile}`;
  const rule =
    t.kind === 'expected-divergence'
      ? `expected divergence (not within the tight bound atol ${t.atol}, rtol ${t.rtol}, from ${t.tightBoundFrom ?? 'the row'})`
      : `atol ${t.atol}, rtol ${t.rtol}`;
  return withReason ? `${rule} (${row}: ${t.reason})` : `${rule} (${row})`;
}
