/**
 * Renderings of a Diagnosis: a fixed-width table for the terminal, a compact Markdown fragment and
 * an HTML fragment with the error-along-depth chart (inline SVG, no scripts, no external assets).
 */
import { fmtNum } from './diagnose';
import { ARITHMETIC_LABEL, type Arithmetic } from './formats';
import type { Diagnosis, LayerRow } from './types';

const KIND_SHORT: Record<string, string> = {
  ZeroPadding2D: 'ZeroPad',
  Conv2D: 'Conv2D',
  BatchNormalization: 'BatchNorm',
  Activation: 'ReLU',
  MaxPooling2D: 'MaxPool',
  AveragePooling2D: 'AvgPool',
  Add: 'Add',
  Flatten: 'Flatten',
  Dense: 'Dense',
};

function kindOf(r: LayerRow): string {
  if (r.className === 'Dense') return r.part === 'logits' ? 'Dense' : 'Softmax';
  return KIND_SHORT[r.className] ?? r.className;
}

function pad(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}

function lpad(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}

function exp(x: number | null | undefined): string {
  if (x === null || x === undefined) return 'inf';
  if (x === 0) return '0';
  return x.toExponential(1);
}

function arithText(r: LayerRow): string {
  const p = r.precision;
  switch (p.status) {
    case 'exact':
      return 'exact';
    case 'not-analysed':
      return 'n/a';
    case 'indistinguishable':
      return `${ARITHMETIC_LABEL[p.best!]}≡all`;
    case 'match':
      return ARITHMETIC_LABEL[p.best!];
    case 'ambiguous':
      return `${ARITHMETIC_LABEL[p.best!]}?`;
    case 'unexplained':
      return p.best ? `none (${ARITHMETIC_LABEL[p.best]}?)` : 'none';
    default:
      return p.status;
  }
}

function distance(r: LayerRow, a: Arithmetic): string {
  const d = r.precision.distances.find((x) => x.arithmetic === a);
  return d ? fmtNum(d.rmsUlp) : '';
}

function headerLines(d: Diagnosis): string[] {
  const args = Object.entries(d.modelArgs)
    .filter(([k]) => k !== 'initializer')
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ');
  return [
    `diagnose ${d.adapter} (budget profile ${d.profile}) on ${d.model} [${args}], training=${d.training ? 'True' : 'False'}`,
    `input ${d.input.shape.join('x')}: ${d.input.source}`,
  ];
}

function shapeText(s: number[]): string {
  return s.join('x');
}

/** The per-layer table and the verdict, for the terminal. */
export function renderDiagnosisText(d: Diagnosis): string {
  const arith = d.arithmetics;
  const cols = [
    ['#', 3, 'r'],
    ['layer', 22, 'l'],
    ['kind', 9, 'l'],
    ['role', 30, 'l'],
    ['shape', 14, 'l'],
    ['cum relRMS', 10, 'r'],
    ['fp32 ideal', 10, 'r'],
    ['local ULP(S)', 12, 'r'],
    ['budget', 7, 'r'],
    ['ok', 3, 'l'],
    ['arithmetic', 14, 'l'],
    ...arith.map((a) => [`d(${ARITHMETIC_LABEL[a]})`, 9, 'r']),
  ] as [string, number, 'l' | 'r'][];
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (cols[i][2] === 'r' ? lpad(c, cols[i][1]) : pad(c, cols[i][1])))
      .join(' ')
      .trimEnd();
  const out: string[] = [...headerLines(d), ''];
  out.push(line(cols.map((c) => c[0])));
  d.rows.forEach((r, i) => {
    const role =
      d.model === 'resnet50' && r.block !== 'input' ? `${r.block.replace(/_(identity|conv)$/, '')} ${r.role}` : r.role;
    out.push(
      line([
        String(i + 1),
        r.name,
        kindOf(r),
        role,
        shapeText(r.shape),
        exp(r.cumulative?.relRms),
        exp(r.fp32Envelope?.relRms),
        r.local ? fmtNum(r.local.errorUlp) : '',
        r.local ? fmtNum(r.local.budgetUlp) : '',
        r.local ? (r.local.withinBudget ? 'ok' : 'OUT') : r.problem ? '!' : '',
        arithText(r),
        ...arith.map((a) => distance(r, a)),
      ]),
    );
    if (r.problem) out.push(`    ! ${r.problem}`);
  });
  out.push('');
  out.push(
    'cum relRMS: ‖adapter − fp64 reference‖/‖fp64 reference‖ along depth; fp32 ideal: the same for the reference in fp32.',
  );
  out.push(
    "local ULP(S): error this layer introduces (adapter vs the layer re-run in fp64 on the adapter's own inputs), in ULP of the",
  );
  out.push(
    'error magnitude S; budget: its worst-case bound (src/compare/layer-budgets.ts). d(...): RMS distance to each arithmetic, ULP(S).',
  );
  out.push('');
  out.push(`verdict: ${d.verdict}`);
  out.push(
    `time: ${(d.timingsMs.total / 1000).toFixed(1)} s (adapter ${(d.timingsMs.adapterRun / 1000).toFixed(1)} s, reference ${(d.timingsMs.reference / 1000).toFixed(1)} s, per-layer analysis ${(d.timingsMs.local / 1000).toFixed(1)} s)`,
  );
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

interface BlockSummary {
  block: string;
  last: LayerRow;
  worst: LayerRow | null;
  arith: string;
}

/** One entry per block: cumulative error at its last layer, worst local ratio inside, conv arithmetic. */
function blockSummaries(d: Diagnosis): BlockSummary[] {
  const order: string[] = [];
  const byBlock = new Map<string, LayerRow[]>();
  for (const r of d.rows) {
    if (!byBlock.has(r.block)) {
      byBlock.set(r.block, []);
      order.push(r.block);
    }
    byBlock.get(r.block)!.push(r);
  }
  return order.map((block) => {
    const rs = byBlock.get(block)!;
    let worst: LayerRow | null = null;
    for (const r of rs)
      if (r.local && (worst === null || (r.local.ratio ?? Infinity) > (worst.local!.ratio ?? Infinity))) worst = r;
    const convs = rs.filter((r) => r.className === 'Conv2D' || (r.className === 'Dense' && r.part === 'logits'));
    const arith = convs.map((r) => `${r.role}: ${arithText(r)}`).join(', ');
    return { block, last: rs[rs.length - 1], worst, arith };
  });
}

/** A compact Markdown fragment (a `###` section): verdict, curve per block, layers needing attention. */
export function renderDiagnosisMarkdown(d: Diagnosis): string {
  const out: string[] = [];
  out.push(`### Diagnosis: ${d.adapter} on ${d.model}, training=${d.training ? 'True' : 'False'}`, '');
  out.push(...headerLines(d).map((l) => `${l}  `), '');
  out.push(
    `**First layer out of budget:** ${d.firstDiverging ? `\`${d.firstDiverging.name}\` (${d.firstDiverging.className}, ${d.firstDiverging.block} ${d.firstDiverging.role}): ${fmtNum(d.firstDiverging.errorUlp)} ULP(S) > ${fmtNum(d.firstDiverging.budgetUlp)}` : 'none'}  `,
  );
  out.push(`**Arithmetic:** ${mdEscape(d.precision.text)}  `);
  if (d.captureIssues.length) out.push(`**Capture:** ${mdEscape(d.captureIssues.join('; '))}  `);
  out.push('');
  const perLayer = d.rows.length <= 24;
  if (perLayer) {
    out.push(
      '| layer | kind | role | cum relRMS | fp32 ideal | local ULP(S) / budget | arithmetic |',
      '|---|---|---|---:|---:|---:|---|',
    );
    for (const r of d.rows) {
      out.push(
        `| \`${r.name}\` | ${kindOf(r)} | ${r.role} | ${exp(r.cumulative?.relRms)} | ${exp(r.fp32Envelope?.relRms)} | ` +
          `${r.local ? `${fmtNum(r.local.errorUlp)} / ${fmtNum(r.local.budgetUlp)}${r.local.withinBudget ? '' : ' **OUT**'}` : mdEscape(r.problem ?? '')} | ${mdEscape(arithText(r))} |`,
      );
    }
  } else {
    out.push('Error along depth, at the end of each block:', '');
    out.push(
      '| block | cum relRMS | fp32 ideal | worst local (ULP(S) / budget) | matmul arithmetic |',
      '|---|---:|---:|---|---|',
    );
    for (const b of blockSummaries(d)) {
      const w = b.worst?.local;
      out.push(
        `| ${b.block} | ${exp(b.last.cumulative?.relRms)} | ${exp(b.last.fp32Envelope?.relRms)} | ` +
          `${w ? `\`${b.worst!.name}\` ${fmtNum(w.errorUlp)} / ${fmtNum(w.budgetUlp)}${w.withinBudget ? '' : ' **OUT**'}` : ''} | ${mdEscape(b.arith)} |`,
      );
    }
    const attention = d.rows.filter(
      (r) =>
        (r.local && !r.local.withinBudget) ||
        r.precision.status === 'unexplained' ||
        r.precision.status === 'not-analysed',
    );
    if (attention.length) {
      out.push(
        '',
        'Layers needing attention:',
        '',
        '| layer | block / role | local ULP(S) / budget | arithmetic | problem |',
        '|---|---|---:|---|---|',
      );
      for (const r of attention.slice(0, 20)) {
        out.push(
          `| \`${r.name}\` | ${r.block} ${r.role} | ${r.local ? `${fmtNum(r.local.errorUlp)} / ${fmtNum(r.local.budgetUlp)}` : ''} | ${mdEscape(arithText(r))} | ${mdEscape(r.problem ?? '')} |`,
        );
      }
      if (attention.length > 20) out.push(`| … ${attention.length - 20} more | | | | |`);
    }
  }
  out.push('');
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2'];

interface Series {
  label: string;
  color: string;
  dash?: string;
  values: (number | null)[];
}

/** A log-scale line chart of per-layer values (null/0 points are skipped). */
function svgChart(title: string, yLabel: string, names: string[], series: Series[], refLine?: number): string {
  const W = 900;
  const H = 260;
  const L = 60;
  const R = 10;
  const T = 24;
  const B = 40;
  const all = series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0 && Number.isFinite(v));
  if (refLine) all.push(refLine);
  if (all.length === 0) return `<p>${esc(title)}: no positive values to plot.</p>`;
  let lo = Math.floor(Math.log10(Math.min(...all)));
  let hi = Math.ceil(Math.log10(Math.max(...all)));
  if (hi === lo) {
    hi++;
    lo--;
  }
  const n = Math.max(names.length, 2);
  const x = (i: number): number => L + ((W - L - R) * i) / (n - 1);
  const y = (v: number): number => T + ((H - T - B) * (hi - Math.log10(v))) / (hi - lo);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(title)}">`,
  );
  parts.push(`<text x="${L}" y="16" font-size="13" font-family="sans-serif">${esc(title)}</text>`);
  for (let e = lo; e <= hi; e++) {
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${L - 4}" y="${y(10 ** e) + 4}" font-size="10" text-anchor="end" font-family="sans-serif">1e${e}</text>`,
    );
  }
  parts.push(
    `<text x="12" y="${(T + H - B) / 2}" font-size="10" font-family="sans-serif" transform="rotate(-90 12 ${(T + H - B) / 2})" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  const tickEvery = Math.max(1, Math.ceil(names.length / 12));
  names.forEach((nm, i) => {
    if (i % tickEvery !== 0) return;
    parts.push(
      `<text x="${x(i)}" y="${H - B + 14}" font-size="9" text-anchor="middle" font-family="sans-serif">${i + 1}</text>`,
    );
  });
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${H - 6}" font-size="10" text-anchor="middle" font-family="sans-serif">layer (creation order)</text>`,
  );
  if (refLine)
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${y(refLine)}" y2="${y(refLine)}" stroke="#000" stroke-dasharray="2 3"/>`,
    );
  series.forEach((s, si) => {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || !(v > 0) || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}><title>${esc(s.label)}</title></path>`,
    );
    s.values.forEach((v, i) => {
      if (v === null || !(v > 0) || !Number.isFinite(v)) return;
      parts.push(
        `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="1.8" fill="${s.color}"><title>${esc(`${s.label} ${names[i]}: ${v.toExponential(2)}`)}</title></circle>`,
      );
    });
    parts.push(
      `<text x="${L + 8 + si * 180}" y="${T + 12}" font-size="11" fill="${s.color}" font-family="sans-serif">— ${esc(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * An HTML fragment (a <section>) for one or more diagnoses of the SAME model, input and mode
 * (e.g. every adapter of a failing case): the error-along-depth chart with one line per adapter and
 * the ideal fp32 curve, the local error/budget chart, verdicts, and per-layer tables in <details>.
 */
export function renderDiagnosesHtml(ds: Diagnosis[]): string {
  if (ds.length === 0) return '';
  const names = ds[0].rows.map((r) => r.name);
  const parts: string[] = ['<section class="diagnosis">'];
  parts.push(`<h3>Per-layer diagnosis: ${esc(ds[0].model)}, training=${ds[0].training ? 'True' : 'False'}</h3>`);
  const align = (d: Diagnosis, f: (r: LayerRow) => number | null | undefined): (number | null)[] => {
    const by = new Map(d.rows.map((r) => [r.name, r]));
    return names.map((nm) => {
      const r = by.get(nm);
      const v = r ? f(r) : null;
      return v === undefined ? null : v;
    });
  };
  const cum: Series[] = ds.map((d, i) => ({
    label: d.adapter,
    color: COLORS[i % COLORS.length],
    values: align(d, (r) => r.cumulative?.relRms),
  }));
  cum.push({
    label: 'ideal fp32 (reference-fp32)',
    color: '#777',
    dash: '4 3',
    values: align(ds[0], (r) => r.fp32Envelope?.relRms),
  });
  parts.push(
    svgChart('Error along depth: ‖adapter − fp64 reference‖ / ‖fp64 reference‖', 'relative RMS error', names, cum),
  );
  const local: Series[] = ds.map((d, i) => ({
    label: d.adapter,
    color: COLORS[i % COLORS.length],
    values: align(d, (r) => r.local?.ratio),
  }));
  parts.push(
    svgChart('Error each layer introduces / its budget (dotted: budget)', 'local error / budget', names, local, 1),
  );
  for (const d of ds) {
    parts.push(`<h4>${esc(d.adapter)}</h4>`);
    const sig: Series[] = d.arithmetics.map((a, i) => ({
      label: `d(${ARITHMETIC_LABEL[a]})`,
      color: COLORS[(i + 2) % COLORS.length],
      values: align(d, (r) => r.precision.distances.find((x) => x.arithmetic === a)?.rmsUlp ?? null),
    }));
    parts.push(
      svgChart(
        `${d.adapter}: RMS distance to each arithmetic, ULP(S) (the lowest line is the arithmetic used; 0 not drawn)`,
        'distance, ULP(S)',
        names,
        sig,
      ),
    );
    parts.push(
      `<p><b>First layer out of budget:</b> ${d.firstDiverging ? `<code>${esc(d.firstDiverging.name)}</code> (${esc(d.firstDiverging.className)}, ${esc(d.firstDiverging.block)} ${esc(d.firstDiverging.role)}): ${esc(fmtNum(d.firstDiverging.errorUlp))} ULP(S) &gt; budget ${esc(fmtNum(d.firstDiverging.budgetUlp))}` : 'none'}<br>` +
        `<b>Arithmetic:</b> ${esc(d.precision.text)}${d.captureIssues.length ? `<br><b>Capture:</b> ${esc(d.captureIssues.join('; '))}` : ''}</p>`,
    );
    parts.push(
      '<details><summary>per-layer table</summary><table><thead><tr><th>#</th><th>layer</th><th>kind</th><th>block</th><th>role</th><th>cum relRMS</th><th>fp32 ideal</th><th>local ULP(S)</th><th>budget</th><th>arithmetic</th>' +
        `${d.arithmetics.map((a) => `<th>d(${esc(ARITHMETIC_LABEL[a])})</th>`).join('')}</tr></thead><tbody>`,
    );
    d.rows.forEach((r, i) => {
      const out = r.local && !r.local.withinBudget;
      parts.push(
        `<tr${out ? ' style="background:#fdd"' : ''}><td>${i + 1}</td><td><code>${esc(r.name)}</code></td><td>${esc(kindOf(r))}</td><td>${esc(r.block)}</td><td>${esc(r.role)}</td>` +
          `<td>${exp(r.cumulative?.relRms)}</td><td>${exp(r.fp32Envelope?.relRms)}</td><td>${r.local ? esc(fmtNum(r.local.errorUlp)) : esc(r.problem ?? '')}</td>` +
          `<td>${r.local ? esc(fmtNum(r.local.budgetUlp)) : ''}</td><td>${esc(arithText(r))}</td>${d.arithmetics.map((a) => `<td>${esc(distance(r, a))}</td>`).join('')}</tr>`,
      );
    });
    parts.push('</tbody></table></details>');
  }
  parts.push('</section>');
  return parts.join('\n');
}

/** A standalone HTML page around renderDiagnosesHtml (for `diagnose --html`). */
export function renderDiagnosisPage(ds: Diagnosis[]): string {
  return (
    `<!doctype html><html><head><meta charset="utf-8"><title>resnet-conformance diagnose</title>` +
    '<style>body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 5px;text-align:right}td:nth-child(2),td:nth-child(3),td:nth-child(4),td:nth-child(5){text-align:left}</style>' +
    `</head><body>${renderDiagnosesHtml(ds)}</body></html>\n`
  );
}
