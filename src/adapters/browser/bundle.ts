/**
 * Bundles the page code (./page/entry.ts; ./page/tfjs-driver.ts with tfjs, its webgl/webgpu/wasm
 * backends and the project's tfjs-layers builder apart) with esbuild, once per process, and keeps the result on disk
 * (node_modules/.cache/resnet-conformance/page, RESNET_CONFORMANCE_PAGE_CACHE=DIR|off): bundling
 * takes seconds, checking the cache a fraction of that.
 *
 * A cache entry is used only when everything that went into it is unchanged: its key (esbuild
 * version, the build options) and the content hash of every input file esbuild read (from its
 * metafile), of the package.json next to each package's files (resolution: "browser", "exports") and
 * of node_modules/.package-lock.json (npm rewrites it on every install); and the bundle's own hash
 * must match the manifest (a truncated or edited entry is rebuilt, never served).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheDirFromEnv } from '../../util/cache-dir';

type BuildOptions = import('esbuild').BuildOptions;

/** The page bundle cache's directory (DIR) or `off`. */
export const PAGE_CACHE_ENV = 'RESNET_CONFORMANCE_PAGE_CACHE';

export const PAGE_ENTRY = path.join(__dirname, 'page', 'entry.ts');
export const TFJS_PAGE_ENTRY = path.join(__dirname, 'page', 'tfjs-driver.ts');

/** Bumped when the way a bundle is made changes in a way the options below do not show (e.g. a plugin's logic). */
const RECIPE = 2;

interface Manifest {
  key: string;
  /** sha256 of the bundle text. */
  output: string;
  /** [absolute path, sha256 of its bytes] of every file the bundle depends on. */
  inputs: [string, string][];
}

function sha256(b: Buffer | string): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

/** sha256 of the file, or null when it cannot be read. */
function fileHash(file: string): string | null {
  try {
    return sha256(fs.readFileSync(file));
  } catch {
    return null;
  }
}

/** The package.json of the package a node_modules file belongs to (null outside node_modules). */
function packageJsonOf(file: string): string | null {
  const parts = file.split(path.sep);
  const i = parts.lastIndexOf('node_modules');
  if (i < 0 || i + 1 >= parts.length) return null;
  const depth = parts[i + 1].startsWith('@') ? 3 : 2;
  return [...parts.slice(0, i + depth), 'package.json'].join(path.sep);
}

/** The files a build depends on besides its inputs: package.json files and npm's hidden lockfile. */
function dependencyFiles(inputs: readonly string[]): string[] {
  const out = new Set<string>();
  for (const f of inputs) {
    const pj = packageJsonOf(f);
    if (pj) out.add(pj);
    const parts = f.split(path.sep);
    const i = parts.indexOf('node_modules');
    if (i >= 0) out.add([...parts.slice(0, i + 1), '.package-lock.json'].join(path.sep));
  }
  return [...out];
}

function cacheDir(): string | null {
  return cacheDirFromEnv(process.env[PAGE_CACHE_ENV], 'page');
}

/** The cached bundle when the entry is valid for `key`, else null (read asynchronously: Chromium starts meanwhile). */
async function readCached(dir: string, name: string, key: string): Promise<string | null> {
  let manifest: Manifest;
  let text: string;
  try {
    manifest = JSON.parse(await fs.promises.readFile(path.join(dir, `${name}.json`), 'utf8')) as Manifest;
    text = await fs.promises.readFile(path.join(dir, `${name}.js`), 'utf8');
  } catch {
    return null;
  }
  if (manifest.key !== key || !Array.isArray(manifest.inputs) || manifest.inputs.length === 0) return null;
  if (sha256(text) !== manifest.output) return null;
  const same = await Promise.all(
    manifest.inputs.map(([file, hash]) =>
      fs.promises.readFile(file).then(
        (b) => sha256(b) === hash,
        () => false,
      ),
    ),
  );
  return same.every(Boolean) ? text : null;
}

function writeCached(dir: string, name: string, manifest: Manifest, text: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    for (const [file, body] of [
      [`${name}.js`, text],
      [`${name}.json`, JSON.stringify(manifest)],
    ] as const) {
      const tmp = path.join(dir, `${file}.${process.pid}.tmp`);
      fs.writeFileSync(tmp, body);
      fs.renameSync(tmp, path.join(dir, file));
    }
  } catch {
    // a read-only or full disk: the bundle is still used, only not kept
  }
}

/** esbuild `options` (plus `plugin`, a description of any plugin logic) built once, through the disk cache. */
async function cachedBuild(name: string, options: BuildOptions, plugin: string): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const { plugins, ...plain } = options;
  const key = sha256(JSON.stringify({ recipe: RECIPE, esbuild: esbuild.version, options: plain, plugin }));
  const dir = cacheDir();
  const file = `${name}-${key.slice(0, 16)}`;
  if (dir) {
    const hit = await readCached(dir, file, key);
    if (hit !== null) return hit;
  }
  const cwd = process.cwd();
  const r = await esbuild.build({ ...options, plugins, write: false, metafile: true, absWorkingDir: cwd });
  if (r.errors.length) throw new Error(`esbuild: ${r.errors.map((e) => e.text).join('; ')}`);
  const text = r.outputFiles![0].text;
  if (dir) {
    // Inputs in another namespace ('(disabled):...', a package's "browser": false) are not files; the package.json
    // that disabled them is among the dependency files.
    const inputs = Object.keys(r.metafile!.inputs)
      .filter((f) => !/^\(?[a-z-]+\)?:/.test(f))
      .map((f) => path.resolve(cwd, f));
    const all = [...new Set([...inputs, ...dependencyFiles(inputs)])].sort();
    const hashed: [string, string][] = [];
    for (const f of all) {
      const h = fileHash(f);
      if (h !== null) hashed.push([f, h]);
      else if (inputs.includes(f)) return text; // an input vanished while bundling: do not keep this one
    }
    writeCached(dir, file, { key, output: sha256(text), inputs: hashed }, text);
  }
  return text;
}

const BROWSER_ESM: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'chrome120',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'silent',
  legalComments: 'none',
};

let cached: Promise<string> | undefined;

/**
 * The page code every page loads (/page.js: ./page/entry.ts with the ONNX Runtime Web and LiteRT.js
 * drivers, which load their runtimes from the packages' own files). tfjs is not in it: see
 * tfjsPageBundle.
 */
export function pageBundle(): Promise<string> {
  cached ??= cachedBuild('page', { ...BROWSER_ESM, entryPoints: [PAGE_ENTRY] }, '');
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

let tfjsCached: Promise<string> | undefined;

/**
 * The tfjs driver (./page/tfjs-driver.ts with tfjs, its webgl/webgpu/wasm backends and the project's
 * tfjs-layers builder; 3 MB) as its own ES module, /page-tfjs.js, imported by the page on the first
 * tfjs call: the pages of the other adapters do not load and compile it.
 */
export function tfjsPageBundle(): Promise<string> {
  const tfjsWasmFesm = path.join(
    path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')),
    'dist',
    'tf-backend-wasm.fesm.js',
  );
  tfjsCached ??= cachedBuild(
    'page-tfjs',
    {
      ...BROWSER_ESM,
      entryPoints: [TFJS_PAGE_ENTRY],
      plugins: [
        {
          name: 'tfjs-backend-wasm-fesm',
          // The package's ESM sources (its "module" entry) pass the threaded factory to the pthread workers as
          // factory.toString(); bundled by esbuild that source refers to names of the bundle, the workers never
          // start and XNNPACK runs 1 thread (measured). Its prebuilt flat ESM bundle is self-contained.
          setup(b) {
            b.onResolve({ filter: /^@tensorflow\/tfjs-backend-wasm$/ }, () => ({ path: tfjsWasmFesm }));
          },
        },
      ],
    },
    `@tensorflow/tfjs-backend-wasm -> ${tfjsWasmFesm}`,
  );
  tfjsCached.catch(() => {
    tfjsCached = undefined;
  });
  return tfjsCached;
}

let litertCached: Promise<string> | undefined;

/**
 * @litertjs/core (with @litertjs/wasm-utils) as one ES module, served as /litert.js and imported by
 * ./page/litert-driver.ts when a LiteRT.js adapter initializes: its own bundle, so that the page code
 * of the other browser adapters neither grows nor needs the (optional) package.
 */
export function litertBundle(): Promise<string> {
  litertCached ??= (async () =>
    cachedBuild(
      'litert',
      {
        entryPoints: [require.resolve('@litertjs/core')],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'chrome120',
        logLevel: 'silent',
        legalComments: 'none',
      },
      '',
    ))();
  litertCached.catch(() => {
    litertCached = undefined;
  });
  return litertCached;
}
