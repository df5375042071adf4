import * as fs from 'fs';
import * as path from 'path';
import {
  adapterPool,
  adapterPoolSync,
  registryPool,
  type AdapterCommandSource,
  type AdapterPool,
  type AdapterSources,
} from '../../src/adapters/pool';
import { ADAPTERS } from '../../src/adapters/registry';
import { selectAdapters } from '../../src/adapters/select';
import type { AdapterEntry } from '../../src/adapters/types';
import { UsageError } from '../../src/util/errors';

/** Adapter modules for the suites: files or npm package names, separated by path.delimiter (':' on POSIX, ';' on Windows), as NODE_PATH. */
export const MODULES_ENV = 'CONFORMANCE_ADAPTER_MODULES';
/**
 * External protocol programs for the suites: one command line, or a JSON array whose items are
 * command lines or objects `{"command": "...", "id": "...", "profile": "fp32-cpu", "timeoutMs": 60000}`.
 */
export const COMMANDS_ENV = 'CONFORMANCE_ADAPTER_COMMANDS';

/** Where Jest's global setup records the resolved sources (module files, program ids) for the test files. */
export const SOURCES_FILE = path.join(__dirname, '..', '..', '.tmp', 'adapter-sources.json');

function envError(name: string, err: unknown): never {
  throw new UsageError(`${name}: ${(err as Error).message}`);
}

/** CONFORMANCE_ADAPTER_MODULES and CONFORMANCE_ADAPTER_COMMANDS as AdapterSources (unset: none). */
export function suiteAdapterSources(env: NodeJS.ProcessEnv = process.env): AdapterSources {
  const modules = (env[MODULES_ENV] ?? '')
    .split(path.delimiter)
    .map((s) => s.trim())
    .filter(Boolean);
  const text = (env[COMMANDS_ENV] ?? '').trim();
  let commands: AdapterCommandSource[] = [];
  if (text.startsWith('[')) {
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch (err) {
      envError(COMMANDS_ENV, new Error(`not valid JSON: ${(err as Error).message}`));
    }
    if (!Array.isArray(list))
      envError(
        COMMANDS_ENV,
        new Error('expected a JSON array of command lines or {command, id, profile, timeoutMs} objects'),
      );
    commands = list.map((c, i) => {
      if (typeof c === 'string') return { command: c };
      if (c && typeof c === 'object' && !Array.isArray(c)) return c as AdapterCommandSource;
      return envError(COMMANDS_ENV, new Error(`item ${i} is neither a command line nor a {command, ...} object`));
    });
  } else if (text) {
    commands = [{ command: text }];
  }
  return { modules, commands };
}

/** The suites' pool: the registry plus the variables' modules and programs (a program without an id is started once for its name). */
export async function suiteAdapterPool(env: NodeJS.ProcessEnv = process.env): Promise<AdapterPool> {
  const sources = suiteAdapterSources(env);
  try {
    return await adapterPool(sources);
  } catch (err) {
    return envError(sources.commands?.length ? `${MODULES_ENV} / ${COMMANDS_ENV}` : MODULES_ENV, err);
  }
}

/**
 * `CONFORMANCE_ADAPTERS=a,b npm test` limits the adapter-parameterized suites to those adapters
 * (unset, empty or `all`: every adapter of the pool, ADAPTER_DEFAULTS.suites). Chosen by the same
 * function as the commands' --adapters: unknown ids are an error naming the known ones.
 */
export function selectedAdapterIds(registry: readonly AdapterEntry[] | AdapterPool = ADAPTERS): string[] {
  const env = process.env.CONFORMANCE_ADAPTERS;
  const pool = Array.isArray(registry) ? registryPool(registry as readonly AdapterEntry[]) : (registry as AdapterPool);
  return selectAdapters('suites', env ? env : undefined, pool, 'CONFORMANCE_ADAPTERS').entries.map((e) => e.id);
}

/** Global setup: records the pool's resolved sources for the test files (suiteAdapterEntries). */
export function recordSuiteSources(pool: AdapterPool, file = SOURCES_FILE): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ modules: pool.modules, commands: pool.commands }, null, 2));
}

/** In a test file: the registry plus the adapters global setup found in the variables (loaded synchronously). */
export function suiteAdapterEntries(file = SOURCES_FILE): AdapterEntry[] {
  if (!fs.existsSync(file)) return [...ADAPTERS];
  const sources = JSON.parse(fs.readFileSync(file, 'utf8')) as AdapterSources;
  try {
    return adapterPoolSync(sources).entries;
  } catch (err) {
    return envError(MODULES_ENV, err);
  }
}

/** The ids CONFORMANCE_ADAPTERS names explicitly (empty when unset or `all`): opt-in adapters run only then. */
export function namedAdapterIds(entries: readonly AdapterEntry[] = suiteAdapterEntries()): Set<string> {
  const env = process.env.CONFORMANCE_ADAPTERS;
  return selectAdapters('suites', env ? env : undefined, registryPool(entries), 'CONFORMANCE_ADAPTERS').explicit;
}
