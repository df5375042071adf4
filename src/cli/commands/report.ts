import { ReportReadError, readReport } from '../../report/read';
import { REPORT_FORMATS, render, type ReportFormat } from '../../report/render';
import { writeFileAtomic } from '../../util/fs';
import { UsageError, parseArgs, str } from '../args';
import { REPORT_SPEC } from '../specs';

/** `report`: re-renders a report.json in one format, to --out (atomically) or stdout. */
export async function reportCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, REPORT_SPEC.flags);
  if (p.positional.length !== 1)
    throw new UsageError(
      `report takes exactly one report (report.json or a run directory), got ${p.positional.length}`,
    );
  const format = str(p, 'format');
  if (format === undefined) throw new UsageError(`--format is required (${REPORT_FORMATS.join(', ')})`);
  if (!(REPORT_FORMATS as readonly string[]).includes(format))
    throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(', ')}, got '${format}'`);
  let text: string;
  try {
    text = render(readReport(p.positional[0]), format as ReportFormat);
  } catch (err) {
    if (err instanceof ReportReadError) {
      process.stderr.write(`resnet-conformance report: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const out = str(p, 'out');
  if (out === undefined) process.stdout.write(text);
  else writeFileAtomic(out, text);
  return 0;
}
