/**
 * `import-notebook --public-tests p.py [--outputs o.py] [--notebook n.ipynb] --name NAME [--out DIR] [--json]`:
 * reads a notebook revision's test files with Python's ast (pyodide; never executed) and writes a
 * named baseline (src/notebook/revision-baseline.ts). Exit 0 written, 2 usage error or bad input (file:line).
 */
import * as path from 'path';
import { BaselineError, baselineDir, writeBaseline } from '../../notebook/revision-baseline';
import { importRevision, NotebookImportError } from '../../notebook/revision';
import { UsageError, bool, parseArgs, required, str } from '../args';
import { IMPORT_NOTEBOOK_SPEC } from '../specs';

export async function importNotebookCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, IMPORT_NOTEBOOK_SPEC.flags);
  if (p.positional.length)
    throw new UsageError(`import-notebook takes no positional arguments (got ${p.positional.join(' ')})`);
  const name = required(p, 'name');
  const files: { role: 'public-tests' | 'outputs' | 'notebook'; path: string }[] = [
    { role: 'public-tests', path: required(p, 'public-tests') },
  ];
  const outputs = str(p, 'outputs');
  if (outputs) files.push({ role: 'outputs', path: outputs });
  const notebook = str(p, 'notebook');
  if (notebook) files.push({ role: 'notebook', path: notebook });
  let dir: string;
  try {
    dir = str(p, 'out') ? path.resolve(str(p, 'out')!) : baselineDir(name);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  try {
    const rev = await importRevision(files);
    const b = writeBaseline(rev, name, dir);
    // what was left out or not explained is said on stderr, whatever the output format
    for (const warning of b.warnings ?? [])
      process.stderr.write(`resnet-conformance import-notebook: warning: ${warning}\n`);
    if (bool(p, 'json')) {
      process.stdout.write(
        `${JSON.stringify({ dir, calls: b.calls.length, checks: b.checks.length, runner: b.runner, warnings: b.warnings ?? [] }, null, 1)}\n`,
      );
      return 0;
    }
    const w = (s: string) => process.stdout.write(`${s}\n`);
    w(`baseline '${name}' written to ${dir}: ${b.calls.length} block call(s), ${b.checks.length} check(s)`);
    for (const s of b.sources) w(`  source ${s.role} ${s.path} sha256 ${s.sha256}`);
    for (const c of b.calls)
      w(
        `  call ${c.id} ${c.file}:${c.line} ${c.source} -> output [${c.outputShape.join(',')}], BatchNorm training=${c.effectiveTraining} (${c.trainingFrom})${c.seeds.tfSetSeed !== null ? `, after tf.random.set_seed(${c.seeds.tfSetSeed})` : ''}`,
      );
    for (const k of b.checks)
      w(
        `  check ${k.id} ${k.kind} ${k.view}${k.tolerance ? ` (atol ${k.tolerance.atol}, rtol ${k.tolerance.rtol})` : k.shape ? ` == (${k.shape.join(', ')})` : ''}${k.expected ? ` values ${k.expected.valuesFrom.file} lines ${k.expected.valuesFrom.lines}` : ''}`,
      );
    w(
      `  runner manifest: ${b.runner.cases.length} case(s)${b.runner.notInManifest.length ? `; not in it: ${b.runner.notInManifest.map((n) => n.check).join(', ')}` : ''}`,
    );
    return 0;
  } catch (e) {
    if (e instanceof NotebookImportError || e instanceof BaselineError) {
      process.stderr.write(`resnet-conformance import-notebook: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
