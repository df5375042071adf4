/** Status marks of the renderers; the number and text helpers live in src/util/format.ts (re-exported here for the renderers). */
import type { CaseStatus } from './schema';

export { formatNumber, formatMs, formatPct, escapeXml, escapeHtml, escapeMarkdownCell, truncate } from '../util/format';

export const STATUS_ICON: Record<CaseStatus, string> = {
  pass: '✅',
  regressed: '📈',
  'fail-numeric': '❌',
  'fail-shape': '📐',
  error: '💥',
  crashed: '☠️',
  timeout: '⏱️',
  unavailable: '⚪',
  skipped: '⏭️',
};

/**
 * Status marks for HTML: glyphs found in common system fonts (DejaVu, Liberation, Segoe UI Symbol),
 * so the report reads the same on a machine without an emoji font (e.g. headless Chromium in CI).
 */
export const STATUS_MARK: Record<CaseStatus, string> = {
  pass: '✓',
  regressed: '↑',
  'fail-numeric': '✗',
  'fail-shape': '▭',
  error: '⚠',
  crashed: '☠',
  timeout: '◷',
  unavailable: '○',
  skipped: '»',
};
