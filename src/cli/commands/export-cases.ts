/**
 * `export-cases`: the selected golden cases as a case pack for a device without Node
 * (src/runner/pack-export.ts, docs/case-packs.md). Exit 0 written, 2 usage or configuration error.
 */
import * as path from 'path';
import { ADAPTERS } from '../../adapters/registry';
import { FixtureError } from '../../golden/load';
import { FIXTURES_DIR } from '../../golden/paths';
import { exportCases } from '../../runner/pack-export';
import { PackError } from '../../runner/pack-format';
import { parseProfile } from '../../runner/pack-judge';
import { bool, parseArgs, required, str, UsageError } from '../args';
import { EXPORT_CASES_SPEC } from '../specs';

export async function exportCasesCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, EXPORT_CASES_SPEC.flags);
  if (p.positional.length)
    throw new UsageError(`export-cases takes no positional arguments (got ${p.positional.join(' ')})`);
  const out = path.resolve(required(p, 'out'));
  const adapterId = str(p, 'adapter');
  const known = adapterId === undefined ? undefined : ADAPTERS.find((e) => e.id === adapterId);
  const fail = (msg: string): number => {
    process.stderr.write(`resnet-conformance export-cases: ${msg}\n`);
    return 2;
  };
  try {
    const profileText = str(p, 'profile');
    const profile = profileText !== undefined ? parseProfile(profileText, '--profile') : known?.profile;
    const t = performance.now();
    const { manifest, bytes } = exportCases({
      fixturesDir: path.resolve(str(p, 'fixtures') ?? FIXTURES_DIR),
      cases: str(p, 'cases'),
      outDir: out,
      diagnosis: !bool(p, 'no-diagnosis'),
      judge: { ...(adapterId ? { adapterId } : {}), ...(profile ? { profile } : {}) },
    });
    process.stdout.write(
      `wrote case pack ${out}: ${manifest.cases.length} case(s), ${manifest.models.length} model(s), ${(bytes / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - t) / 1000).toFixed(1)} s\n` +
        `  play it: python ${path.join(out, 'client', 'resnet_conformance_adapter.py')} play --pack ${out} --adapter FILE.py:CLASS --out OUTS\n` +
        `  judge it: resnet-conformance judge --pack ${out} --outputs OUTS${profile ? '' : ' --profile PROFILE'}\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof PackError || err instanceof FixtureError) return fail(err.message);
    throw err;
  }
}
