#!/usr/bin/env node
'use strict';
// The resnet-conformance command. In the repository checkout (src/ present) it runs the TypeScript
// sources through tsx (no build step while developing); in an installed package (no src/: the
// tarball ships dist/, `npm run build`) it runs the built JavaScript, compiling nothing.
const fs = require('fs');
const path = require('path');

function fail(err) {
  console.error(`resnet-conformance: ${err && err.stack ? err.stack : String(err)}`);
  process.exitCode = 2;
}
try {
  const root = path.join(__dirname, '..');
  const src = path.join(root, 'src', 'cli', 'main.ts');
  const dist = path.join(root, 'dist', 'cli', 'main.js');
  let entry;
  if (fs.existsSync(src)) {
    require('tsx/cjs');
    entry = src;
  } else if (fs.existsSync(dist)) {
    entry = dist;
  } else {
    throw new Error(`neither ${src} nor ${dist} exists (a checkout needs src/; a package needs dist/: npm run build)`);
  }
  const { main } = require(entry);
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, fail);
} catch (err) {
  fail(err);
}
