#!/usr/bin/env node
'use strict';
// Runs the TypeScript CLI directly (tsx compiles on the fly; no build step needed).
function fail(err) {
  console.error(`resnet-conformance: ${err && err.stack ? err.stack : String(err)}`);
  process.exitCode = 2;
}
try {
  require('tsx/cjs');
  const { main } = require('../src/cli/main.ts');
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, fail);
} catch (err) {
  fail(err);
}
