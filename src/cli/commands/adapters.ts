import { adapterPool } from '../../adapters/pool';
import { ADAPTERS } from '../../adapters/registry';
import { driftText, installCommand, packageStates, versionDrift } from '../../adapters/runtime-packages';
import type { AdapterDescription, AdapterEntry } from '../../adapters/types';
import { adapterSourcesFromFlags } from '../adapter-sources';
import { bool, list, parseArgs } from '../args';
import { ADAPTERS_SPEC } from '../specs';

/** What an --adapter-command program answered to hello (src/adapters/external/command.ts helloInfo()). */
interface HelloAnswer {
  protocol: unknown;
  name: string;
  version: string;
}

function helloOf(a: object): HelloAnswer | undefined {
  const f = (a as { helloInfo?: () => HelloAnswer | undefined }).helloInfo;
  return typeof f === 'function' ? f.call(a) : undefined;
}

/**
 * `adapters`: every registered adapter, available or why not (and the fix); for an available one what
 * it runs on, as its describe() says (runtime and version, device: e.g. the GPU adapter or renderer).
 *
 * With `--adapter-command` / `--adapter-module`: only the adapters those add, each started, probed
 * and described as a run would (an external program's hello answer shown too), and nothing run: a
 * check of a program's protocol side before a CI run. Exit 1 when one of them is unavailable or its
 * describe() fails, 0 otherwise (the registry listing always exits 0: unavailable there is information).
 */
export async function adaptersCommand(argv: string[], registry: readonly AdapterEntry[] = ADAPTERS): Promise<number> {
  const p = parseArgs(argv, ADAPTERS_SPEC.flags);
  const checking = list(p, 'adapter-command').length > 0 || list(p, 'adapter-module').length > 0;
  let entries: readonly AdapterEntry[] = registry;
  if (checking) {
    const pool = await adapterPool(adapterSourcesFromFlags(p), registry);
    entries = pool.entries.filter((e) => pool.fromModules.has(e.id));
  }
  const rows = [];
  for (const entry of entries) {
    const a = entry.create();
    let probe;
    let description: AdapterDescription | { error: string } | undefined;
    let hello: HelloAnswer | undefined;
    try {
      probe = await a.probe();
      hello = helloOf(a);
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
      ...(hello ? { hello } : {}),
      ...(description ? { description } : {}),
      ...(entry.packages?.length
        ? { install: installCommand(entry.packages), runtimePackages: packageStates(entry.packages) }
        : {}),
    });
  }
  const failed = checking && rows.some((r) => !r.available || (r.description && 'error' in r.description));
  if (bool(p, 'json')) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return failed ? 1 : 0;
  }
  const w = Math.max(0, ...rows.map((r) => r.id.length));
  for (const r of rows) {
    const state = r.available ? 'available  ' : 'unavailable';
    process.stdout.write(`${r.id.padEnd(w)}  ${state}  ${r.summary} [${r.profile}]\n`);
    if (r.hello)
      process.stdout.write(
        `${' '.repeat(w)}    hello: ${r.hello.name} ${r.hello.version}, protocol ${JSON.stringify(r.hello.protocol)}\n`,
      );
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
  if (checking)
    process.stdout.write(
      failed
        ? `check failed: ${rows.filter((r) => !r.available || (r.description && 'error' in r.description)).length} of ${rows.length} adapter(s) cannot run\n`
        : `check passed: ${rows.length} adapter(s) answered hello, probe and describe (nothing was run)\n`,
    );
  return failed ? 1 : 0;
}
