/**
 * `resnet-conformance fixtures verify|generate|check|materialize`:
 *   verify    every fixture file against the manifest (digest, shape, dtype) and the manifest's consistency;
 *   generate  sets up the pinned .venv if needed and runs fixtures/generate/generate.py (real Keras);
 *   check     freshness: regenerates into a temporary folder and compares with the committed fixtures;
 *   materialize  writes the pre-trained ResNet-50 files (~95 MB each) from their small committed form
 *             (src/golden/pretrained-materialize.ts), no Python needed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FIXTURES_DIR, MANIFEST_FILE } from '../../golden/paths';
import { compareFixtureDirs, formatFreshness } from '../../golden/freshness';
import { ensurePythonEnv, runGenerator } from '../../golden/generator';
import { verifyFixtures } from '../../golden/verify';
import { MaterializeError, materializePretrained, PRETRAINED_DIR } from '../../golden/pretrained-materialize';
import { bool, parseArgs, str, synopsis, UsageError, type CommandSpec } from '../args';
import { FIXTURES_SPEC } from '../specs';

export const FIXTURES_USAGE = synopsis(FIXTURES_SPEC)
  .map((s) => `resnet-conformance ${s}`)
  .join('\n');

function subcommand(name: string): CommandSpec {
  return FIXTURES_SPEC.subcommands!.find((s) => s.name === `fixtures ${name}`)!;
}

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const err = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

function verify(argv: string[]): number {
  const p = parseArgs(argv, subcommand('verify').flags);
  if (p.positional.length)
    throw new UsageError(`fixtures verify takes no positional arguments (got '${p.positional[0]}')`);
  const dir = path.resolve(str(p, 'dir') ?? FIXTURES_DIR);
  const r = verifyFixtures(dir);
  if (bool(p, 'json')) {
    out(JSON.stringify(r, null, 1));
  } else if (r.ok) {
    out(
      `fixtures verify: OK: ${r.cases} cases, ${r.files} tensor files (${(r.bytes / 1e6).toFixed(2)} MB) match ${path.join(dir, MANIFEST_FILE)}`,
    );
  } else {
    err(`fixtures verify: ${r.problems.length} problem(s) in ${dir}:`);
    for (const pr of r.problems) err(`  ${pr}`);
  }
  return r.ok ? 0 : 1;
}

function generate(argv: string[]): number {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const pass = dash >= 0 ? argv.slice(dash + 1) : [];
  const p = parseArgs(own, subcommand('generate').flags);
  if (p.positional.length)
    throw new UsageError(`fixtures generate: unexpected '${p.positional[0]}' (generator arguments go after --)`);
  let python: string;
  try {
    python = ensurePythonEnv(err, { setup: !bool(p, 'no-setup') });
  } catch (e) {
    err(`fixtures generate: ${(e as Error).message}`);
    return 2;
  }
  const code = runGenerator(python, pass, err);
  if (code !== 0) err(`fixtures generate: the generator failed (exit code ${code}; why: above)`);
  return code === 0 ? 0 : 1;
}

function check(argv: string[]): number {
  const p = parseArgs(argv, subcommand('check').flags);
  if (p.positional.length)
    throw new UsageError(`fixtures check takes no positional arguments (got '${p.positional[0]}')`);
  const dir = path.resolve(str(p, 'dir') ?? FIXTURES_DIR);
  const exact = bool(p, 'exact');
  const v = verifyFixtures(dir);
  if (!v.ok) {
    err(`fixtures check: the committed fixtures do not verify (${v.problems.length} problem(s)):`);
    for (const pr of v.problems) err(`  ${pr}`);
    return 1;
  }
  let python: string;
  try {
    python = ensurePythonEnv(err, { setup: !bool(p, 'no-setup') });
  } catch (e) {
    err(`fixtures check: ${(e as Error).message}`);
    return 2;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resnet-conformance-fixtures-check-'));
  try {
    const code = runGenerator(python, ['--out', tmp, '--previous', path.join(dir, MANIFEST_FILE)], err);
    if (code !== 0) {
      err(`fixtures check: the generator failed (exit code ${code}; why: above); nothing compared`);
      return 1;
    }
    const r = compareFixtureDirs(dir, tmp);
    const exactOk = r.identical === r.tensors && r.manifestIdentical;
    const ok = r.ok && (!exact || exactOk);
    if (bool(p, 'json')) {
      out(JSON.stringify({ ...r, ok, exact, comparedOk: r.ok }, null, 1));
    } else {
      for (const line of formatFreshness(r, exact)) out(`  ${line}`);
      if (ok) {
        out(
          `fixtures check: OK: the committed fixtures are what Keras produces here${exactOk ? ' (byte for byte)' : ''}`,
        );
      } else {
        err(
          `fixtures check: FAILED: ${exact && r.ok ? 'not byte-identical (--exact)' : 'the committed fixtures are not what Keras produces here'}; ` +
            'regenerate with `npm run fixtures:generate` and review the diff',
        );
      }
    }
    return ok ? 0 : 1;
  } finally {
    if (bool(p, 'keep')) err(`fixtures check: regenerated fixtures kept in ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function materialize(argv: string[]): number {
  const p = parseArgs(argv, subcommand('materialize').flags);
  if (p.positional.length)
    throw new UsageError(`fixtures materialize takes no positional arguments (got '${p.positional[0]}')`);
  const dir = path.resolve(str(p, 'dir') ?? PRETRAINED_DIR);
  const outDir = str(p, 'out');
  try {
    const t0 = performance.now();
    const files = materializePretrained({ dir, outDir: outDir ? path.resolve(outDir) : undefined, log: out });
    for (const f of files.filter((x) => x.status === 'present'))
      out(`${path.relative(process.cwd(), f.file) || f.file}: present (sha256 matches)`);
    out(
      `fixtures materialize: OK: ${files.length} pre-trained ResNet-50 file(s), byte for byte the files Keras wrote (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    return 0;
  } catch (e) {
    if (e instanceof MaterializeError) {
      err(`fixtures materialize: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

export async function fixturesCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'verify':
      return verify(rest);
    case 'generate':
      return generate(rest);
    case 'check':
      return check(rest);
    case 'materialize':
      return materialize(rest);
    default:
      throw new UsageError(
        `fixtures: expected a subcommand verify, generate, check or materialize${sub ? ` (got '${sub}')` : ''}\n${FIXTURES_USAGE}`,
      );
  }
}
