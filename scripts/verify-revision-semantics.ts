/**
 * Compares what TensorFlow 2.21 / Keras 3.15 still does (scripts/revision-semantics-tf.py) with
 * src/init/stateful-philox.ts (stateful seeded RNG, bit for bit) and the reference adapter's
 * BatchNormalization with a spec epsilon. Prints one line per check; exit 1 on any difference.
 * Run: npx tsx scripts/verify-revision-semantics.ts [--json tf.json]   (default: runs the .py with .venv/bin/python)
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { batchNorm } from '../src/adapters/reference/batchnorm';
import { StatefulRandomSession } from '../src/init/stateful-philox';

interface TfOut {
  tensorflow: string;
  keras: string;
  stateful: {
    streams: {
      globalSeed: number;
      opSeed: number;
      calls: { shape: number[]; minval: number; maxval: number; bits: number[] }[];
    }[];
    resetAfterSetSeed: { shape: number[]; minval: number; maxval: number; bits: number[] };
  };
  batchnorm: { input: number[]; shape: number[]; cases: { epsilon: number; training: boolean; output: number[] }[] };
  probes: Record<string, string>;
}

const root = path.resolve(__dirname, '..');
const i = process.argv.indexOf('--json');
const text =
  i > 0
    ? fs.readFileSync(process.argv[i + 1], 'utf8')
    : execFileSync(path.join(root, '.venv/bin/python'), [path.join(root, 'scripts/revision-semantics-tf.py')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
const tf = JSON.parse(text) as TfOut;
let bad = 0;
const line = (ok: boolean, s: string) => {
  if (!ok) bad++;
  process.stdout.write(`${ok ? 'same' : 'DIFFERENT'}: ${s}\n`);
};

for (const st of tf.stateful.streams) {
  const session = new StatefulRandomSession(st.globalSeed);
  st.calls.forEach((c, k) => {
    const ours = new Uint32Array(session.stream(st.opSeed).uniform(c.shape, c.minval, c.maxval).buffer);
    const diff = c.bits.findIndex((b, j) => b !== ours[j]);
    line(
      diff < 0 && ours.length === c.bits.length,
      `stateful uniform set_seed(${st.globalSeed}) seed=${st.opSeed} call ${k + 1} shape [${c.shape}] (${c.bits.length} float32 bit patterns${diff >= 0 ? `, first difference at ${diff}` : ''})`,
    );
  });
}
{
  const r = tf.stateful.resetAfterSetSeed;
  const ours = new Uint32Array(new StatefulRandomSession(2).stream(0).uniform(r.shape, r.minval, r.maxval).buffer);
  line(
    r.bits.every((b, j) => b === ours[j]),
    'tf.random.set_seed(2) again restarts the stream at counter 0',
  );
}
const x = Float64Array.from(tf.batchnorm.input);
const c = tf.batchnorm.shape[3];
for (const k of tf.batchnorm.cases) {
  const ones = new Float64Array(c).fill(1);
  const y = batchNorm(
    x,
    c,
    {
      gamma: ones,
      beta: new Float64Array(c),
      movingMean: new Float64Array(c),
      movingVariance: ones,
      epsilon: Math.fround(k.epsilon),
    },
    k.training,
  );
  let maxAbs = 0;
  y.forEach((v, j) => {
    maxAbs = Math.max(maxAbs, Math.abs(Math.fround(v) - k.output[j]));
  });
  line(
    maxAbs <= 2e-6,
    `BatchNormalization epsilon=${k.epsilon} training=${k.training}: max |reference - keras| = ${maxAbs.toExponential(2)} (float32 rounding only)`,
  );
}
for (const [k, v] of Object.entries(tf.probes))
  process.stdout.write(`probe (TF ${tf.tensorflow} / Keras ${tf.keras}): ${k}: ${v}\n`);
process.exitCode = bad ? 1 : 0;
