#!/usr/bin/env node
// npm run setup:python: creates .venv with the pinned TensorFlow/Keras (+ h5py, Pillow) used by the
// fixture generator and the `keras` adapter. Works offline here (local package index), online elsewhere.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('tsx/cjs');
const { ensurePythonEnv } = require('../src/golden/generator.ts');

try {
  const python = ensurePythonEnv((line) => console.log(line));
  console.log(`pinned Python environment ready: ${python}`);
} catch (e) {
  console.error((e && e.message) || String(e));
  process.exitCode = 1;
}
