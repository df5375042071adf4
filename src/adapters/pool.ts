/**
 * Adapters from modules the user names (`--adapter-module PATH`): the seam through which tests add
 * their deliberately faulty adapters, and through which a runtime kept outside this repository
 * joins a run without a registry line. Nothing is loaded unless a path is passed explicitly; worker
 * processes get the same paths in their start message, never through the environment.
 *
 * The module contract: `export const adapters: AdapterEntry[]` (or a default export of that array).
 * A module is a file or an npm package (resolved from the working directory's node_modules, then
 * from this package's); sources are a tagged union. External protocol programs
 * (`--adapter-command`, src/adapters/external) join the same pool: `AdapterSources` is everything a
 * command names besides the registry, and travels (resolved: files absolute, command ids known) to
 * worker processes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createRequire } from 'module';
import { pathToFileURL } from 'url';
import { UsageError } from '../util/errors';
import { createCommandAdapterEntry, resolveCommandAdapterEntry, splitCommand } from './external/command';
import { ADAPTERS } from './registry';
import { ADAPTER_HOSTS, type AdapterEntry, type PrecisionProfile } from './types';

/** Where a module of adapters comes from: a file, or an npm package (`path`: the file it resolved to). */
export type AdapterModuleSource = { kind: 'file'; path: string } | { kind: 'package'; name: string; path: string };

/**
 * An external protocol program as a command or the suites declare it (`--adapter-command` and its
 * companion flags, CONFORMANCE_ADAPTER_COMMANDS). Plain data: it travels to worker processes.
 */
export interface AdapterCommandSource {
  /** The command line (split like a shell does, without expansion; no shell runs it). */
  command: string;
  /** Adapter id; without one the program is started once and its hello name becomes the id. */
  id?: string;
  profile?: PrecisionProfile;
  /** Per-request timeout in milliseconds (src/adapters/external: default 300 s). */
  timeoutMs?: number;
  /** Working directory of the program (resolved: the directory the command was given in). */
  cwd?: string;
}

/** What a command names besides the registry: adapter modules (files or packages) and programs. */
export interface AdapterSources {
  modules?: readonly string[];
  commands?: readonly AdapterCommandSource[];
}

export const ADAPTER_MODULE_EXTENSIONS = ['.js', '.cjs', '.mjs', '.ts', '.cts', '.mts'] as const;

const PROFILES: Record<PrecisionProfile, true> = {
  'fp64-reference': true,
  'fp32-cpu': true,
  'tf32-gpu': true,
  'webgl-f16': true,
};

/** `--adapter-module PATH` as given on the command line: an absolute file source (relative to cwd). */
export function adapterModuleFile(p: string, cwd = process.cwd()): AdapterModuleSource {
  return { kind: 'file', path: path.resolve(cwd, p) };
}

/**
 * A file path, or an npm package name? A path: starts with `.` or `/` (or a drive letter), ends with
 * a module extension (.js/.cjs/.mjs/.ts/...), contains a backslash, or names an existing file.
 * Anything else is a package name (`my-runtime-adapters`, `@scope/pkg`, `pkg/subpath`).
 */
export function isModulePath(spec: string, cwd = process.cwd()): boolean {
  if (/^(\.|\/|[A-Za-z]:[\\/])/.test(spec) || spec.includes('\\')) return true;
  if ((ADAPTER_MODULE_EXTENSIONS as readonly string[]).includes(path.extname(spec))) return true;
  try {
    return fs.statSync(path.resolve(cwd, spec)).isFile();
  } catch {
    return false;
  }
}

const PACKAGE_NAME = /^(@[a-z0-9~][a-z0-9._~-]*\/)?[a-z0-9~][a-z0-9._~-]*(\/[^\s]*)?$/i;

function packageDirOf(name: string, fromDir: string): string | undefined {
  const pkg = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0];
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', pkg);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** An ESM-only package's entry (its `exports` have no `require` condition): `import`, `node`, `default`. */
function esmEntry(name: string, fromDir: string): string | undefined {
  const dir = packageDirOf(name, fromDir);
  if (!dir) return undefined;
  const pkgName = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0];
  const sub = `.${name.slice(pkgName.length)}`;
  const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { exports?: unknown };
  const pick = (v: unknown): string | undefined => {
    if (typeof v === 'string') return v;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const o = v as Record<string, unknown>;
    for (const k of ['import', 'node', 'default']) if (k in o) return pick(o[k]);
    return undefined;
  };
  const ex = pj.exports;
  const target =
    typeof ex === 'string' || (ex && typeof ex === 'object' && !Object.keys(ex).some((k) => k.startsWith('.')))
      ? sub === '.'
        ? pick(ex)
        : undefined
      : pick((ex as Record<string, unknown> | undefined)?.[sub]);
  return target ? path.resolve(dir, target) : undefined;
}

/**
 * `--adapter-module NAME` naming an npm package: resolved from the working directory's
 * node_modules (and those above it), then from this package's own.
 */
export function resolveAdapterPackage(name: string, cwd = process.cwd()): AdapterModuleSource {
  if (!PACKAGE_NAME.test(name))
    throw new UsageError(`--adapter-module ${name}: neither a file (no such file) nor an npm package name`);
  const tried: string[] = [];
  for (const from of [path.join(path.resolve(cwd), 'noop.js'), __filename]) {
    try {
      return { kind: 'package', name, path: createRequire(from).resolve(name) };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
        const file = esmEntry(name, path.dirname(from));
        if (file) return { kind: 'package', name, path: file };
      }
      tried.push(path.dirname(from));
    }
  }
  throw new UsageError(
    `--adapter-module ${name}: no such file, and no npm package '${name}' resolves from ${tried.join(' or ')} (npm install it, or give a file path starting with ./)`,
  );
}

/** `--adapter-module` as given: a file (see isModulePath) or an npm package name. */
export function adapterModuleSource(spec: string, cwd = process.cwd()): AdapterModuleSource {
  if (typeof spec !== 'string' || spec.trim() === '')
    throw new UsageError('--adapter-module needs a file path or an npm package name');
  return isModulePath(spec, cwd) ? adapterModuleFile(spec, cwd) : resolveAdapterPackage(spec, cwd);
}

function describeSource(s: AdapterModuleSource): string {
  return s.kind === 'package' ? `${s.name} (${s.path})` : s.path;
}

async function importModule(s: AdapterModuleSource): Promise<unknown> {
  const file = s.path;
  const where = describeSource(s);
  const ext = path.extname(file);
  if (s.kind === 'file' && !(ADAPTER_MODULE_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new UsageError(
      `--adapter-module ${file}: expected a ${ADAPTER_MODULE_EXTENSIONS.join('/')} file, got '${ext || 'no extension'}'`,
    );
  }
  if (!fs.existsSync(file)) throw new UsageError(`--adapter-module ${where}: no such file`);
  try {
    if (ext === '.mjs' || ext === '.mts') return await import(pathToFileURL(file).href);
    // A precompiled worker (src/workers/precompiled-worker.ts) has no TypeScript loader until one is needed.
    if (/\.[cm]?ts$/.test(file) && !require.extensions['.ts']) require('tsx/cjs');
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(file);
    } catch (err) {
      // A .js file of an ES-module package ("type": "module").
      if ((err as { code?: string }).code === 'ERR_REQUIRE_ESM') return await import(pathToFileURL(file).href);
      throw err;
    }
  } catch (err) {
    throw new UsageError(`--adapter-module ${where}: cannot load it: ${(err as Error).message}`);
  }
}

/** The entries a loaded module exports, checked one by one (a bad entry is named by its index and id). */
export function entriesOfModule(mod: unknown, where: string): AdapterEntry[] {
  const m = (mod ?? {}) as { adapters?: unknown; default?: unknown };
  const fromDefault =
    m.default && typeof m.default === 'object' && !Array.isArray(m.default)
      ? (m.default as { adapters?: unknown }).adapters
      : m.default;
  const list = m.adapters ?? fromDefault;
  if (!Array.isArray(list)) {
    throw new UsageError(
      `--adapter-module ${where}: exports no adapters (expected \`export const adapters: AdapterEntry[]\` or a default export of that array)`,
    );
  }
  list.forEach((e: unknown, i) => {
    const x = (e ?? {}) as Partial<AdapterEntry>;
    const label = `--adapter-module ${where}: adapters[${i}]${typeof x.id === 'string' ? ` ('${x.id}')` : ''}`;
    if (typeof e !== 'object' || e === null) throw new UsageError(`${label} is not an adapter entry object`);
    if (typeof x.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(x.id))
      throw new UsageError(`${label}: id must be a non-empty string of letters, digits, '.', '_' or '-'`);
    if (typeof x.summary !== 'string') throw new UsageError(`${label}: summary must be a string`);
    if (typeof x.profile !== 'string' || !(x.profile in PROFILES))
      throw new UsageError(`${label}: profile must be one of ${Object.keys(PROFILES).join(', ')}`);
    if (typeof x.outOfTheBox !== 'boolean') throw new UsageError(`${label}: outOfTheBox must be true or false`);
    if (x.host !== undefined && !(ADAPTER_HOSTS as readonly string[]).includes(x.host))
      throw new UsageError(`${label}: host must be one of ${ADAPTER_HOSTS.join(', ')}`);
    if (typeof x.create !== 'function')
      throw new UsageError(`${label}: create must be a function returning an Adapter`);
    if (x.inferenceOnly !== undefined && (typeof x.inferenceOnly !== 'string' || x.inferenceOnly.trim() === ''))
      throw new UsageError(`${label}: inferenceOnly must be a non-empty string (why the adapter runs inference only)`);
    if (
      x.processEnv !== undefined &&
      (typeof x.processEnv !== 'object' || Object.values(x.processEnv).some((v) => typeof v !== 'string'))
    ) {
      throw new UsageError(`${label}: processEnv must map variable names to strings`);
    }
  });
  return list as AdapterEntry[];
}

/** Every adapter a command can choose from: the registry's, then the modules', then the programs'. */
export interface AdapterPool {
  entries: AdapterEntry[];
  /** Ids that came from a module or an --adapter-command (not the registry). */
  fromModules: Set<string>;
  /** The module files, absolute (a package: the file it resolved to): what worker processes are told to load. */
  modules: string[];
  /** The external programs, each with its id resolved and its cwd absolute: what worker processes are told to start. */
  commands: AdapterCommandSource[];
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** Checks one command source (where: the flag or variable, for messages); returns it with cwd absolute. */
export function checkCommandSource(c: AdapterCommandSource, where = '--adapter-command'): AdapterCommandSource {
  const o = (c ?? {}) as Partial<AdapterCommandSource>;
  if (typeof o.command !== 'string' || o.command.trim() === '')
    throw new UsageError(`${where}: needs a non-empty command line, got ${JSON.stringify(o.command)}`);
  const label = `${where} ${JSON.stringify(o.command)}`;
  try {
    splitCommand(o.command);
  } catch (err) {
    throw new UsageError(`${label}: ${(err as Error).message}`);
  }
  if (o.id !== undefined && (typeof o.id !== 'string' || !ID.test(o.id)))
    throw new UsageError(
      `${label}: adapter id must be letters, digits, '.', '_', ':' or '-', got ${JSON.stringify(o.id)}`,
    );
  if (o.profile !== undefined && !(typeof o.profile === 'string' && o.profile in PROFILES))
    throw new UsageError(
      `${label}: profile must be one of ${Object.keys(PROFILES).join(', ')}, got ${JSON.stringify(o.profile)}`,
    );
  if (
    o.timeoutMs !== undefined &&
    !(typeof o.timeoutMs === 'number' && Number.isFinite(o.timeoutMs) && o.timeoutMs > 0)
  )
    throw new UsageError(`${label}: timeout must be a positive number, got ${JSON.stringify(o.timeoutMs)}`);
  const out: AdapterCommandSource = { command: o.command, cwd: path.resolve(o.cwd ?? process.cwd()) };
  if (o.id !== undefined) out.id = o.id;
  if (o.profile !== undefined) out.profile = o.profile;
  if (o.timeoutMs !== undefined) out.timeoutMs = o.timeoutMs;
  return out;
}

/**
 * The registry plus the adapters of each module and each external program. An id defined twice (a
 * module's or program's id equal to a registry adapter's, or to another module's) is a UsageError
 * naming both places. A program without an id is started once here for its hello name.
 */
export async function adapterPool(
  sources: readonly string[] | AdapterSources = [],
  registry: readonly AdapterEntry[] = ADAPTERS,
): Promise<AdapterPool> {
  const { modules = [], commands = [] } = Array.isArray(sources)
    ? { modules: sources as readonly string[] }
    : (sources as AdapterSources);
  const entries = [...registry];
  const origin = new Map<string, string>(registry.map((e) => [e.id, 'the registry (src/adapters/registry.ts)']));
  const fromModules = new Set<string>();
  // The same file named twice is loaded once (its ids are not a clash with themselves).
  const seen = new Set<string>();
  const moduleSources = modules.map((m) => adapterModuleSource(m)).filter((s) => !seen.has(s.path) && seen.add(s.path));
  // `flag`: how the source is named in messages; `where`: how it is named as the first definer.
  const add = (e: AdapterEntry, flag: string, where: string): void => {
    const first = origin.get(e.id);
    if (first) throw new UsageError(`${flag} ${where}: adapter id '${e.id}' is already defined by ${first}`);
    origin.set(e.id, where);
    fromModules.add(e.id);
    entries.push(e);
  };
  for (const s of moduleSources) {
    const where = describeSource(s);
    for (const e of entriesOfModule(await importModule(s), where)) add(e, '--adapter-module', where);
  }
  const resolved: AdapterCommandSource[] = [];
  for (const c of commands) {
    const src = checkCommandSource(c);
    const opts = { command: src.command, id: src.id, profile: src.profile, timeoutMs: src.timeoutMs, cwd: src.cwd };
    const entry = src.id ? createCommandAdapterEntry(opts) : await resolveCommandAdapterEntry(opts);
    add(entry, '--adapter-command', JSON.stringify(src.command));
    resolved.push({ ...src, id: entry.id });
  }
  return { entries, fromModules, modules: moduleSources.map((s) => s.path), commands: resolved };
}

/** The registry alone, as a pool (the suites, and commands given no --adapter-module). */
export function registryPool(registry: readonly AdapterEntry[] = ADAPTERS): AdapterPool {
  return { entries: [...registry], fromModules: new Set(), modules: [], commands: [] };
}

/**
 * adapterPool for callers that cannot wait (the Jest suites declare their tests synchronously):
 * modules are loaded with require (CommonJS .js/.cjs, or .ts; an .mjs file or an ES-module package
 * is a UsageError saying so), and every program must have its id already (a pool's `commands`).
 */
export function adapterPoolSync(sources: AdapterSources, registry: readonly AdapterEntry[] = ADAPTERS): AdapterPool {
  const entries = [...registry];
  const origin = new Map<string, string>(registry.map((e) => [e.id, 'the registry (src/adapters/registry.ts)']));
  const fromModules = new Set<string>();
  // `flag`: how the source is named in messages; `where`: how it is named as the first definer.
  const add = (e: AdapterEntry, flag: string, where: string): void => {
    const first = origin.get(e.id);
    if (first) throw new UsageError(`${flag} ${where}: adapter id '${e.id}' is already defined by ${first}`);
    origin.set(e.id, where);
    fromModules.add(e.id);
    entries.push(e);
  };
  const seen = new Set<string>();
  const moduleSources = (sources.modules ?? [])
    .map((m) => adapterModuleSource(m))
    .filter((s) => !seen.has(s.path) && seen.add(s.path));
  for (const s of moduleSources) {
    const where = describeSource(s);
    if (/\.m[jt]s$/.test(s.path))
      throw new UsageError(
        `--adapter-module ${where}: an ES module cannot be loaded synchronously here; give a CommonJS (.js/.cjs) or .ts file`,
      );
    let mod: unknown;
    try {
      if (/\.[cm]?ts$/.test(s.path) && !require.extensions['.ts']) require('tsx/cjs');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(s.path);
    } catch (err) {
      throw new UsageError(`--adapter-module ${where}: cannot load it: ${(err as Error).message}`);
    }
    for (const e of entriesOfModule(mod, where)) add(e, '--adapter-module', where);
  }
  const commands: AdapterCommandSource[] = [];
  for (const c of sources.commands ?? []) {
    const src = checkCommandSource(c);
    if (!src.id)
      throw new UsageError(
        `--adapter-command ${JSON.stringify(src.command)}: needs its id here (resolve it with adapterPool first)`,
      );
    add(
      createCommandAdapterEntry({
        command: src.command,
        id: src.id,
        profile: src.profile,
        timeoutMs: src.timeoutMs,
        cwd: src.cwd,
      }),
      '--adapter-command',
      JSON.stringify(src.command),
    );
    commands.push(src);
  }
  return { entries, fromModules, modules: moduleSources.map((s) => s.path), commands };
}
