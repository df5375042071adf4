/**
 * JUnit XML: one <testsuite> per adapter, one <testcase> per case.
 *   pass                               → plain testcase
 *   expected-divergence                → <skipped type="expected-divergence" message="expected divergence: <reason>">:
 *                                        CI test views (GitHub, GitLab, Jenkins) count and show skipped apart
 *                                        from passes, while a property on a passing testcase shows nowhere;
 *                                        pytest reports its xfail the same way
 *   fail-numeric, fail-shape, regressed,
 *   unexpected-match, unexplained      → <failure type="status">
 *   error, crashed, timeout            → <error type="status">
 *   unavailable, not-applicable,
 *   skipped                            → <skipped message="status: reason">; an unavailable adapter that was
 *                                        requested explicitly (so fails the run) → <error type="unavailable">
 * A diagnosed case's failure message ends with the first diverging layer (or, with none out of its budget,
 * the suspect layer: src/report/diagnosis-text.ts); the body has
 * the diagnosis line (src/report/diagnosis-text.ts).
 * Counts (tests, failures, errors, skipped) are given on every suite and on <testsuites>.
 */
import { neededToleranceText } from '../compare/metrics';
import { diagnosisLine, firstDivergingText, layerToName } from './diagnosis-text';
import { finiteText, formatNumber, formatValue, escapeXml, toleranceText } from './format';
import type { AdapterReport, CaseResult, ConformanceReport } from './schema';

type Kind = 'pass' | 'failure' | 'error' | 'skipped';

function kindOf(r: CaseResult, explicit: boolean): Kind {
  switch (r.status) {
    case 'pass':
      return 'pass';
    case 'expected-divergence':
      return 'skipped';
    case 'fail-numeric':
    case 'fail-shape':
    case 'regressed':
    case 'unexpected-match':
    case 'unexplained':
      return 'failure';
    case 'error':
    case 'crashed':
    case 'timeout':
      return 'error';
    case 'unavailable':
      return explicit ? 'error' : 'skipped';
    case 'not-applicable':
    case 'skipped':
      return 'skipped';
  }
}

function seconds(ms: number | undefined): string {
  return ((ms ?? 0) / 1000).toFixed(3);
}

function details(r: CaseResult): string {
  const lines = [`status: ${r.status}`, `reason: ${r.reason}`];
  if (r.tolerance) {
    lines.push(`tolerance: ${toleranceText(r.tolerance)}`);
  }
  for (const c of r.checks) {
    const m = c.metrics;
    const metrics = m
      ? `maxAbs ${formatNumber(m.maxAbs)}, maxRel ${formatNumber(m.maxRel)}, maxUlp ${formatNumber(m.maxUlp)}, mismatches ${m.mismatches}/${m.n}${m.neededTolerance ? `, ${neededToleranceText(m.neededTolerance.atol, m.neededTolerance.rtol)}` : ''}${m.worst ? `, worst at [${m.worst.index.join(',')}] actual ${formatValue(m.worst.actual)} expected ${formatValue(m.worst.expected)}` : ''}${finiteText(m.finite)}`
      : '';
    const mark = c.pass ? 'ok  ' : c.outcome === 'expected-divergence' ? 'XDIV' : 'FAIL';
    lines.push(`${mark} ${c.name}${metrics ? `: ${metrics}` : ''}${c.reason ? ` — ${c.reason}` : ''}`);
  }
  const diagnosis = diagnosisLine(r);
  if (diagnosis) lines.push(`diagnosis: ${diagnosis}`);
  return lines.join('\n');
}

function testcase(r: CaseResult, explicit: boolean): string {
  const kind = kindOf(r, explicit);
  const open = `    <testcase name="${escapeXml(r.case)}" classname="resnet-conformance.${escapeXml(r.adapter)}" time="${seconds(r.timings?.totalMs)}"`;
  if (kind === 'pass') return `${open}>\n      <system-out>${escapeXml(details(r))}</system-out>\n    </testcase>`;
  if (kind === 'skipped' && r.status === 'expected-divergence') {
    // The details go in system-out, as for a pass: the metrics of every tensor stay visible.
    return `${open}>\n      <skipped type="expected-divergence" message="${escapeXml(r.reason)}"/>\n      <system-out>${escapeXml(details(r))}</system-out>\n    </testcase>`;
  }
  if (kind === 'skipped')
    return `${open}>\n      <skipped message="${escapeXml(`${r.status}: ${r.reason}`)}"/>\n    </testcase>`;
  const tag = kind === 'failure' ? 'failure' : 'error';
  const layer = layerToName(r);
  const message = layer ? `${r.reason} — ${layer}` : r.reason;
  return `${open}>\n      <${tag} type="${escapeXml(r.status)}" message="${escapeXml(message)}">${escapeXml(details(r))}</${tag}>\n    </testcase>`;
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function count(results: CaseResult[], explicit: (id: string) => boolean): Counts {
  const c: Counts = { tests: results.length, failures: 0, errors: 0, skipped: 0 };
  for (const r of results) {
    const k = kindOf(r, explicit(r.adapter));
    if (k === 'failure') c.failures++;
    else if (k === 'error') c.errors++;
    else if (k === 'skipped') c.skipped++;
  }
  return c;
}

function attrs(c: Counts): string {
  return `tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}"`;
}

export function renderJunit(report: ConformanceReport): string {
  const adapters = new Map<string, AdapterReport>(report.adapters.map((a) => [a.id, a]));
  const explicit = (id: string) => adapters.get(id)?.explicitlyRequested ?? false;
  const ids = [...report.adapters.map((a) => a.id)];
  for (const r of report.results) if (!adapters.has(r.adapter) && !ids.includes(r.adapter)) ids.push(r.adapter);
  const suites: string[] = [];
  let totalMs = 0;
  for (const id of ids) {
    const results = report.results.filter((r) => r.adapter === id);
    if (results.length === 0) continue;
    const a = adapters.get(id);
    const ms = a?.durationMs ?? results.reduce((s, r) => s + (r.timings?.totalMs ?? 0), 0);
    totalMs += ms;
    const props: string[] = [];
    if (a) {
      props.push(`profile=${a.profile}`, `available=${a.available}`);
      if (a.description) {
        props.push(
          `runtime=${a.description.runtime} ${a.description.version}`,
          `device=${a.description.device}`,
          `precision=${a.description.precision}`,
        );
        for (const [k, v] of Object.entries(a.description.settings)) props.push(`setting.${k}=${String(v)}`);
      }
      if (!a.available && a.unavailableReason) props.push(`unavailable=${a.unavailableReason}`);
    }
    const propXml = props
      .map((p) => {
        const eq = p.indexOf('=');
        return `      <property name="${escapeXml(p.slice(0, eq))}" value="${escapeXml(p.slice(eq + 1))}"/>`;
      })
      .join('\n');
    suites.push(
      [
        `  <testsuite name="${escapeXml(id)}" ${attrs(count(results, explicit))} time="${seconds(ms)}">`,
        `    <properties>\n${propXml}\n    </properties>`,
        ...results.map((r) => testcase(r, explicit(r.adapter))),
        '  </testsuite>',
      ].join('\n'),
    );
  }
  const total = count(report.results, explicit);
  // A partial merge: one erroring testcase per reason, so CI shows the report as incomplete.
  const reasons = report.partial?.reasons ?? [];
  if (reasons.length) {
    total.tests += reasons.length;
    total.errors += reasons.length;
    suites.push(
      [
        `  <testsuite name="PARTIAL report (merge --allow-partial)" tests="${reasons.length}" failures="0" errors="${reasons.length}" skipped="0" time="0.000">`,
        ...reasons.map(
          (r, i) =>
            `    <testcase classname="partial" name="reason ${i + 1}" time="0.000">\n      <error type="partial" message="${escapeXml(r)}">${escapeXml(r)}</error>\n    </testcase>`,
        ),
        '  </testsuite>',
      ].join('\n'),
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="resnet-conformance ${escapeXml(report.runId)}${reasons.length ? ' (PARTIAL)' : ''}" ${attrs(total)} time="${seconds(totalMs)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
