#!/usr/bin/env node
// npm run fixtures:generate [-- generator args]: sets up the pinned .venv if missing, then runs
// fixtures/generate/generate.py (real Keras) to rewrite fixtures/manifest.json and fixtures/data/.
// Same as `resnet-conformance fixtures generate`.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('tsx/cjs');
const { fixturesCommand } = require('../src/cli/commands/fixtures.ts');

const args = process.argv.slice(2);
try {
  process.exitCode = await fixturesCommand(['generate', ...(args.length ? ['--', ...args] : [])]);
} catch (e) {
  console.error(e && e.name === 'UsageError' ? `${e.message}` : (e && e.stack) || String(e));
  process.exitCode = 2;
}
