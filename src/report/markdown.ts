/**
 * Markdown summary: verdict, adapter × case matrix with each cell's worst error, failures, the
 * per-layer diagnosis of each failing case (first diverging layer and verdict), baseline
 * regressions, adapters (with unavailable reasons and fixes), performance (when the report has a
 * perf section) and the tolerances applied. Sized for a
 * GitHub pull-request comment (65 536 characters) and $GITHUB_STEP_SUMMARY: long lists are cut with
 * a note pointing at the full report.
 */
import { perfMarkdown } from './perf-section';
import { diagnosisLine } from './diagnosis-text';
import { STATUS_ICON, escapeMarkdownCell as cell, formatMs, formatNumber, truncate } from './format';
import {
  CASE_STATUSES,
  countsText,
  notApplicableGroups,
  runtimeDriftLines,
  statusLabel,
  type AppliedTolerance,
  type ConformanceReport,
} from './schema';
import { cellText, matrixOf, shortCommit, tolerancesUsed, verdictText } from './view';

/** Comfortably under GitHub's 65 536-character comment limit. */
export const MARKDOWN_BUDGET = 60_000;
const MAX_LISTED = 40;

function envLine(report: ConformanceReport): string {
  const p = report.parts[0];
  if (!p) return '';
  const e = p.environment;
  const gpu = e.gpu.devices.length
    ? ` · GPU ${e.gpu.devices.map((d) => d.name).join(', ')}${e.gpu.cudaVersion ? ` (CUDA ${e.gpu.cudaVersion})` : ''}`
    : '';
  const shards = report.parts.length > 1 ? ` · merged from ${report.parts.length} parts` : '';
  return `Run \`${report.runId}\` · commit \`${shortCommit(report)}\`${e.git.dirty ? ' (dirty)' : ''} · ${e.os.distro ?? e.os.platform} ${e.os.arch} · ${e.cpu.model} (${e.cpu.cores} cores) · Node ${e.node.version}${gpu}${shards}`;
}

/** The pass rule of a row, short: "atol 1e-8, rtol 1e-5", or the expected divergence and its tight bound. */
export function ruleText(t: AppliedTolerance): string {
  return t.kind === 'expected-divergence'
    ? `expected divergence (fails within atol ${formatNumber(t.atol)}, rtol ${formatNumber(t.rtol)})`
    : `atol ${formatNumber(t.atol)}, rtol ${formatNumber(t.rtol)}`;
}

export function renderMarkdown(report: ConformanceReport): string {
  const s = report.summary;
  const m = matrixOf(report);
  const out: string[] = [];
  const counts = countsText(s.byStatus);
  out.push(
    `## ${s.verdict === 'pass' ? '✅' : '❌'} ResNet conformance: ${verdictText(report)} — ${s.total} results${counts ? `: ${counts}` : ''}`,
  );
  out.push('');
  out.push(envLine(report));
  if (report.partial) {
    out.push('');
    out.push(
      `**Partial report** (merged with --allow-partial; never a pass): ${report.partial.reasons.map((r) => cell(r)).join('; ')}`,
    );
  }
  if (report.baseline) {
    const b = report.baseline;
    out.push('');
    out.push(
      `Baseline \`${b.runId}\` (factor ${formatNumber(b.factor)}×): ${b.regressed} regressed, ${b.newlyFailing} newly failing, ${b.improved} improved, ${b.newPairs} new, ${b.missingPairs} missing.`,
    );
  }
  const drift = runtimeDriftLines(report);
  if (drift.length) {
    out.push('');
    out.push(`**Runtime version differs from the measured one:** ${drift.map((d) => cell(d)).join('; ')}`);
  }
  out.push('');

  // Matrix: one row per case, one column per adapter.
  if (m.cases.length && m.adapters.length) {
    out.push(`| case | ${m.adapters.map((a) => `\`${cell(a)}\``).join(' | ')} |`);
    out.push(`|---|${m.adapters.map(() => '---').join('|')}|`);
    for (const c of m.cases) {
      const cells = m.adapters.map((a) => {
        const r = m.get(a, c);
        if (!r) return '';
        const mark = r.regression?.kind === 'newly-failing' ? ' 🆕' : '';
        return `${STATUS_ICON[r.status]} ${cell(cellText(r))}${mark}`;
      });
      out.push(`| \`${cell(c)}\` | ${cells.join(' | ')} |`);
    }
    out.push('');
    out.push(
      `<sub>Cells: status and max abs error — of the output, or for ❌ of the worst failing tensor and for ${STATUS_ICON['expected-divergence']} of the worst diverging one (named when not the output). Legend: ${CASE_STATUSES.map((st) => `${STATUS_ICON[st]} ${statusLabel(st)}`).join(', ')}; 🆕 newly failing against the baseline.</sub>`,
    );
    out.push('');
  } else {
    out.push('_No results (empty selection or shard)._');
    out.push('');
  }

  const failing = report.results.filter(
    (r) => !['pass', 'expected-divergence', 'unavailable', 'not-applicable', 'skipped'].includes(r.status),
  );
  if (failing.length) {
    out.push(`### Not passing (${failing.length})`);
    out.push('');
    for (const r of failing.slice(0, MAX_LISTED)) {
      out.push(
        `- ${STATUS_ICON[r.status]} **${cell(r.adapter)}** × \`${cell(r.case)}\` — ${r.status}: ${cell(truncate(r.reason, 250))}`,
      );
    }
    if (failing.length > MAX_LISTED)
      out.push(`- … and ${failing.length - MAX_LISTED} more (see report.html / report.json)`);
    out.push('');
  }

  const diverging = report.results.filter((r) => r.status === 'expected-divergence');
  if (diverging.length) {
    out.push(`### Expected divergence (${diverging.length})`);
    out.push('');
    for (const r of diverging.slice(0, MAX_LISTED)) {
      out.push(
        `- ${STATUS_ICON[r.status]} **${cell(r.adapter)}** × \`${cell(r.case)}\` — ${cell(truncate(r.reason, 400))}`,
      );
    }
    if (diverging.length > MAX_LISTED)
      out.push(`- … and ${diverging.length - MAX_LISTED} more (see report.html / report.json)`);
    out.push('');
    out.push(
      "<sub>Known divergences named in the tolerance table (src/compare/tolerances.ts): not failures, not passes. They fail as 'unexpected match' once the adapter matches tightly (the row is then stale), and on NaN/Inf or a wrong shape.</sub>",
    );
    out.push('');
  }

  const notApplicable = notApplicableGroups(report.results);
  if (notApplicable.length) {
    out.push(`### Not applicable (${report.summary.byStatus['not-applicable'] ?? 0})`);
    out.push('');
    for (const g of notApplicable)
      out.push(
        `- ${STATUS_ICON['not-applicable']} **${cell(g.adapter)}**: ${g.cases} case${g.cases === 1 ? '' : 's'} — ${cell(truncate(g.reason, 400))}`,
      );
    out.push('');
    out.push('<sub>Not run: the adapter declares it cannot run these cases. Neither passes nor failures.</sub>');
    out.push('');
  }

  const diagnosed = report.results.filter((r) => r.diagnosis || r.diagnosisError !== undefined);
  if (diagnosed.length) {
    out.push(`### Per-layer diagnosis (${diagnosed.length})`);
    out.push('');
    for (const r of diagnosed.slice(0, MAX_LISTED)) {
      out.push(`- **${cell(r.adapter)}** × \`${cell(r.case)}\` — ${cell(truncate(diagnosisLine(r)!, 400))}`);
    }
    if (diagnosed.length > MAX_LISTED)
      out.push(`- … and ${diagnosed.length - MAX_LISTED} more (see report.html / report.json)`);
    out.push('');
    out.push(
      "<sub>Each layer re-run in float64 on the adapter's own inputs; the first whose error leaves its budget is named. Charts and per-layer tables: report.html; method: docs/diagnose.md.</sub>",
    );
    out.push('');
  }

  out.push('### Adapters');
  out.push('');
  out.push('| adapter | profile | runtime | device | precision | results | time |');
  out.push('|---|---|---|---|---|---|---|');
  for (const a of report.adapters) {
    const d = a.description;
    const res = countsText(a.counts);
    const runtime = d ? `${d.runtime} ${d.version}` : '–';
    out.push(
      `| \`${cell(a.id)}\` | ${cell(a.profile)} | ${cell(runtime)} | ${cell(d?.device ?? '–')} | ${cell(truncate(d?.precision ?? '–', 80))} | ${cell(res || '–')} | ${formatMs(a.durationMs)} |`,
    );
  }
  const unavailable = report.adapters.filter((a) => !a.available);
  if (unavailable.length) {
    out.push('');
    out.push('Unavailable here:');
    for (const a of unavailable) {
      out.push(
        `- \`${cell(a.id)}\`${a.explicitlyRequested ? ' (requested explicitly: fails the run)' : ''}: ${cell(a.unavailableReason ?? 'no reason given')}${a.fix ? ` — fix: ${cell(a.fix)}` : ''}`,
      );
    }
  }
  out.push('');

  if (report.perf) out.push(perfMarkdown(report.perf, '### Performance'), '');

  const tols = tolerancesUsed(report);
  if (tols.length) {
    out.push('<details><summary>Tolerances applied</summary>');
    out.push('');
    out.push('| case class | role | profile | rule | reason |');
    out.push('|---|---|---|---|---|');
    for (const t of tols) {
      out.push(
        `| ${cell(t.caseClass)} | ${cell(t.role)} | ${cell(t.profile)} | ${cell(ruleText(t))} | ${cell(truncate(t.reason, 300))} |`,
      );
    }
    out.push('');
    out.push('</details>');
    out.push('');
  }

  let text = `${out.join('\n')}\n`;
  if (text.length > MARKDOWN_BUDGET) {
    const note = '\n\n_(cut to fit a pull-request comment; the full matrix is in report.html / report.json)_\n';
    text = text.slice(0, MARKDOWN_BUDGET - note.length);
    text = text.slice(0, text.lastIndexOf('\n')) + note;
  }
  return text;
}
