/**
 * `explain (--baseline-set NAME [--baselines-dir DIR] | --public-tests p.py [--outputs o.py] [--notebook n.ipynb])
 *  [--epsilons 1e-3,1e-5,...] [--json]`: searches (RNG kind, TF32 layer set, BatchNorm epsilon) with the
 * reference adapter for what reproduces a revision's values (src/notebook/explain.ts).
 * Exit 0 explained, 1 not explained (what is left is printed), 2 usage error or bad input.
 */
import * as path from 'path';
import { BaselineError, DEFAULT_BASELINES_DIR, baselineDir, readBaseline } from '../../notebook/revision-baseline';
import { DEFAULT_EPSILONS, configurationSpace, explain, formatExplanation } from '../../notebook/explain';
import { importRevision, NotebookImportError, type ImportedRevision } from '../../notebook/revision';
import { UsageError, bool, parseArgs, str } from '../args';
import { EXPLAIN_SPEC } from '../specs';

export async function explainCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, EXPLAIN_SPEC.flags);
  if (p.positional.length)
    throw new UsageError(`explain takes no positional arguments (got ${p.positional.join(' ')})`);
  const set = str(p, 'baseline-set');
  const tests = str(p, 'public-tests');
  if ((set === undefined) === (tests === undefined))
    throw new UsageError('give exactly one of --baseline-set NAME or --public-tests p.py');
  let epsilons = DEFAULT_EPSILONS;
  const epsText = str(p, 'epsilons');
  if (epsText !== undefined) {
    epsilons = epsText.split(',').map(Number);
    if (epsilons.some((e) => !(e > 0) || !Number.isFinite(e)))
      throw new UsageError(`--epsilons must be positive numbers, got '${epsText}'`);
  }
  let rev: ImportedRevision;
  let name: string;
  try {
    if (set !== undefined) {
      name = set;
      rev = readBaseline(baselineDir(set, str(p, 'baselines-dir') ?? DEFAULT_BASELINES_DIR)).revision;
    } else {
      name = path.basename(tests!);
      const files: { role: 'public-tests' | 'outputs' | 'notebook'; path: string }[] = [
        { role: 'public-tests', path: tests! },
      ];
      if (str(p, 'outputs')) files.push({ role: 'outputs', path: str(p, 'outputs')! });
      if (str(p, 'notebook')) files.push({ role: 'notebook', path: str(p, 'notebook')! });
      rev = await importRevision(files);
    }
    for (const warning of rev.warnings) process.stderr.write(`resnet-conformance explain: warning: ${warning}\n`);
    const x = explain(rev, configurationSpace(epsilons));
    process.stdout.write(
      bool(p, 'json')
        ? `${JSON.stringify(x, (_k, v) => (v === Infinity ? 'Infinity' : v), 1)}\n`
        : `${formatExplanation(name, x, rev)}\n`,
    );
    return x.explained ? 0 : 1;
  } catch (e) {
    if (e instanceof NotebookImportError || e instanceof BaselineError) {
      process.stderr.write(`resnet-conformance explain: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
