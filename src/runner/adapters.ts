/**
 * The adapters the runner can use: the public registry, plus — for the runner's own tests only —
 * entries from modules named in RESNET_CONFORMANCE_TEST_ADAPTERS (paths separated by the platform's
 * path delimiter, each module exporting `TEST_ADAPTERS: AdapterEntry[]`). Test adapters never appear
 * unless that variable is set; they are not part of the registry or of `resnet-conformance adapters`.
 */
import * as path from 'path';
import { ADAPTERS } from '../adapters/registry';
import type { AdapterEntry } from '../adapters/types';
import { UsageError } from '../util/errors';

export const TEST_ADAPTERS_ENV = 'RESNET_CONFORMANCE_TEST_ADAPTERS';

function testAdapterEntries(): AdapterEntry[] {
  const spec = process.env[TEST_ADAPTERS_ENV];
  if (!spec) return [];
  const out: AdapterEntry[] = [];
  for (const file of spec.split(path.delimiter).filter(Boolean)) {
    let mod: { TEST_ADAPTERS?: AdapterEntry[] };
    try {
      // A precompiled worker (./precompiled-worker) has no TypeScript loader until one is needed.
      if (/\.[cm]?ts$/.test(file) && !require.extensions['.ts']) require('tsx/cjs');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(path.resolve(file)) as { TEST_ADAPTERS?: AdapterEntry[] };
    } catch (err) {
      throw new UsageError(`${TEST_ADAPTERS_ENV}: cannot load ${file}: ${(err as Error).message}`);
    }
    if (!Array.isArray(mod.TEST_ADAPTERS)) throw new UsageError(`${TEST_ADAPTERS_ENV}: ${file} does not export TEST_ADAPTERS (an array of adapter entries)`);
    out.push(...mod.TEST_ADAPTERS);
  }
  return out;
}

/** Registry entries followed by test entries; duplicate ids are an error. */
export function runnableAdapters(): AdapterEntry[] {
  const all = [...ADAPTERS, ...testAdapterEntries()];
  const seen = new Set<string>();
  for (const e of all) {
    if (seen.has(e.id)) throw new UsageError(`adapter id '${e.id}' is defined twice`);
    seen.add(e.id);
  }
  return all;
}

export interface AdapterSelection {
  entries: AdapterEntry[];
  mode: 'default' | 'all' | 'explicit';
  explicit: Set<string>;
}

/**
 * `--adapters`: undefined → every outOfTheBox entry; `all` → every entry; `a,b` → those (unknown
 * ids are a UsageError listing the known ones). Order is always registry order.
 */
export function selectAdapters(spec: string | undefined, all: AdapterEntry[] = runnableAdapters()): AdapterSelection {
  if (spec === undefined) return { entries: all.filter((e) => e.outOfTheBox), mode: 'default', explicit: new Set() };
  if (spec.trim() === 'all') return { entries: [...all], mode: 'all', explicit: new Set() };
  const ids = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0) throw new UsageError('--adapters needs a comma-separated list of adapter ids, or all');
  const known = all.map((e) => e.id);
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length) {
    throw new UsageError(`unknown adapter${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}; known adapters: ${known.join(', ')}`);
  }
  return { entries: all.filter((e) => ids.includes(e.id)), mode: 'explicit', explicit: new Set(ids) };
}
