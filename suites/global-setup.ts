import * as fs from 'fs';
import * as path from 'path';
import { materializePretrained } from '../src/golden/pretrained-materialize';
import { PROBE_FILE, type ProbedAdapter } from './helpers/probe-file';
import { recordSuiteSources, selectedAdapterIds, suiteAdapterPool } from './helpers/selection';

/**
 * Writes the pre-trained ResNet-50 files from their committed small form (≈ 1 s; nothing when they
 * are there already), then probes every registered adapter once, so suites can register tests for
 * available ones synchronously. The adapters are the registry's plus those of
 * CONFORMANCE_ADAPTER_MODULES / CONFORMANCE_ADAPTER_COMMANDS (suites/helpers/selection.ts), whose
 * resolved sources are recorded for the test files.
 */
export default async function globalSetup(): Promise<void> {
  try {
    materializePretrained();
  } catch (err) {
    // suites/pretrained.test.ts fails on this itself, naming the file; the other suites go on.
    process.stdout.write(`\npre-trained ResNet-50 files could not be materialized: ${(err as Error).message}\n`);
  }
  const pool = await suiteAdapterPool();
  recordSuiteSources(pool);
  const wanted = selectedAdapterIds(pool);
  const results: ProbedAdapter[] = [];
  for (const entry of pool.entries) {
    if (!wanted.includes(entry.id)) continue;
    const adapter = entry.create();
    try {
      const p = await adapter.probe();
      results.push({
        id: entry.id,
        profile: entry.profile,
        available: p.available,
        reason: p.reason,
        fix: p.fix,
        ...(p.knownCrash ? { knownCrash: p.knownCrash.id } : {}),
      });
    } catch (err) {
      results.push({
        id: entry.id,
        profile: entry.profile,
        available: false,
        reason: `probe threw: ${(err as Error).message}`,
        fix: 'see the adapter documentation in README.md',
      });
    } finally {
      await adapter.dispose().catch(() => undefined);
    }
  }
  fs.mkdirSync(path.dirname(PROBE_FILE), { recursive: true });
  fs.writeFileSync(PROBE_FILE, JSON.stringify(results, null, 2));
  const unavailable = results.filter((r) => !r.available);
  if (unavailable.length > 0) {
    process.stdout.write(
      `\nAdapters unavailable here (their tests are reported as skipped, not passed):\n${unavailable
        .map((u) => `  ${u.id}: ${u.reason}\n    fix: ${u.fix}`)
        .join('\n')}\n`,
    );
  }
}
