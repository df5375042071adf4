/**
 * The one way every command chooses adapters: `--adapters a,b|all|<omitted>` (the suites:
 * CONFORMANCE_ADAPTERS), `--adapter ID` for the commands that take one, each command's default
 * in one table. Unknown ids are a UsageError naming them and listing the known ones.
 */
import { UsageError } from '../util/errors';
import type { AdapterCommandSource, AdapterPool } from './pool';
import type { AdapterEntry } from './types';

/** The commands (and the Jest suites) that choose adapters. */
export type AdapterCommand = 'run' | 'bench' | 'classify' | 'evaluate' | 'diagnose' | 'forward' | 'suites';

/**
 * What a command gets with no adapter flag:
 *   out-of-the-box  the registry entries that run after `npm ci` alone (AdapterEntry.outOfTheBox), plus
 *                   every adapter of a module named with --adapter-module or a program named with
 *                   --adapter-command (naming the module or program asks for it)
 *   available       every adapter (registry and modules); the command probes them and leaves out, listed
 *                   with the reason, those that cannot run here
 *   all             every adapter; what cannot run here is reported unavailable (the suites: skipped)
 *   required        none: the command takes exactly one `--adapter ID`
 */
export type AdapterDefault = 'out-of-the-box' | 'available' | 'all' | 'required';

export const ADAPTER_DEFAULTS: Readonly<Record<AdapterCommand, { default: AdapterDefault; why: string }>> = {
  run: {
    default: 'out-of-the-box',
    why: 'a plain `run` must pass on a fresh clone; an adapter that needs setup is asked for by name or with all',
  },
  bench: { default: 'out-of-the-box', why: 'as run: latencies of what every machine has' },
  classify: {
    default: 'available',
    why: "the notebook's last cell on whatever can run it here; an unavailable adapter is listed as skipped",
  },
  evaluate: { default: 'available', why: 'as classify' },
  diagnose: { default: 'required', why: 'a diagnosis is of one adapter' },
  forward: { default: 'required', why: 'one forward pass through one adapter' },
  suites: { default: 'all', why: 'every registered adapter is tested; the unavailable ones are reported skipped' },
};

export interface AdapterSelection {
  /** The command the selection was made for (the proof that it went through selectAdapters). */
  command: AdapterCommand;
  /** In pool order: the registry's, then the modules'. */
  entries: AdapterEntry[];
  mode: 'default' | 'all' | 'explicit';
  /** Ids named on the command line (an unavailable one fails a run). */
  explicit: Set<string>;
  /** The --adapter-module files (absolute), for worker processes to load the same adapters. */
  modules: string[];
  /** The --adapter-command programs (ids resolved), for worker processes to start the same programs. */
  commands: AdapterCommandSource[];
}

function unknownIds(unknown: string[], pool: AdapterPool, source: string): UsageError {
  const known = pool.entries.map((e) => e.id);
  return new UsageError(
    `${source}: unknown adapter${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}; known adapters: ${known.join(', ')}`,
  );
}

/**
 * `spec` as given (undefined when the flag is absent) -> the adapters, in pool order. `source` names
 * the flag or variable in messages.
 */
export function selectAdapters(
  command: AdapterCommand,
  spec: string | undefined,
  pool: AdapterPool,
  source = '--adapters',
): AdapterSelection {
  const base = { command, explicit: new Set<string>(), modules: pool.modules, commands: pool.commands };
  if (spec === undefined) {
    const rule = ADAPTER_DEFAULTS[command].default;
    if (rule === 'required') throw new UsageError(`${source} is required`);
    const entries =
      rule === 'out-of-the-box'
        ? pool.entries.filter((e) => e.outOfTheBox || pool.fromModules.has(e.id))
        : [...pool.entries];
    return { ...base, entries, mode: 'default' };
  }
  if (spec.trim() === 'all') {
    if (ADAPTER_DEFAULTS[command].default === 'required')
      throw new UsageError(`${source} takes one adapter id, not all`);
    return { ...base, entries: [...pool.entries], mode: 'all' };
  }
  const ids = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new UsageError(`${source} needs a comma-separated list of adapter ids, or all`);
  const unknown = ids.filter((id) => !pool.entries.some((e) => e.id === id));
  if (unknown.length) throw unknownIds(unknown, pool, source);
  if (ADAPTER_DEFAULTS[command].default === 'required' && ids.length !== 1)
    throw new UsageError(`${source} takes one adapter id, got ${ids.length} (${ids.join(', ')})`);
  return { ...base, entries: pool.entries.filter((e) => ids.includes(e.id)), mode: 'explicit', explicit: new Set(ids) };
}

/** `--adapter ID` (diagnose, forward): exactly one adapter, through selectAdapters. */
export function selectOneAdapter(
  command: AdapterCommand,
  id: string | undefined,
  pool: AdapterPool,
  source = '--adapter',
): { selection: AdapterSelection; entry: AdapterEntry } {
  const selection = selectAdapters(command, id, pool, source);
  if (selection.entries.length !== 1) throw new UsageError(`${source} takes one adapter id`);
  return { selection, entry: selection.entries[0] };
}
