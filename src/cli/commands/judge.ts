/**
 * `judge`: outputs recorded from a case pack on another device, judged as `run` judges them
 * (src/runner/pack-judge.ts, docs/case-packs.md); writes the same report files. Exit 0 everything
 * conforms, 1 a conformance failure (a missing output included), 2 usage or configuration error
 * (an unreadable pack manifest, a pack from other fixtures, no profile).
 */
import * as fs from 'fs';
import * as path from 'path';
import { FixtureError } from '../../golden/load';
import { FIXTURES_DIR } from '../../golden/paths';
import { REPORT_SCHEMA_VERSION } from '../../report/schema';
import { prepareOutDir, writeReportDir } from '../../report/write';
import { PackError } from '../../runner/pack-format';
import { judgePack, parseProfile } from '../../runner/pack-judge';
import { makeRunId } from '../../runner/run-id';
import { bool, parseArgs, required, str, UsageError } from '../args';
import { JUDGE_SPEC } from '../specs';
import { displayDir, printSummary, renderWithPerf } from './run';

export async function judgeCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, JUDGE_SPEC.flags);
  if (p.positional.length) throw new UsageError(`judge takes no positional arguments (got ${p.positional.join(' ')})`);
  const runId = makeRunId(new Date(), null);
  const outDir = path.resolve(str(p, 'out') ?? path.join('reports', runId));
  const write = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const profileText = str(p, 'profile');
    const report = await judgePack({
      packDir: path.resolve(required(p, 'pack')),
      outputsDir: path.resolve(required(p, 'outputs')),
      fixturesDir: path.resolve(str(p, 'fixtures') ?? FIXTURES_DIR),
      adapterId: str(p, 'adapter-id'),
      profile: profileText === undefined ? undefined : parseProfile(profileText, '--profile'),
      cases: str(p, 'cases'),
      diagnose: !bool(p, 'no-diagnose'),
      runId,
    });
    if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0 && !fs.existsSync(path.join(outDir, 'report.json')))
      throw new PackError(`--out ${outDir}: exists and holds something other than a report`);
    prepareOutDir(outDir);
    writeReportDir(outDir, report.runId, REPORT_SCHEMA_VERSION, renderWithPerf(report));
    write(
      `resnet-conformance judge ${runId}: ${report.adapters[0].id} (${report.adapters[0].profile}) on ${report.results.length} case(s) of ${str(p, 'pack')}`,
    );
    printSummary(report, displayDir(outDir), write);
    return report.summary.exitCode;
  } catch (err) {
    if (err instanceof PackError || err instanceof FixtureError) {
      process.stderr.write(`resnet-conformance judge: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
