/**
 * Loads a report written by `run` or `merge`: a report.json file, or a run directory (which must
 * carry the completion marker). Anything unusable is a ReportReadError naming the file and the problem
 * (the CLI maps it to exit code 2).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseClassName } from '../compare/tolerances';
import { CASE_STATUSES, REPORT_SCHEMA_VERSION, type ConformanceReport } from './schema';
import { COMPLETE_MARKER, REPORT_FILES, checkAgainstMarker } from './write';

export class ReportReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportReadError';
  }
}

function resolveReportFile(p: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new ReportReadError(`report ${p}: no such file or directory`);
  }
  if (!st.isDirectory()) return p;
  const file = path.join(p, REPORT_FILES.json);
  if (!fs.existsSync(file)) throw new ReportReadError(`report directory ${p} has no ${REPORT_FILES.json}`);
  if (!fs.existsSync(path.join(p, COMPLETE_MARKER))) {
    throw new ReportReadError(`report directory ${p} has no ${COMPLETE_MARKER}: the run that wrote it did not finish`);
  }
  return file;
}

export function parseReport(text: string, name: string): ConformanceReport {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ReportReadError(`report ${name} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ReportReadError(`report ${name}: expected a JSON object`);
  const r = raw as Record<string, unknown>;
  if (r.schemaVersion === undefined)
    throw new ReportReadError(`report ${name} has no schemaVersion: not a resnet-conformance report`);
  if (r.schemaVersion !== REPORT_SCHEMA_VERSION && !READABLE_OLDER.includes(r.schemaVersion as number)) {
    throw new ReportReadError(
      `report ${name} has schemaVersion ${JSON.stringify(r.schemaVersion)}; this tool reads versions ` +
        `${[...READABLE_OLDER, REPORT_SCHEMA_VERSION].join(', ')}`,
    );
  }
  for (const key of ['results', 'adapters', 'cases', 'parts'] as const) {
    if (!Array.isArray(r[key])) throw new ReportReadError(`report ${name}: '${key}' must be an array`);
  }
  for (const key of ['summary', 'fixtures', 'tool'] as const) {
    if (typeof r[key] !== 'object' || r[key] === null)
      throw new ReportReadError(`report ${name}: '${key}' must be an object`);
  }
  (r.results as unknown[]).forEach((res, i) => {
    const x = res as Record<string, unknown>;
    if (typeof x?.adapter !== 'string' || typeof x.case !== 'string' || typeof x.status !== 'string') {
      throw new ReportReadError(`report ${name}: results[${i}] needs string adapter, case and status`);
    }
  });
  if (r.schemaVersion === 1) upgradeFromV1(r);
  zeroMissingCounts(r);
  // 2 -> 3 changes nothing that is there: a null metric keeps its old meaning (NaN, infinite or not
  // measured), there is no metrics.finite, no cases[].fixtureSha256, and a version-2 merge was never partial.
  r.schemaVersion = REPORT_SCHEMA_VERSION;
  return raw as ConformanceReport;
}

/** A status added since the report was written (e.g. 'unexplained') counts 0 there. */
function zeroMissingCounts(r: Record<string, unknown>): void {
  const counts = (c: unknown) => {
    if (typeof c !== 'object' || c === null) return;
    for (const s of CASE_STATUSES)
      if ((c as Record<string, unknown>)[s] === undefined) (c as Record<string, unknown>)[s] = 0;
  };
  if (Array.isArray(r.adapters)) for (const a of r.adapters as Record<string, unknown>[]) counts(a?.counts);
  counts((r.summary as Record<string, unknown>).byStatus);
}

/** Earlier schema versions parseReport accepts (upgraded in memory to the current one). */
const READABLE_OLDER: readonly number[] = [1, 2];

/**
 * Schema 1 -> 2, in place: a tolerance object named its row by one string ('resnet50-training-logits')
 * and carried maxUlp (always null: no row used it); version 2 names (caseClass, role) and the kind.
 * A version-1 report has neither of the new statuses, so only the counts gain zero entries.
 */
function upgradeFromV1(r: Record<string, unknown>): void {
  const tol = (t: unknown) => {
    if (typeof t !== 'object' || t === null) return;
    const x = t as Record<string, unknown>;
    const key = typeof x.caseClass === 'string' ? parseClassName(x.caseClass) : undefined;
    if (key) {
      x.caseClass = key.caseClass;
      x.role = key.role;
    } else if (x.role === undefined) {
      x.role = 'output';
    }
    if (x.kind === undefined) x.kind = 'tolerance';
    delete x.maxUlp;
  };
  const counts = (c: unknown) => {
    if (typeof c !== 'object' || c === null) return;
    for (const s of CASE_STATUSES)
      if ((c as Record<string, unknown>)[s] === undefined) (c as Record<string, unknown>)[s] = 0;
  };
  for (const res of r.results as Record<string, unknown>[]) {
    tol(res.tolerance);
    if (Array.isArray(res.checks)) for (const c of res.checks as Record<string, unknown>[]) tol(c?.tolerance);
  }
  for (const a of r.adapters as Record<string, unknown>[]) counts(a?.counts);
  counts((r.summary as Record<string, unknown>).byStatus);
  r.schemaVersion = REPORT_SCHEMA_VERSION;
}

export function readReport(p: string): ConformanceReport {
  const file = resolveReportFile(p);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ReportReadError(`report ${file} cannot be read (${(err as Error).message})`);
  }
  const problem = checkAgainstMarker(file, text);
  if (problem) throw new ReportReadError(`report ${problem}`);
  return parseReport(text, file);
}
