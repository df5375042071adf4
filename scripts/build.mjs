#!/usr/bin/env node
// npm run build (and prepack): src/ -> dist/, the JavaScript the published package runs.
//   - `tsc -p tsconfig.build.json` (TypeScript 7 emits both): CommonJS .js and .d.ts per source
//     file, mirroring src/, so every path computed from __dirname (fixtures/, the package root) is
//     the same depth as in src/;
//   - the non-TypeScript files under src/ (Python workers, the pyodide worker .mjs) copied alongside.
// bin/resnet-conformance.cjs runs dist/ when the package has no src/ (an installed tarball).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const t0 = performance.now();

rmSync(DIST, { recursive: true, force: true });
const tsc = join(dirname(createRequire(join(ROOT, 'package.json')).resolve('typescript/package.json')), 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit', cwd: ROOT });
if (r.status !== 0) {
  console.error(`build: tsc -p tsconfig.build.json failed (exit ${r.status ?? r.signal})`);
  process.exit(1);
}

let copied = 0;
function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) copyAssets(file);
    else if (!/\.[cm]?ts$/.test(name)) {
      const to = join(DIST, relative(SRC, file));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(file, to);
      copied++;
    }
  }
}
copyAssets(SRC);
if (!existsSync(join(DIST, 'cli', 'main.js')) || !existsSync(join(DIST, 'index.d.ts'))) {
  console.error('build: dist/cli/main.js or dist/index.d.ts is missing after tsc');
  process.exit(1);
}
console.log(
  `build: dist/ from src/ (tsc, + ${copied} non-TypeScript files) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
