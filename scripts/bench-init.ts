/**
 * Benchmark: initial weights of the notebook's ResNet-50 (64x64x3, 6 classes) via initModelWeights.
 * Run: npx tsx scripts/bench-init.ts [repeats]
 */
import { initModelWeights, glorotUniform } from '../src/init';
import { resnet50 } from '../src/model/builders';

function main(): void {
  const repeats = Number(process.argv[2] ?? 3);
  const spec = resnet50();
  let count = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    const w = initModelWeights(spec);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    count = 0;
    for (const ws of w.values()) for (const t of ws) count += t.data.length;
    console.log(`initModelWeights(resnet50): ${count} weights in ${ms.toFixed(0)} ms`);
  }
  // Raw generator throughput without the per-call cache: the same element count in one tensor.
  const t0 = process.hrtime.bigint();
  const big = glorotUniform([count], 0);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(
    `glorotUniform([${count}]) uncached: ${ms.toFixed(0)} ms (${(((count / ms) * 1e3) / 1e6).toFixed(1)} M/s), checksum ${big[count - 1]}`,
  );
}

main();
