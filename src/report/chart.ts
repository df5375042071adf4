/**
 * Inline SVG line chart: error (log10 of max abs error) along a model's block boundaries, one line
 * per adapter. No scripts, no external resources; deterministic output for the same data.
 */
import { escapeXml, formatNumber } from './format';

export interface Series {
  name: string;
  /** One value per x label: a finite error, 0 (exact), null (infinite / NaN) or undefined (not measured). */
  values: Array<number | null | undefined>;
}

/** Distinguishable colours (Okabe–Ito plus extras), assigned by series order. */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#999933',
  '#882255',
  '#44AA99',
  '#AA4499',
  '#661100',
];

export interface ChartOptions {
  title: string;
  width?: number;
  height?: number;
}

export function renderErrorChart(labels: string[], series: Series[], opts: ChartOptions): string {
  const width = opts.width ?? 820;
  const height = opts.height ?? 300;
  const left = 64;
  const right = 180;
  const top = 28;
  const bottom = 96;
  const plotW = width - left - right;
  const plotH = height - top - bottom;

  const finite: number[] = [];
  for (const s of series) for (const v of s.values) if (typeof v === 'number' && v > 0) finite.push(v);
  let lo = finite.length ? Math.floor(Math.log10(Math.min(...finite))) : -8;
  let hi = finite.length ? Math.ceil(Math.log10(Math.max(...finite))) : 0;
  if (hi <= lo) hi = lo + 1;
  // Exact zeros get a row below the decades, infinities (NaN/Inf errors) a row above them.
  const gap = 14;
  const zeroY = top + plotH;
  const infY = top;
  const y = (v: number | null): number => {
    if (v === null) return infY;
    if (v <= 0) return zeroY;
    return top + plotH - gap - ((Math.log10(v) - lo) / (hi - lo)) * (plotH - 2 * gap);
  };
  const x = (i: number): number => left + (labels.length <= 1 ? plotW / 2 : (i * plotW) / (labels.length - 1));
  const r2 = (v: number) => Math.round(v * 100) / 100;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
  );
  parts.push(`<title>${escapeXml(opts.title)}</title>`);
  parts.push(`<text x="${left}" y="16" class="chart-title">${escapeXml(opts.title)}</text>`);
  // Grid and y axis labels (decades).
  for (let d = lo; d <= hi; d++) {
    const yy = r2(y(10 ** d));
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${yy}" y2="${yy}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${yy + 4}" text-anchor="end" class="tick">1e${d}</text>`);
  }
  parts.push(`<text x="${left - 6}" y="${r2(zeroY + 4)}" text-anchor="end" class="tick">0</text>`);
  parts.push(`<text x="${left - 6}" y="${r2(infY + 4)}" text-anchor="end" class="tick">∞</text>`);
  parts.push(
    `<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle" class="tick">max abs error</text>`,
  );
  // X labels.
  labels.forEach((l, i) => {
    const xx = r2(x(i));
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${top}" y2="${top + plotH}" class="grid vgrid"/>`);
    parts.push(
      `<text x="${xx}" y="${top + plotH + 14}" transform="rotate(40 ${xx} ${top + plotH + 14})" class="tick">${escapeXml(l)}</text>`,
    );
  });
  // Series.
  series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length];
    const pts: Array<[number, number, number | null, number]> = [];
    s.values.forEach((v, i) => {
      if (v !== undefined) pts.push([r2(x(i)), r2(y(v)), v, i]);
    });
    if (pts.length > 1) {
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([px, py]) => `${px},${py}`).join(' ')}" data-series="${escapeXml(s.name)}"/>`,
      );
    }
    for (const [px, py, v, i] of pts) {
      parts.push(
        `<circle cx="${px}" cy="${py}" r="3.5" fill="${color}"><title>${escapeXml(`${s.name} @ ${labels[i]}: ${formatNumber(v, 3)}`)}</title></circle>`,
      );
    }
    const ly = top + 14 * si;
    parts.push(`<rect x="${left + plotW + 16}" y="${ly - 8}" width="12" height="4" fill="${color}"/>`);
    parts.push(`<text x="${left + plotW + 32}" y="${ly - 3}" class="legend">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
