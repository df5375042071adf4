/**
 * Self-contained HTML report: inline CSS, inline SVG charts, a few lines of inline script (status
 * filter); no external resources, so it works offline and as a CI artifact. Sections: verdict,
 * matrix (adapter × case), error along block boundaries per case (one line per adapter), the per-layer
 * diagnosis of failing cases (charts and tables from src/diagnose/render.ts), adapters, per-result details (checks, metrics, tolerance, timings), performance (when the report has a perf
 * section), environment.
 */
import { neededToleranceText } from '../compare/metrics';
import { perfHtml } from './perf-section';
import type { Diagnosis } from '../diagnose/types';
import { renderErrorChart, type Series } from './chart';
import { diagnosisLine } from './diagnosis-text';
import { STATUS_MARK, escapeHtml as h, formatMs, formatNumber, formatPct, formatValue } from './format';
import { ruleText } from './markdown';
import {
  CASE_STATUSES,
  countsText,
  notApplicableGroups,
  statusLabel,
  type CaseResult,
  type CheckMetrics,
  type ConformanceReport,
} from './schema';
import {
  cellText,
  matrixOf,
  programComputeOf,
  regressionCellText,
  regressionText,
  shortCommit,
  tolerancesUsed,
  verdictText,
} from './view';

const CSS = `
:root { --pass:#e6f4ea; --xdiv:#e8eefc; --fail:#fde7e9; --warn:#fff4ce; --grey:#f1f1f1; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
/* Fits a 1400 px window without horizontal scrolling: long unbroken text (paths, option JSON, check
   names) may break anywhere, so a table can shrink to the page; charts scale down. */
table { max-width: 100%; } th, td { overflow-wrap: anywhere; } svg.chart { max-width: 100%; height: auto; }
body { max-width: 1400px; }
th { background: #f6f8fa; }
td.num { text-align: right; font-family: ui-monospace, monospace; }
.verdict-pass { color: #1a7f37; } .verdict-fail { color: #cf222e; }
td.st-pass { background: var(--pass); } td.st-expected-divergence { background: var(--xdiv); } td.st-regressed, td.st-timeout { background: var(--warn); }
td.st-fail-numeric, td.st-fail-shape, td.st-unexpected-match, td.st-unexplained, td.st-error, td.st-crashed { background: var(--fail); }
td.st-unavailable, td.st-not-applicable, td.st-skipped { background: var(--grey); color: #57606a; }
#matrix td a { color: inherit; text-decoration: none; display: block; }
.filters label { margin-right: 12px; white-space: nowrap; }
details.result { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; padding: 4px 10px; }
details.result > summary { cursor: pointer; }
.chart { background: #fff; border: 1px solid var(--line); margin: 8px 0; }
.chart .grid { stroke: #e5e7eb; stroke-width: 1; } .chart .tick { font-size: 11px; fill: #57606a; }
.chart .legend { font-size: 12px; fill: #1f2328; } .chart .chart-title { font-size: 13px; font-weight: 600; }
.small { color: #57606a; font-size: 12.5px; }
tr.hidden { display: none; }
.new { font-size: 10px; font-weight: 700; color: #fff; background: #cf222e; border-radius: 3px; padding: 0 3px; }
`;

const SCRIPT = `
(function () {
  var boxes = document.querySelectorAll('.filters input[type=checkbox]');
  function apply() {
    var on = {};
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    document.querySelectorAll('#matrix tbody tr').forEach(function (tr) {
      var any = false;
      tr.querySelectorAll('td[data-status]').forEach(function (td) { if (on[td.getAttribute('data-status')]) any = true; });
      tr.classList.toggle('hidden', !any);
    });
    document.querySelectorAll('details.result').forEach(function (d) {
      d.style.display = on[d.getAttribute('data-status')] ? '' : 'none';
    });
  }
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  apply();
  var n = document.querySelectorAll('#matrix tbody tr').length;
  document.documentElement.setAttribute('data-ready', 'matrix-rows:' + n);
})();
`;

function anchor(r: CaseResult): string {
  return `r-${r.adapter}-${r.case}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

function kv(rows: Array<[string, string]>): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${h(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

function matrix(report: ConformanceReport): string {
  const m = matrixOf(report);
  if (!m.cases.length) return '<p><em>No results (empty selection or shard).</em></p>';
  const head = `<thead><tr><th>case</th>${m.adapters.map((a) => `<th class="mono">${h(a)}</th>`).join('')}</tr></thead>`;
  const rows = m.cases
    .map((c) => {
      const cells = m.adapters
        .map((a) => {
          const r = m.get(a, c);
          if (!r) return '<td></td>';
          const mark = r.regression?.kind === 'newly-failing' ? ' <span class="new">new</span>' : '';
          const base = regressionCellText(r);
          const baseLine = base ? `<br><span class="small baseline">${h(base)}</span>` : '';
          return `<td class="st-${r.status}" data-status="${r.status}" data-adapter="${h(a)}" title="${h(`${statusLabel(r.status)}: ${r.reason}`)}"><a href="#${anchor(r)}">${STATUS_MARK[r.status]} ${h(cellText(r))}${mark}${baseLine}</a></td>`;
        })
        .join('');
      return `<tr class="case-row" data-case="${h(c)}"><td class="mono">${h(c)}</td>${cells}</tr>`;
    })
    .join('\n');
  const filters = `<div class="filters">Show: ${CASE_STATUSES.map((s) => `<label><input type="checkbox" value="${s}" checked> ${STATUS_MARK[s]} ${statusLabel(s)} (${report.summary.byStatus[s] ?? 0})</label>`).join('')}</div>`;
  return `${filters}<table id="matrix">${head}<tbody>\n${rows}\n</tbody></table><p class="small">Cells: status and max abs error — of the output, or for failures of the worst failing tensor and for expected divergences (${STATUS_MARK['expected-divergence']}) of the worst diverging one (named when not the output); click a cell for details. <span class="new">new</span> = newly failing against the baseline${report.baseline ? "; under a regressed cell, the baseline's max abs error and the ratio of this run's to it" : ''}.</p>`;
}

function charts(report: ConformanceReport): string {
  const m = matrixOf(report);
  const out: string[] = [];
  for (const info of report.cases) {
    if (info.boundaries.length < 2 || !m.cases.includes(info.id)) continue;
    const series: Series[] = [];
    for (const a of m.adapters) {
      const r = m.get(a, info.id);
      if (!r) continue;
      const byLabel = new Map(
        r.checks.filter((c) => (c.kind === 'boundary' || c.kind === 'output') && c.label).map((c) => [c.label!, c]),
      );
      const values = info.boundaries.map((l) => {
        const c = byLabel.get(l);
        // The chart's convention: null = infinite or NaN (drawn on the top row).
        const v = c?.metrics ? c.metrics.maxAbs : undefined;
        return typeof v === 'string' ? null : v;
      });
      if (values.some((v) => v !== undefined)) series.push({ name: a, values });
    }
    if (!series.length) continue;
    out.push(renderErrorChart(info.boundaries, series, { title: `${info.id} — max abs error at each block boundary` }));
  }
  if (!out.length)
    return '<p class="small">No case in this report has intermediate activations at block boundaries.</p>';
  return `<p class="small">Log scale. Points on the bottom row are exact (0), on the top row infinite/NaN. Hover a point for its value.</p>${out.join('\n')}`;
}

function diagnosisAnchor(caseId: string): string {
  return `diag-${caseId}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Per failing case: the diagnoses of every adapter (one chart line each), and the diagnoses that could not run. */
function diagnoses(report: ConformanceReport): string {
  const withDiagnosis = report.results.filter((r) => r.diagnosis || r.diagnosisError !== undefined);
  if (!withDiagnosis.length) return '';
  // Loaded only when there is something to draw: a passing run's report does not pay for the module.
  const { renderDiagnosesHtml } = require('../diagnose/render') as typeof import('../diagnose/render');
  const caseIds = [...report.cases.map((c) => c.id), ...withDiagnosis.map((r) => r.case)].filter(
    (c, i, all) => all.indexOf(c) === i,
  );
  const out: string[] = [];
  for (const c of caseIds) {
    const rs = withDiagnosis.filter((r) => r.case === c);
    if (!rs.length) continue;
    const ds = rs.map((r) => r.diagnosis).filter((d): d is Diagnosis => Boolean(d));
    const errors = rs
      .filter((r) => !r.diagnosis)
      .map((r) => `<li><code>${h(r.adapter)}</code>: ${h(diagnosisLine(r) ?? '')}</li>`);
    out.push(
      `<h3 id="${diagnosisAnchor(c)}">Case <code>${h(c)}</code></h3>` +
        `<ul>${rs
          .filter((r) => r.diagnosis)
          .map((r) => `<li><code>${h(r.adapter)}</code>: ${h(diagnosisLine(r)!)}</li>`)
          .join('')}${errors.join('')}</ul>` +
        (ds.length ? renderDiagnosesHtml(ds) : ''),
    );
  }
  return (
    `<h2 id="diagnosis">Per-layer diagnosis of failing cases</h2>` +
    '<p class="small">Each layer is re-run in float64 on the adapter\'s own captured inputs; the first layer whose error leaves its budget is named, and each layer\'s arithmetic is the closest of fp32, TF32, bf16, fp16 (docs/diagnose.md). The curve of the ideal fp32 run is not computed here (cheap mode).</p>' +
    out.join('\n')
  );
}

/** "runs 1.2 s, of which the program's own compute 0.8 s": an external program's reported time next to the harness's. */
function computeNote(report: ConformanceReport, adapter: string, sep: string): string {
  const c = programComputeOf(report, adapter);
  return c
    ? `${sep}<span class="small">runs ${formatMs(c.runMs)}, the program's own compute ${formatMs(c.computeMs)}</span>`
    : '';
}

function adapters(report: ConformanceReport): string {
  const rows = report.adapters
    .map((a) => {
      const d = a.description;
      const settings = d
        ? Object.entries(d.settings)
            .map(([k, v]) => `${h(k)}=${h(String(v))}`)
            .join('<br>')
        : '';
      const res = countsText(a.counts);
      const avail = a.available
        ? 'yes'
        : `no — ${h(a.unavailableReason ?? '')}${a.fix ? `<br><span class="small">fix: <code>${h(a.fix)}</code></span>` : ''}`;
      const worker =
        a.worker && a.worker.exits.some((e) => e.code !== 0)
          ? `<br><span class="small">worker: ${a.worker.exits.map((e) => h(e.reason)).join('; ')}</span>`
          : '';
      return (
        `<tr><td class="mono">${h(a.id)}</td><td>${h(a.summary)}</td><td>${h(a.profile)}</td><td>${avail}</td>` +
        `<td>${d ? `${h(d.runtime)} ${h(d.version)}<br>${h(d.device)}` : '–'}</td><td>${d ? h(d.precision) : '–'}</td><td class="small">${settings}</td>` +
        `<td>${h(res)}${worker}</td><td class="num">${formatMs(a.durationMs)}${computeNote(report, a.id, '<br>')}</td></tr>`
      );
    })
    .join('\n');
  const na = notApplicableGroups(report.results);
  const notApplicable = na.length
    ? `<p id="not-applicable">Not applicable (not run; neither passes nor failures): ${na.map((g) => `${STATUS_MARK['not-applicable']} <code>${h(g.adapter)}</code> × ${g.cases} case${g.cases === 1 ? '' : 's'} — ${h(g.reason)}`).join('<br>')}</p>`
    : '';
  return `${notApplicable}<table><thead><tr><th>adapter</th><th>summary</th><th>profile</th><th>available</th><th>runtime / device</th><th>precision</th><th>settings</th><th>results</th><th>time</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** "needs atol X at rtol R" of a comparison (the smallest atol that passes at its row's rtol). */
function neededText(m: CheckMetrics | null): string {
  return m?.neededTolerance ? neededToleranceText(m.neededTolerance.atol, m.neededTolerance.rtol) : '';
}

function details(report: ConformanceReport): string {
  return report.results
    .map((r) => {
      const t = r.tolerance;
      const checks = r.checks.length
        ? `<table><thead><tr><th>check</th><th>ok</th><th>max abs</th><th>max rel</th><th>max ULP</th><th>mismatch</th><th>needed</th><th>worst index</th><th>actual</th><th>expected</th><th>tolerance</th><th>note</th></tr></thead><tbody>${r.checks
            .map((c) => {
              const m = c.metrics;
              const w = m?.worst;
              const note =
                c.reason ??
                (c.expectedValue !== undefined
                  ? `${JSON.stringify(c.actualValue)} vs ${JSON.stringify(c.expectedValue)}`
                  : '');
              const ok = c.pass ? '✓' : c.outcome === 'expected-divergence' ? STATUS_MARK['expected-divergence'] : '✗';
              return (
                `<tr><td class="mono">${h(c.name)}</td><td>${ok}</td><td class="num">${m ? `${formatNumber(m.maxAbs)}${m.finite ? `<br><span class="small" title="over the ${m.finite.n} finite elements">finite: ${formatNumber(m.finite.maxAbs)}</span>` : ''}` : '–'}</td><td class="num">${m ? formatNumber(m.maxRel) : '–'}</td>` +
                `<td class="num">${m ? formatNumber(m.maxUlp) : '–'}</td><td class="num">${m ? `${m.mismatches}/${m.n} (${formatPct(m.mismatchPct)})` : '–'}</td>` +
                `<td class="small">${h(neededText(m)) || '–'}</td><td class="mono">${w ? `[${w.index.join(',')}]` : '–'}</td><td class="num">${w ? h(formatValue(w.actual)) : '–'}</td><td class="num">${w ? h(formatValue(w.expected)) : '–'}</td>` +
                `<td class="small">${c.tolerance ? `${h(c.tolerance.caseClass)} × ${h(c.tolerance.role)}: ${h(ruleText(c.tolerance))}` : '–'}</td><td>${h(note)}</td></tr>`
              );
            })
            .join('')}</tbody></table>`
        : '';
      const tol = t
        ? `<p>Tolerance (${h(t.caseClass)} × ${h(t.role)} × ${h(t.profile)}): ${h(ruleText(t))} — ${h(t.reason)}</p>`
        : '';
      const tm = r.timings
        ? `<p class="small">build ${formatMs(r.timings.buildMs)}${r.modelReused ? ' (model reused)' : ''}, run ${formatMs(r.timings.runMs)}${r.timings.programComputeMs !== undefined ? ` (the program's own compute: ${formatMs(r.timings.programComputeMs)})` : ''}, compare ${formatMs(r.timings.compareMs)}, total ${formatMs(r.timings.totalMs)}</p>`
        : '';
      const rt = regressionText(r);
      const reg = rt ? `<p>Against the baseline: ${h(rt)}</p>` : '';
      const dl = diagnosisLine(r);
      const diag = dl
        ? `<p><b>Diagnosis:</b> ${h(dl)}${r.diagnosis ? ` (<a href="#${diagnosisAnchor(r.case)}">charts</a>)` : ''}</p>`
        : '';
      return (
        `<details class="result" id="${anchor(r)}" data-status="${r.status}"><summary>${STATUS_MARK[r.status]} <code>${h(r.adapter)}</code> × <code>${h(r.case)}</code> — <strong>${h(statusLabel(r.status))}</strong></summary>` +
        `<p>${h(r.reason)}</p>${diag}${reg}${tol}${checks}${tm}</details>`
      );
    })
    .join('\n');
}

function environment(report: ConformanceReport): string {
  return report.parts
    .map((p, i) => {
      const e = p.environment;
      const title =
        report.parts.length > 1
          ? `<h3>Part ${i + 1}: <code>${h(p.runId)}</code>${p.options.shard ? ` (shard ${p.options.shard.index}/${p.options.shard.count})` : ''}</h3>`
          : '';
      const gpu = e.gpu.devices.length
        ? e.gpu.devices
            .map((d) => `${h(d.name)} (driver ${h(d.driver)}${d.memoryMiB !== null ? `, ${d.memoryMiB} MiB` : ''})`)
            .join('<br>') + (e.gpu.cudaVersion ? `<br>CUDA ${h(e.gpu.cudaVersion)}` : '')
        : h(e.gpu.note ?? 'none');
      const pkgs = Object.entries(e.packages)
        .map(([k, v]) => `${h(k)} ${h(v)}`)
        .join('<br>');
      const precision = Object.entries(e.precision)
        .map(
          ([k, v]) =>
            `<code>${h(k)}</code>: ${h(v.precision)}${
              Object.keys(v.settings).length
                ? ` (${Object.entries(v.settings)
                    .map(([sk, sv]) => `${h(sk)}=${h(String(sv))}`)
                    .join(', ')})`
                : ''
            }`,
        )
        .join('<br>');
      return (
        title +
        kv([
          ['run id', `<code>${h(p.runId)}</code>`],
          ['started', h(p.startedAt)],
          ['duration', formatMs(p.durationMs)],
          ['options', `<code>${h(JSON.stringify(p.options))}</code>`],
          [
            'git',
            `${h(e.git.commit ?? 'none')}${e.git.dirty ? ' (uncommitted changes)' : ''}${e.git.note ? ` — ${h(e.git.note)}` : ''}`,
          ],
          ['OS', `${h(e.os.distro ?? '')} ${h(e.os.platform)} ${h(e.os.release)} ${h(e.os.arch)}`],
          ['CPU', `${h(e.cpu.model)}, ${e.cpu.cores} cores, ${e.cpu.memoryGiB} GiB`],
          ['Node', `${h(e.node.version)} (V8 ${h(e.node.v8)})`],
          ['GPU', gpu],
          ['packages', pkgs],
          ['precision', precision || '–'],
        ])
      );
    })
    .join('\n');
}

function tolerances(report: ConformanceReport): string {
  const t = tolerancesUsed(report);
  if (!t.length) return '';
  return `<h2 id="tolerances">Tolerances applied</h2><table><thead><tr><th>case class</th><th>role</th><th>profile</th><th>rule</th><th>reason</th></tr></thead><tbody>${t.map((x) => `<tr><td>${h(x.caseClass)}</td><td>${h(x.role)}</td><td>${h(x.profile)}</td><td>${h(ruleText(x))}</td><td>${h(x.reason)}</td></tr>`).join('')}</tbody></table>`;
}

export function renderHtml(report: ConformanceReport): string {
  const s = report.summary;
  const counts = countsText(s.byStatus);
  const baseline = report.baseline
    ? `<p>Baseline <code>${h(report.baseline.runId)}</code> (factor ${formatNumber(report.baseline.factor)}×): ${report.baseline.regressed} regressed, ${report.baseline.newlyFailing} newly failing, ${report.baseline.improved} improved, ${report.baseline.newPairs} new, ${report.baseline.missingPairs} missing.</p>`
    : '';
  const failures = s.failures.length
    ? `<details><summary>${s.failures.length} reason(s) for the verdict</summary><ul>${s.failures.map((f) => `<li>${h(f)}</li>`).join('')}</ul></details>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ResNet conformance ${h(verdictText(report))} — ${h(report.runId)}</title>
<style>${CSS}</style>
</head>
<body>
<h1 class="verdict-${s.verdict}" id="verdict">${s.verdict === 'pass' ? '✓' : '✗'} ResNet conformance: ${h(verdictText(report))}</h1>
${report.partial ? `<p id="partial"><strong>Partial report</strong> (merged with --allow-partial; never a pass): ${report.partial.reasons.map((r) => h(r)).join('; ')}</p>\n` : ''}
<p>${s.total} results${counts ? `: ${h(counts)}` : ''} · run <code>${h(report.runId)}</code> · commit <code>${h(shortCommit(report))}</code> · ${h(report.tool.name)} ${h(report.tool.version)} · report schema ${report.schemaVersion} · fixtures ${h(report.fixtures.manifest)} (${report.fixtures.caseCount} cases, sha256 ${h(report.fixtures.sha256.slice(0, 12))})</p>
${baseline}${failures}
<h2 id="matrix-section">Matrix</h2>
${matrix(report)}
<h2 id="charts">Error along the block boundaries</h2>
${charts(report)}
${diagnoses(report)}
<h2 id="adapters">Adapters</h2>
${adapters(report)}
${tolerances(report)}
<h2 id="results">Results</h2>
${details(report)}
${report.perf ? perfHtml(report.perf, { collapse: true }) : ''}
<h2 id="environment">Environment</h2>
${environment(report)}
<script>${SCRIPT}</script>
</body>
</html>
`;
}
