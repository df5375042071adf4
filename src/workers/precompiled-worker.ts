/**
 * How the harness starts its worker processes (the runner's adapter workers, the bench workers).
 *
 * Run through tsx, a worker spends about half of its start-up loading tsx and transpiling its
 * modules (times in docs/notes/2026-11-28-performance-investigations.md, "Precompiled workers"). A
 * default run starts 7 workers, so the harness precompiles each worker entry once with esbuild (the
 * transpiler tsx itself uses) into one CommonJS file and forks that:
 *
 *   - packages stay external (loaded from node_modules as usual; native addons untouched);
 *   - `__dirname` / `__filename` keep the value they have in the source file (each module's own,
 *     not the bundle's), so every path computed from them is unchanged;
 *   - a linked source map, read by the bundle itself (STACK_MAPPER, its first lines) only when a
 *     stack trace is formatted: stack traces in reports name the .ts sources and lines. Not Node's
 *     --enable-source-maps, which parses the map of every module loaded (ours and the packages',
 *     @tensorflow/tfjs's included) at load time, needed or not: 0.3-0.7 s per tfjs worker
 *     (docs/notes/2026-12-08-harness-share.md, f-workers);
 *   - the bundle is reused while every one of its input files has the content it was built from
 *     (sha256 of each input, checked at each use: cheap next to a start-up); an edit rebuilds it.
 *
 * Location: <package>/node_modules/.cache/resnet-conformance/workers, or the directory named by
 * RESNET_CONFORMANCE_WORKER_CACHE; `RESNET_CONFORMANCE_WORKER_CACHE=off` runs workers through tsx.
 * Anything that goes wrong while precompiling (no esbuild, unwritable directory, a build error)
 * falls back to tsx: it can cost start-up time, never a result.
 *
 * In the installed package (built JavaScript in dist/, `npm run build`) the entry is already a .js
 * file: it is forked as it is (mode 'precompiled', nothing built, no cache, no tsx).
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../golden/paths';
import { sha256, writeFileAtomic } from '../util/fs';

export const WORKER_CACHE_ENV = 'RESNET_CONFORMANCE_WORKER_CACHE';

export interface WorkerLaunch {
  /** The file to fork. */
  file: string;
  execArgv: string[];
  /** 'precompiled' (bundle from the cache, built now or reused) or 'tsx' (with the reason). */
  mode: 'precompiled' | 'tsx';
  /** Why the worker runs through tsx (mode 'tsx' only). */
  reason?: string;
  /** Time spent checking (and, when stale, building) the bundle. */
  prepareMs: number;
  /** The bundle was (re)built by this call. */
  built?: boolean;
}

interface InputsRecord {
  entry: string;
  esbuild: string;
  /** sha256 of what the build adds besides the inputs (STACK_MAPPER): a bundle built without it is rebuilt. */
  additions?: string;
  node: string;
  inputs: Record<string, string>;
}

export function workerCacheDir(): string | null {
  const v = process.env[WORKER_CACHE_ENV];
  if (v === 'off') return null;
  return v ? path.resolve(v) : path.join(REPO_ROOT, 'node_modules', '.cache', 'resnet-conformance', 'workers');
}

/**
 * The bundle's first lines: frames in the bundle are given their .ts location from the bundle's
 * map, parsed the first time a stack trace is formatted (most workers never do); frames elsewhere
 * (Node, packages) are formatted as V8 does. A map that cannot be read leaves the bundle's own
 * locations. Plain JavaScript, run before any module of the bundle.
 */
export const STACK_MAPPER = `(() => {
  const bundle = __filename;
  let map;
  const find = (line, column) => {
    if (map === undefined) {
      try {
        const { SourceMap } = require('module');
        map = new SourceMap(JSON.parse(require('fs').readFileSync(bundle + '.map', 'utf8')));
      } catch {
        map = null;
      }
    }
    if (!map || !(line >= 1 && column >= 1)) return null;
    const e = map.findEntry(line - 1, column - 1);
    if (!e || !e.originalSource || e.generatedLine !== line - 1) return null;
    const file = require('path').resolve(require('path').dirname(bundle), e.originalSource);
    return file + ':' + (e.originalLine + 1) + ':' + (e.originalColumn + 1);
  };
  const frame = (cs) => {
    const text = String(cs);
    if (cs.getFileName() !== bundle) return text;
    const at = bundle + ':' + cs.getLineNumber() + ':' + cs.getColumnNumber();
    const mapped = text.includes(at) ? find(cs.getLineNumber(), cs.getColumnNumber()) : null;
    return mapped ? text.replace(at, mapped) : text;
  };
  Error.prepareStackTrace = (err, frames) => {
    let head;
    try {
      head = Error.prototype.toString.call(err);
    } catch {
      head = 'Error';
    }
    return head + frames.map((f) => '\\n    at ' + frame(f)).join('');
  };
})();`;

const ADDITIONS = sha256(STACK_MAPPER);

function fileSha256(file: string): string {
  return sha256(fs.readFileSync(file));
}

function tsx(entryTs: string, reason: string, t0: number): WorkerLaunch {
  return {
    file: entryTs,
    execArgv: ['--require', require.resolve('tsx/cjs')],
    mode: 'tsx',
    reason,
    prepareMs: performance.now() - t0,
  };
}

function upToDate(record: InputsRecord, entryTs: string, esbuildVersion: string): boolean {
  if (
    record.entry !== entryTs ||
    record.esbuild !== esbuildVersion ||
    record.node !== process.versions.node ||
    record.additions !== ADDITIONS
  )
    return false;
  for (const [file, digest] of Object.entries(record.inputs)) {
    try {
      if (fileSha256(file) !== digest) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Checked (and built) once per entry and process: every worker of a run starts the same way. */
const prepared = new Map<string, Promise<WorkerLaunch>>();

/** How to start the worker whose source is `entryTs` (an absolute .ts path, or a built .js one). Never throws. */
export function workerLaunch(entryTs: string): Promise<WorkerLaunch> {
  let p = prepared.get(entryTs);
  if (!p) {
    p = prepare(entryTs);
    prepared.set(entryTs, p);
  }
  return p;
}

/** Checks (and when stale, builds) the bundle of `entryTs` now, without the per-process memo. Never throws. */
export async function prepare(entryTs: string): Promise<WorkerLaunch> {
  const t0 = performance.now();
  if (/\.[cm]?js$/.test(entryTs))
    return { file: entryTs, execArgv: [], mode: 'precompiled', prepareMs: performance.now() - t0, built: false };
  const dir = workerCacheDir();
  if (!dir) return tsx(entryTs, `${WORKER_CACHE_ENV}=off`, t0);
  let esbuild: typeof import('esbuild');
  try {
    esbuild = require('esbuild') as typeof import('esbuild');
  } catch (err) {
    return tsx(entryTs, `esbuild does not load: ${(err as Error).message}`, t0);
  }
  const name = `${path.basename(entryTs, '.ts')}-${sha256(entryTs).slice(0, 12)}`;
  const bundle = path.join(dir, `${name}.cjs`);
  const recordFile = path.join(dir, `${name}.inputs.json`);
  const launch = (built: boolean): WorkerLaunch => ({
    file: bundle,
    execArgv: [],
    mode: 'precompiled',
    prepareMs: performance.now() - t0,
    built,
  });
  try {
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as InputsRecord;
    if (fs.existsSync(bundle) && upToDate(record, entryTs, esbuild.version)) return launch(false);
  } catch {
    // no record yet, or an unreadable one: build
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${bundle}.${process.pid}.tmp`;
    const result = await esbuild.build({
      entryPoints: [entryTs],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: `node${process.versions.node.split('.')[0]}`,
      packages: 'external',
      sourcemap: 'linked',
      banner: { js: STACK_MAPPER },
      absWorkingDir: REPO_ROOT,
      metafile: true,
      logLevel: 'silent',
      plugins: [
        {
          name: 'keep-module-dirname',
          setup(b) {
            b.onLoad({ filter: /\.ts$/ }, (args) => {
              const src = fs
                .readFileSync(args.path, 'utf8')
                .replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path)))
                .replace(/\b__filename\b/g, JSON.stringify(args.path));
              return { contents: src, loader: 'ts' };
            });
          },
        },
      ],
    });
    const inputs: Record<string, string> = {};
    for (const rel of Object.keys(result.metafile!.inputs)) {
      const abs = path.resolve(REPO_ROOT, rel);
      inputs[abs] = fileSha256(abs);
    }
    // The map names the bundle it belongs to: rename both, the map first.
    fs.renameSync(`${tmp}.map`, `${bundle}.map`);
    const code = fs
      .readFileSync(tmp, 'utf8')
      .replace(/\/\/# sourceMappingURL=.*$/m, `//# sourceMappingURL=${path.basename(bundle)}.map`);
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, bundle);
    const record: InputsRecord = {
      entry: entryTs,
      esbuild: esbuild.version,
      node: process.versions.node,
      additions: ADDITIONS,
      inputs,
    };
    writeFileAtomic(recordFile, JSON.stringify(record, null, 1));
    return launch(true);
  } catch (err) {
    return tsx(
      entryTs,
      `precompiling ${path.relative(REPO_ROOT, entryTs)} failed: ${(err as Error).message.split('\n')[0]}`,
      t0,
    );
  }
}
