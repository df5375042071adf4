/**
 * The published package ships built JavaScript (`npm run build` -> dist/, run by prepack):
 *   - `npm pack --dry-run` lists the CLI entry, the built workers, the public types, the fixture
 *     manifest and every golden file it references, and no TypeScript source (.d.ts aside);
 *   - package.json points bin/main/types/exports at them and builds before packing;
 *   - bin/resnet-conformance.cjs in a package without src/ runs dist/, and a run (parent and worker
 *     processes) completes with tsx made unloadable: nothing is compiled at run time.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO } from './helpers/cli';

interface PackEntry {
  path: string;
  size: number;
}

let files: string[];
let packed: { size: number; unpackedSize: number; entryCount: number };
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'package-'));
  const build = spawnSync(process.execPath, [path.join(REPO, 'scripts', 'build.mjs')], { cwd: REPO, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr}${build.stdout}`);
  const npm = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
  if (npm.status !== 0) throw new Error(`npm pack --dry-run failed: ${npm.stderr}`);
  const [info] = JSON.parse(npm.stdout) as [
    { files: PackEntry[]; size: number; unpackedSize: number; entryCount: number },
  ];
  files = info.files.map((f) => f.path);
  packed = info;
}, 120_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the tarball lists the CLI entry, the built workers, the types, the fixture manifest and its golden files', () => {
  expect(files).toEqual(
    expect.arrayContaining([
      'bin/resnet-conformance.cjs',
      'dist/cli/main.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/adapters/types.d.ts',
      'dist/runner/worker.js',
      'dist/bench/worker.js',
      'dist/adapters/keras/worker.py',
      'dist/notebook/pyodide-worker.mjs',
      'fixtures/manifest.json',
      'clients/python/resnet_conformance_adapter.py',
      'clients/python/examples/jax_adapter.py',
      'clients/python/examples/torch_adapter.py',
      'docs/adapter-protocol.md',
      'docs/api.md',
      'docs/ci.md',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'schema/report.schema.json',
      'package.json',
    ]),
  );
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'fixtures', 'manifest.json'), 'utf8')) as unknown;
  const referenced = new Set<string>();
  (function walk(v: unknown): void {
    if (typeof v === 'string' && v.endsWith('.npy')) referenced.add(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  })(manifest);
  expect(referenced.size).toBeGreaterThan(50);
  const missing = [...referenced].filter((f) => !files.includes(path.posix.join('fixtures', f)));
  expect(missing).toEqual([]);
});

test('no TypeScript source is needed at run time: no src/, no .ts but declarations; no materialized models', () => {
  expect(files.filter((f) => f.startsWith('src/'))).toEqual([]);
  expect(files.filter((f) => /\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f))).toEqual([]);
  expect(files.filter((f) => f.startsWith('fixtures/pretrained/models/'))).toEqual([]);
  // The committed small form of the pre-trained models ships (`fixtures materialize` rebuilds them).
  expect(files.some((f) => f.startsWith('fixtures/pretrained/resnet50/'))).toBe(true);
  expect(packed.size).toBeLessThan(20 * 1024 * 1024);
});

test('package.json: publishable, bin/main/types/exports into dist, built before packing', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Record<string, any>;
  expect(pkg.private).toBeUndefined();
  expect(pkg.bin).toEqual({ 'resnet-conformance': 'bin/resnet-conformance.cjs' });
  expect([pkg.main, pkg.types]).toEqual(['dist/index.js', 'dist/index.d.ts']);
  expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
  expect(pkg.scripts.prepack).toMatch(/scripts\/build\.mjs/);
  for (const f of [pkg.main, pkg.types]) expect(files).toContain(f);
  // Only the entry is public: no subpath export of every built file.
  expect(Object.keys(pkg.exports).sort()).toEqual(['.', './package.json']);
  // The runtimes are optional peers, not dependencies (the core install stays small).
  for (const name of Object.keys(pkg.peerDependencies)) {
    expect(pkg.dependencies[name]).toBeUndefined();
    expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
  }
});

test('the built entry exports the library API (run, compare, readReport) and main', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const api = require(path.join(REPO, 'dist', 'index.js')) as Record<string, unknown>;
  expect(['run', 'compare', 'readReport', 'main'].map((k) => typeof api[k])).toEqual([
    'function',
    'function',
    'function',
    'function',
  ]);
  const dts = fs.readFileSync(path.join(REPO, 'dist', 'index.d.ts'), 'utf8');
  expect(dts).toMatch(/export \{ compare, readReport, run \} from '.\/cli\/api'/);
});

test('without src/, bin runs dist/: a run completes with tsx unloadable in every process', () => {
  // A package layout like the installed one: bin copied, dist/fixtures/node_modules linked, no src/.
  const pkgDir = path.join(tmp, 'pkg');
  fs.mkdirSync(path.join(pkgDir, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(REPO, 'bin', 'resnet-conformance.cjs'), path.join(pkgDir, 'bin', 'resnet-conformance.cjs'));
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(pkgDir, 'package.json'));
  for (const d of ['dist', 'fixtures', 'node_modules']) fs.symlinkSync(path.join(REPO, d), path.join(pkgDir, d));
  const guard = path.join(tmp, 'no-tsx.cjs');
  fs.writeFileSync(
    guard,
    `const M = require('module'); const load = M._load;
M._load = function (req, ...rest) { if (/^tsx(\\/|$)/.test(req)) throw new Error('tsx loaded at run time: ' + req); return load.call(this, req, ...rest); };`,
  );
  const out = path.join(tmp, 'report');
  const r = spawnSync(
    process.execPath,
    [
      path.join(pkgDir, 'bin', 'resnet-conformance.cjs'),
      'run',
      '--adapters',
      'reference',
      '--cases',
      'notebook/*',
      '--no-diagnose',
      '--out',
      out,
    ],
    {
      cwd: tmp,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `--require ${guard}` },
    },
  );
  expect(r.stderr).not.toMatch(/tsx loaded/);
  expect(r.status).toBe(0);
  const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as {
    results: { status: string }[];
  };
  expect(report.results.map((x) => x.status)).toEqual(['pass', 'pass', 'pass', 'pass']);
  // The guard works: the checkout's bin (src/ through tsx) fails under it.
  const dev = spawnSync(process.execPath, [path.join(REPO, 'bin', 'resnet-conformance.cjs'), '--help'], {
    cwd: tmp,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: `--require ${guard}` },
  });
  expect(dev.stderr).toMatch(/tsx loaded at run time: tsx\/cjs/);
});
