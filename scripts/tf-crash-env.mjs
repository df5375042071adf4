#!/usr/bin/env node
// node scripts/tf-crash-env.mjs PYTHON: for shell scripts that run Python TensorFlow (the pre-trained
// fixtures check). When TensorFlow's known oneDNN crash happens on this CPU (a cached child-process
// probe, src/adapters/known-crashes.ts), prints the environment assignment that avoids it
// (TF_ENABLE_ONEDNN_OPTS=0) on stdout and the reason on stderr; otherwise prints nothing.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('tsx/cjs');
const { generatorEnv } = require('../src/golden/generator.ts');
const { TF_ONEDNN_CONV_SIGFPE } = require('../src/adapters/known-crashes.ts');

const python = process.argv[2];
if (!python) {
  console.error('usage: node scripts/tf-crash-env.mjs PYTHON');
  process.exit(2);
}
const { env, avoidedBy } = {
  env: generatorEnv(python, (line) => console.error(line)),
  avoidedBy: TF_ONEDNN_CONV_SIGFPE.avoidedBy,
};
if (env !== process.env) console.log(`${avoidedBy.env}=${avoidedBy.value}`);
