import { ADAPTERS } from '../../adapters/registry';
import { driftText, installCommand, packageStates, versionDrift } from '../../adapters/runtime-packages';
import type { AdapterDescription, AdapterEntry } from '../../adapters/types';
import { bool, parseArgs } from '../args';
import { ADAPTERS_SPEC } from '../specs';

/**
 * `adapters`: every registered adapter, available or why not (and the fix); for an available one what
 * it runs on, as its describe() says (runtime and version, device: e.g. the GPU adapter or renderer).
 */
export async function adaptersCommand(argv: string[], entries: readonly AdapterEntry[] = ADAPTERS): Promise<number> {
  const p = parseArgs(argv, ADAPTERS_SPEC.flags);
  const rows = [];
  for (const entry of entries) {
    const a = entry.create();
    let probe;
    let description: AdapterDescription | { error: string } | undefined;
    try {
      probe = await a.probe();
      if (probe.available) description = await a.describe().catch((err: Error) => ({ error: err.message }));
    } catch (err) {
      probe = { available: false, reason: `probe failed: ${(err as Error).message}`, fix: undefined };
    } finally {
      await a.dispose().catch(() => undefined);
    }
    rows.push({
      id: entry.id,
      profile: entry.profile,
      outOfTheBox: entry.outOfTheBox,
      summary: entry.summary,
      ...(entry.inferenceOnly ? { inferenceOnly: entry.inferenceOnly } : {}),
      ...probe,
      ...(description ? { description } : {}),
      ...(entry.packages?.length
        ? { install: installCommand(entry.packages), runtimePackages: packageStates(entry.packages) }
        : {}),
    });
  }
  if (bool(p, 'json')) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const w = Math.max(...rows.map((r) => r.id.length));
  for (const r of rows) {
    const state = r.available ? 'available  ' : 'unavailable';
    process.stdout.write(`${r.id.padEnd(w)}  ${state}  ${r.summary} [${r.profile}]\n`);
    const d = r.description;
    if (d && 'error' in d) process.stdout.write(`${' '.repeat(w)}    describe() failed: ${d.error}\n`);
    else if (d) process.stdout.write(`${' '.repeat(w)}    ${d.runtime} ${d.version} on ${d.device}\n`);
    if (r.inferenceOnly)
      process.stdout.write(`${' '.repeat(w)}    inference only (training cases not-applicable): ${r.inferenceOnly}\n`);
    if (!r.available) {
      process.stdout.write(`${' '.repeat(w)}    reason: ${r.reason}\n`);
      if (r.fix) process.stdout.write(`${' '.repeat(w)}    fix:    ${r.fix}\n`);
    }
    if (r.install) {
      const drift = versionDrift(r.runtimePackages ?? []);
      // The npm packages its runtime needs, at the versions the tolerances were measured on.
      if (r.fix !== r.install) process.stdout.write(`${' '.repeat(w)}    needs:  ${r.install}\n`);
      if (drift.length)
        process.stdout.write(
          `${' '.repeat(w)}    version differs from the measured one: ${drift.map(driftText).join(', ')}\n`,
        );
    }
  }
  return 0;
}
