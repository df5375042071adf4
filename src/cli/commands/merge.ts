import * as path from 'path';
import { ReportReadError, readReport } from '../../report/read';
import { renderAll } from '../../report/render';
import { REPORT_SCHEMA_VERSION } from '../../report/schema';
import { acquireOutDirLock, OutDirBusyError, prepareOutDir, writeReportDir } from '../../report/write';
import { mergeReports } from '../../runner/merge';
import { UsageError, bool, parseArgs, required } from '../args';
import { MERGE_SPEC } from '../specs';
import { displayDir, printSummary } from './run';

/**
 * `merge`: combines shard (or per-device) reports into one run directory with all four formats.
 * Exit code = the merged verdict (0 pass, 1 fail; a partial merge always fails), 2 on bad or
 * overlapping input, on an incomplete or mixed set without --allow-partial, or when another run is
 * writing --out.
 */
export async function mergeCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, MERGE_SPEC.flags);
  if (p.positional.length < 1) throw new UsageError('merge needs at least one report');
  const out = path.resolve(required(p, 'out'));
  let reports;
  try {
    reports = p.positional.map((f) => readReport(f));
  } catch (err) {
    if (err instanceof ReportReadError) {
      process.stderr.write(`resnet-conformance merge: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const merged = mergeReports(reports, p.positional, { allowPartial: bool(p, 'allow-partial') });
  let release: () => void;
  try {
    release = acquireOutDirLock(out, merged.runId, (s) => process.stderr.write(`resnet-conformance merge: ${s}\n`));
  } catch (err) {
    if (err instanceof OutDirBusyError) {
      process.stderr.write(`resnet-conformance merge: --out: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  try {
    prepareOutDir(out);
    writeReportDir(out, merged.runId, REPORT_SCHEMA_VERSION, renderAll(merged));
  } finally {
    release();
  }
  process.stdout.write(
    `merged ${reports.length} report(s): ${merged.results.length} results from ${merged.parts.length} part(s)${merged.partial ? ' — PARTIAL (--allow-partial): not one whole run' : ''}\n`,
  );
  printSummary(merged, displayDir(out), (s) => process.stdout.write(`${s}\n`));
  return merged.summary.exitCode;
}
