/**
 * Benchmark (not a test): ResNet-50 forward latency of the reference adapter.
 * Usage: npx tsx scripts/bench-reference.ts [--precision fp64|fp32|tf32] [--repeats N] [--batches 1,8]
 * Target: batch 1, fp64, under 1 s on a 2-core machine.
 */
import { ReferenceAdapter, isReferencePrecision } from '../src/adapters/reference';
import { initModelWeights } from '../src/init';
import { resnet50 } from '../src/spec/builders';
import { inputShapeOf } from '../src/spec/graph';
import type { ModelSpec } from '../src/spec/types';

/** Multiply-adds x 2 of the Conv2D and Dense layers, per image. */
function flopsPerImage(spec: ModelSpec): number {
  let f = 0;
  for (const l of spec.layers) {
    if (l.className === 'Conv2D') {
      const cin = inputShapeOf(spec, l)[2];
      const [oh, ow, cout] = l.outputShape;
      f += 2 * oh * ow * cout * l.kernelSize[0] * l.kernelSize[1] * cin;
    } else if (l.className === 'Dense') {
      f += 2 * inputShapeOf(spec, l)[0] * l.units;
    }
  }
  return f;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const precision = arg('--precision', 'fp64');
  if (!isReferencePrecision(precision)) throw new Error(`--precision must be fp64, fp32 or tf32, got '${precision}'`);
  const repeats = Number(arg('--repeats', '5'));
  const batches = arg('--batches', '1,8').split(',').map(Number);
  const spec = resnet50();
  const t0 = performance.now();
  const weights = initModelWeights(spec);
  const t1 = performance.now();
  const adapter = new ReferenceAdapter({ precision });
  await adapter.build(spec, weights);
  const t2 = performance.now();
  const gflop = flopsPerImage(spec) / 1e9;
  console.log(`reference ${precision}: ResNet-50 64x64x3, ${gflop.toFixed(3)} GFLOP per image (conv + dense, 2 x MACs)`);
  console.log(`initModelWeights ${(t1 - t0).toFixed(0)} ms, build ${(t2 - t1).toFixed(0)} ms`);
  console.log('GFLOP/s are nominal (dense FLOPs / time): products of exact-zero activations (ReLU outputs) are skipped');
  for (const n of batches) {
    const [h, w, c] = spec.layers[0].outputShape;
    const data = new Float32Array(n * h * w * c);
    for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000; // deterministic pixels in [0, 1)
    await adapter.run({ shape: [n, h, w, c], data }, { training: false }); // warm-up
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const s = performance.now();
      await adapter.run({ shape: [n, h, w, c], data }, { training: false });
      times.push(performance.now() - s);
    }
    const med = median(times);
    console.log(`batch ${n}: median ${med.toFixed(0)} ms over ${repeats} runs (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}), `
      + `${((gflop * n) / (med / 1000)).toFixed(2)} GFLOP/s nominal`);
  }
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
