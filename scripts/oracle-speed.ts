/**
 * The float64 oracle's forward pass alone (ResNet-50 64x64x3, 6 classes, inference BN), in process:
 * wall and CPU time per run, so a loaded machine's figure can be read next to its CPU time.
 *   npx tsx scripts/oracle-speed.ts [--batch 8] [--runs 6]
 * RESNET_CONFORMANCE_ORACLE_THREADS=0|1|2 picks the JS loops, one SIMD thread or two.
 * `npm run bench -- --adapters reference --batch 8` is the benchmark of record; this is a probe.
 */
import { loadavg } from 'os';
import { ReferenceExecutor } from '../src/adapters/reference/executor';
import { modelFlops } from '../src/bench/flops';
import { initModelWeights } from '../src/init/model-weights';
import { resnet50 } from '../src/model/builders';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const n = arg('--batch', 8);
const runs = arg('--runs', 6);
const spec = resnet50({ inputShape: [64, 64, 3], classes: 6 });
const ex = new ReferenceExecutor(spec, initModelWeights(spec), { precision: 'fp64', tf32Layers: new Set() });
const x = Float64Array.from({ length: n * 64 * 64 * 3 }, (_, i) => Math.sin(i));
const flops = modelFlops(spec).headline * n;
const ms = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;

// Two warm-up runs, as the bench: the second packs the kernels.
ex.run(x, n, false);
ex.run(x, n, false);
const walls: number[] = [];
const cpus: number[] = [];
for (let r = 0; r < runs; r++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  ex.run(x, n, false);
  walls.push(performance.now() - t0);
  cpus.push(ms(process.cpuUsage(c0)));
}
const med = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];
const rate = (t: number): string => (flops / t / 1e6).toFixed(2);
console.log(
  `batch ${n}, threads ${process.env.RESNET_CONFORMANCE_ORACLE_THREADS ?? 'default'}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(
      ' ',
    )}: wall median ${med(walls).toFixed(1)} ms (${rate(med(walls))} GFLOP/s), best ${Math.min(...walls).toFixed(1)} ms (${rate(Math.min(...walls))}); CPU (all threads) median ${med(cpus).toFixed(1)} ms, min ${Math.min(...cpus).toFixed(1)} ms (${rate(Math.min(...cpus))} GFLOP per CPU-second)`,
);
process.exit(0);
