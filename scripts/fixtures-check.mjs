#!/usr/bin/env node
// npm run fixtures:check [-- --exact|--keep|--json]: freshness check. Verifies the committed
// fixtures, regenerates them with real Keras into a temporary folder and compares every tensor
// (byte-identical, or within the tolerance table's fp32-cpu entry). Same as
// `resnet-conformance fixtures check`.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('tsx/cjs');
const { fixturesCommand } = require('../src/cli/commands/fixtures.ts');

try {
  process.exitCode = await fixturesCommand(['check', ...process.argv.slice(2)]);
} catch (e) {
  console.error(e && e.name === 'UsageError' ? `${e.message}` : (e && e.stack) || String(e));
  process.exitCode = 2;
}
