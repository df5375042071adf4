/** Number and text formatting shared by the renderers, the runner's progress lines and the bench (pure functions, deterministic output). */

/**
 * A number for people: '–' when absent, 'NaN' / 'Inf' for a non-finite metric (src/compare/metrics.ts
 * MetricNumber), '∞' for null (reports before schema 3 wrote null for a NaN or infinite error).
 */
export function formatNumber(x: number | 'NaN' | 'Infinity' | null | undefined, digits = 2): string {
  if (x === undefined) return '–';
  if (x === null) return '∞';
  if (x === 'NaN' || (typeof x === 'number' && x !== x)) return 'NaN';
  if (x === 'Infinity' || x === Infinity) return 'Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (Number.isInteger(x) && a < 1e6) return String(x);
  if (a >= 1e-2 && a < 1e4) return String(Number(x.toPrecision(digits + 1)));
  return x.toExponential(digits);
}

/**
 * A tensor value (not an error): 9 significant digits, the fewest that tell any two float32 values
 * apart, so a worst element's actual and expected never print the same when they differ in float32.
 * Errors and ratios use formatNumber (3 significant digits); full precision stays in report.json.
 */
export function formatValue(x: number | 'NaN' | 'Infinity' | '-Infinity' | null | undefined): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return formatNumber(x === '-Infinity' ? -Infinity : x);
  if (x === 0) return '0';
  return String(Number(x.toPrecision(9)));
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

export function escapeXml(s: string): string {
  // XML 1.0 forbids most control characters even when escaped: drop them.
  // eslint-disable-next-line no-control-regex
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export const escapeHtml = escapeXml;

/** Text safe inside a Markdown table cell (pipes and newlines would break the row). */
export function escapeMarkdownCell(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
