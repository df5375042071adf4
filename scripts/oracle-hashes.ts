/**
 * Hashes of the reference executor's outputs, and of every layer captured, for ResNet-50 (batch 1
 * and 8) and the notebook's blocks (small and ResNet-sized), in fp64, fp32 and tf32 (every
 * Conv2D/Dense TF32), both BatchNormalization modes; three runs each (later runs reuse buffers).
 * Run it on two checkouts and diff the outputs to show a change to the oracle kept every bit:
 *   npx tsx scripts/oracle-hashes.ts /path/to/before > before.txt
 *   npx tsx scripts/oracle-hashes.ts . > after.txt && diff before.txt after.txt
 */
import { createHash } from 'crypto';
import { resolve } from 'path';
import type * as Builders from '../src/model/builders';
import type * as Init from '../src/init/model-weights';
import type * as Executor from '../src/adapters/reference/executor';
import type { ModelSpec } from '../src/model/types';

const root = resolve(process.argv[2] ?? '.');
const { resnet50, identityBlock, convolutionalBlock } = require(`${root}/src/model/builders`) as typeof Builders;
const { initModelWeights } = require(`${root}/src/init/model-weights`) as typeof Init;
const { ReferenceExecutor } = require(`${root}/src/adapters/reference/executor`) as typeof Executor;

const hash = (a: Float64Array): string =>
  createHash('sha256')
    .update(Buffer.from(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex')
    .slice(0, 16);
const models: [string, ModelSpec, [number, number, number], number[]][] = [
  ['resnet50', resnet50({ inputShape: [64, 64, 3], classes: 6 }), [64, 64, 3], [1, 8]],
  ['identity_block', identityBlock(3, [4, 4, 3]), [4, 4, 3], [3]],
  ['convolutional_block', convolutionalBlock(3, [4, 4, 6], 2), [4, 4, 3], [3]],
  ['identity_block_big', identityBlock(3, [64, 64, 256], { inputShape: [15, 15, 256] }), [15, 15, 256], [3]],
  [
    'convolutional_block_big',
    convolutionalBlock(3, [128, 128, 512], 2, { inputShape: [15, 15, 256] }),
    [15, 15, 256],
    [3],
  ],
];
for (const [name, spec, shape, batches] of models) {
  const weights = initModelWeights(spec);
  const linear = spec.layers.filter((l) => l.className === 'Conv2D' || l.className === 'Dense').map((l) => l.name);
  for (const precision of ['fp64', 'fp32', 'tf32'] as const) {
    const tf32Layers = new Set(precision === 'tf32' ? linear : []);
    const ex = new ReferenceExecutor(spec, weights, { precision, tf32Layers });
    for (const n of batches) {
      const x = Float64Array.from({ length: n * shape[0] * shape[1] * shape[2] }, (_, i) =>
        i % 7 === 0 ? 0 : Math.sin(i * 0.37) * 1.5,
      );
      const xs = precision === 'fp64' ? x : x.map(Math.fround);
      for (const training of [false, true]) {
        const outs = [0, 1, 2].map(() => hash(ex.run(xs, n, training).output));
        const all = ex.run(xs, n, training, ex.captureNames());
        const cap = createHash('sha256');
        for (const k of [...all.captured.keys()].sort()) cap.update(k + hash(all.captured.get(k)!.data));
        console.log(
          `${name} ${precision} n=${n} training=${training}: out ${outs.join(' ')} capture ${cap.digest('hex').slice(0, 16)} out ${hash(all.output)}`,
        );
      }
    }
  }
}
process.exit(0);
