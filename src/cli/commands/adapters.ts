import { ADAPTERS } from '../../adapters/registry';
import { bool, parseArgs } from '../args';
import { ADAPTERS_SPEC } from '../specs';

/** `adapters`: every registered adapter, available or why not (and the fix). */
export async function adaptersCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, ADAPTERS_SPEC.flags);
  const rows = [];
  for (const entry of ADAPTERS) {
    const a = entry.create();
    let probe;
    try {
      probe = await a.probe();
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
      ...probe,
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
    if (!r.available) {
      process.stdout.write(`${' '.repeat(w)}    reason: ${r.reason}\n`);
      if (r.fix) process.stdout.write(`${' '.repeat(w)}    fix:    ${r.fix}\n`);
    }
  }
  return 0;
}
