/**
 * `mutate`: the mutation score of the default case set (src/mutants, docs/mutants.md).
 * Exit code 0: no negative control false-alarmed and every equivalence claim held (and, with
 * --min-caught, enough mutants were caught); 1: a control failed a case, a mutant declared
 * equivalent was caught, or the caught share is below --min-caught; 2: usage or configuration error.
 * Survivors alone do not fail the command: the score is its result.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FixtureError } from '../../golden/load';
import { MUTANTS, mutantTargets, renderMutationMarkdown, runMutation, scoreLines } from '../../mutants';
import { buildModel } from '../../model/model-args';
import { UsageError, bool, parseArgs, str } from '../args';
import { MUTATE_SPEC } from '../specs';
import { displayDir, makeRunId } from './run';

function listBank(write: (s: string) => void): void {
  const probe = buildModel({ model: 'resnet50', inputShape: [64, 64, 3], classes: 6 });
  for (const m of MUTANTS) {
    const n = mutantTargets(m, probe).layers.length;
    write(
      `${m.id.padEnd(32)} ${m.kind === 'control' ? 'control' : m.category.padEnd(15)} ${m.title} [ResNet-50: ${n} layer(s)]`,
    );
  }
}

export async function mutateCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, MUTATE_SPEC.flags);
  if (p.positional.length) throw new UsageError(`mutate takes no positional arguments (got ${p.positional.join(' ')})`);
  const write = (line: string) => process.stdout.write(`${line}\n`);
  if (bool(p, 'list')) {
    listBank(write);
    return 0;
  }
  const minText = str(p, 'min-caught');
  const min = minText === undefined ? undefined : Number(minText);
  if (min !== undefined && !(min >= 0 && min <= 100))
    throw new UsageError(`--min-caught must be a percentage 0..100, got '${minText}'`);
  const json = bool(p, 'json');
  const fixturesDir = str(p, 'fixtures');
  const outDir = path.resolve(str(p, 'out') ?? path.join('reports', `mutate-${makeRunId(new Date(), null)}`));
  let report;
  try {
    report = await runMutation({
      fixturesDir: fixturesDir === undefined ? undefined : path.resolve(fixturesDir),
      cases: str(p, 'cases'),
      mutants: str(p, 'mutants'),
      diagnose: !bool(p, 'no-diagnose'),
      progress: json ? undefined : write,
    });
  } catch (err) {
    if (err instanceof FixtureError) {
      process.stderr.write(`resnet-conformance mutate: bad fixtures: ${err.message}\n`);
      return 2;
    }
    if (err instanceof Error && err.message.startsWith('--mutants:')) throw new UsageError(err.message);
    throw err;
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'mutation.json'), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(outDir, 'mutation.md'), renderMutationMarkdown(report));
  const s = report.summary;
  let code = s.exitCode;
  const belowMin = min !== undefined && (s.caughtShare ?? 0) * 100 < min;
  if (belowMin) code = 1;
  if (json) {
    write(JSON.stringify(report, null, 2));
    return code;
  }
  write('');
  for (const l of scoreLines(s)) write(l);
  if (s.survived.length) write(`survived: ${s.survived.join(', ')}`);
  if (s.notLocalized.length) write(`caught, not localized: ${s.notLocalized.join(', ')}`);
  if (s.equivalentCaught.length)
    write(`declared equivalent but caught (the bank is wrong): ${s.equivalentCaught.join(', ')}`);
  if (belowMin) write(`caught share below --min-caught ${min}%`);
  write(`${(report.durationMs / 1000).toFixed(1)} s. Report: ${displayDir(outDir)}/mutation.json (+ mutation.md)`);
  return code;
}
