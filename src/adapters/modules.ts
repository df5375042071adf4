/**
 * Adapters from modules the user names (`--adapter-module PATH`): the seam through which tests add
 * their deliberately faulty adapters, and through which a runtime kept outside this repository
 * joins a run without a registry line. Nothing is loaded unless a path is passed explicitly; worker
 * processes get the same paths in their start message, never through the environment.
 *
 * The module contract: `export const adapters: AdapterEntry[]` (or a default export of that array).
 * Sources are kept as a tagged union so that other kinds (an npm package name) can be added next to
 * 'file' without changing the callers.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { UsageError } from '../util/errors';
import { ADAPTERS } from './registry';
import type { AdapterEntry, PrecisionProfile } from './types';

/** Where a module of adapters comes from. */
export type AdapterModuleSource = { kind: 'file'; path: string };

export const ADAPTER_MODULE_EXTENSIONS = ['.js', '.cjs', '.mjs', '.ts', '.cts', '.mts'] as const;

const PROFILES: Record<PrecisionProfile, true> = { 'fp64-reference': true, 'fp32-cpu': true, 'tf32-gpu': true, 'webgl-f16': true };

/** `--adapter-module PATH` as given on the command line: an absolute file source (relative to cwd). */
export function adapterModuleFile(p: string): AdapterModuleSource {
  return { kind: 'file', path: path.resolve(p) };
}

function describeSource(s: AdapterModuleSource): string {
  return s.path;
}

async function importModule(s: AdapterModuleSource): Promise<unknown> {
  const file = s.path;
  const ext = path.extname(file);
  if (!(ADAPTER_MODULE_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new UsageError(`--adapter-module ${file}: expected a ${ADAPTER_MODULE_EXTENSIONS.join('/')} file, got '${ext || 'no extension'}'`);
  }
  if (!fs.existsSync(file)) throw new UsageError(`--adapter-module ${file}: no such file`);
  try {
    if (ext === '.mjs' || ext === '.mts') return await import(pathToFileURL(file).href);
    // A precompiled worker (src/runner/precompiled-worker.ts) has no TypeScript loader until one is needed.
    if (/\.[cm]?ts$/.test(file) && !require.extensions['.ts']) require('tsx/cjs');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file);
  } catch (err) {
    throw new UsageError(`--adapter-module ${file}: cannot load it: ${(err as Error).message}`);
  }
}

/** The entries a loaded module exports, checked one by one (a bad entry is named by its index and id). */
export function entriesOfModule(mod: unknown, where: string): AdapterEntry[] {
  const m = (mod ?? {}) as { adapters?: unknown; default?: unknown };
  const fromDefault = m.default && typeof m.default === 'object' && !Array.isArray(m.default)
    ? (m.default as { adapters?: unknown }).adapters : m.default;
  const list = m.adapters ?? fromDefault;
  if (!Array.isArray(list)) {
    throw new UsageError(`--adapter-module ${where}: exports no adapters (expected \`export const adapters: AdapterEntry[]\` or a default export of that array)`);
  }
  list.forEach((e: unknown, i) => {
    const x = (e ?? {}) as Partial<AdapterEntry>;
    const label = `--adapter-module ${where}: adapters[${i}]${typeof x.id === 'string' ? ` ('${x.id}')` : ''}`;
    if (typeof e !== 'object' || e === null) throw new UsageError(`${label} is not an adapter entry object`);
    if (typeof x.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(x.id)) throw new UsageError(`${label}: id must be a non-empty string of letters, digits, '.', '_' or '-'`);
    if (typeof x.summary !== 'string') throw new UsageError(`${label}: summary must be a string`);
    if (typeof x.profile !== 'string' || !(x.profile in PROFILES)) throw new UsageError(`${label}: profile must be one of ${Object.keys(PROFILES).join(', ')}`);
    if (typeof x.outOfTheBox !== 'boolean') throw new UsageError(`${label}: outOfTheBox must be true or false`);
    if (typeof x.create !== 'function') throw new UsageError(`${label}: create must be a function returning an Adapter`);
    if (x.processEnv !== undefined && (typeof x.processEnv !== 'object' || Object.values(x.processEnv).some((v) => typeof v !== 'string'))) {
      throw new UsageError(`${label}: processEnv must map variable names to strings`);
    }
  });
  return list as AdapterEntry[];
}

/** Every adapter a command can choose from: the registry's, then the modules' in the order given. */
export interface AdapterPool {
  entries: AdapterEntry[];
  /** Ids that came from a module (not the registry). */
  fromModules: Set<string>;
  /** The module files, absolute: what worker processes are told to load. */
  modules: string[];
}

/**
 * The registry plus the adapters of each module. An id defined twice (a module's id equal to a
 * registry adapter's, or to another module's) is a UsageError naming both places.
 */
export async function adapterPool(modules: readonly string[] = [], registry: readonly AdapterEntry[] = ADAPTERS): Promise<AdapterPool> {
  const entries = [...registry];
  const origin = new Map<string, string>(registry.map((e) => [e.id, 'the registry (src/adapters/registry.ts)']));
  const fromModules = new Set<string>();
  // The same file named twice is loaded once (its ids are not a clash with themselves).
  const sources = [...new Set(modules.map((m) => adapterModuleFile(m).path))].map((f): AdapterModuleSource => ({ kind: 'file', path: f }));
  for (const s of sources) {
    const where = describeSource(s);
    for (const e of entriesOfModule(await importModule(s), where)) {
      const first = origin.get(e.id);
      if (first) throw new UsageError(`--adapter-module ${where}: adapter id '${e.id}' is already defined by ${first}`);
      origin.set(e.id, where);
      fromModules.add(e.id);
      entries.push(e);
    }
  }
  return { entries, fromModules, modules: sources.map((s) => s.path) };
}

/** The registry alone, as a pool (the suites, and commands given no --adapter-module). */
export function registryPool(registry: readonly AdapterEntry[] = ADAPTERS): AdapterPool {
  return { entries: [...registry], fromModules: new Set(), modules: [] };
}
