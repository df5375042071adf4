/** Number and text formatting shared by the renderers (pure functions, deterministic output). */
import type { AppliedTolerance, CaseStatus } from './schema';

/** Compact number: 0, 3.14e-7, 12.5, 1.2e+5; null (infinite / undefined in the JSON) as ∞. */
export function formatNumber(x: number | null | undefined, digits = 2): string {
  if (x === undefined) return '–';
  if (x === null) return '∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (Number.isInteger(x) && a < 1e6) return String(x);
  if (a >= 1e-2 && a < 1e4) return String(Number(x.toPrecision(digits + 1)));
  return x.toExponential(digits);
}

export function formatMs(ms: number | undefined | null): string {
  if (ms === undefined || ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatPct(x: number | undefined | null): string {
  if (x === undefined || x === null) return '–';
  if (x === 0) return '0%';
  if (x < 0.01) return '<0.01%';
  return `${Number(x.toPrecision(3))}%`;
}

export const STATUS_ICON: Record<CaseStatus, string> = {
  pass: '✅',
  'expected-divergence': '🔸',
  'unexpected-match': '❗',
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
  'expected-divergence': '≈',
  'unexpected-match': '≡',
  regressed: '↑',
  'fail-numeric': '✗',
  'fail-shape': '▭',
  error: '⚠',
  crashed: '☠',
  timeout: '◷',
  unavailable: '○',
  skipped: '»',
};

/** A tolerance row in one line: "atol 1e-6, rtol 1e-5 (resnet50-inference × logits × fp32-cpu: reason)". */
export function toleranceText(t: AppliedTolerance, withReason = true): string {
  const row = `${t.caseClass} × ${t.role} × ${t.profile}`;
  const rule = t.kind === 'expected-divergence'
    ? `expected divergence (not within the tight bound atol ${t.atol}, rtol ${t.rtol}, from ${t.tightBoundFrom ?? 'the row'})`
    : `atol ${t.atol}, rtol ${t.rtol}`;
  return withReason ? `${rule} (${row}: ${t.reason})` : `${rule} (${row})`;
}

export function escapeXml(s: string): string {
  // XML 1.0 forbids most control characters even when escaped: drop them.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export const escapeHtml = escapeXml;

/** Text safe inside a Markdown table cell (pipes and newlines would break the row). */
export function escapeMarkdownCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
