/**
 * Build time of the reference adapters on ResNet-50 (64x64x3, 6 classes), in process: each
 * repetition builds every requested precision on the notebook weights and on the perturbed ones
 * (as a default run's worker does), timing adapter.build alone; optionally one inference run after
 * each build (--run). Prints min and median per precision and weight set.
 *   npx tsx scripts/reference-build-speed.ts [--reps 5] [--precisions fp64,fp32,tf32] [--run]
 * `bench --harness` is the measurement of record; this is a probe.
 */
import { loadavg } from 'os';
import { ReferenceAdapter } from '../src/adapters/reference';
import { cachedInitModelWeights } from '../src/init/weight-cache';
import { perturbModelWeights, PERTURB_RECIPE } from '../src/init/perturb';
import { resnet50 } from '../src/model/builders';
import type { ReferencePrecision } from '../src/adapters/reference/precision';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const reps = Number(arg('--reps', '5'));
const precisions = arg('--precisions', 'fp64,fp32,tf32').split(',') as ReferencePrecision[];
const withRun = process.argv.includes('--run');

async function main(): Promise<void> {
  const spec = resnet50({ inputShape: [64, 64, 3], classes: 6 });
  const notebook = cachedInitModelWeights(spec).weights;
  const perturbed = perturbModelWeights(notebook, { recipe: PERTURB_RECIPE, seed: 1 }).weights;
  const x = { shape: [1, 64, 64, 3], data: Float32Array.from({ length: 64 * 64 * 3 }, (_, i) => Math.sin(i)) };
  const times = new Map<string, number[]>();
  const runTimes = new Map<string, number[]>();
  for (let r = 0; r < reps; r++) {
    for (const p of precisions) {
      const a = new ReferenceAdapter({ precision: p });
      for (const [set, w] of [
        ['notebook', notebook],
        ['perturbed', perturbed],
      ] as const) {
        const t0 = performance.now();
        await a.build(spec, w);
        const key = `${p} ${set}`;
        times.set(key, [...(times.get(key) ?? []), performance.now() - t0]);
        if (withRun) {
          const t1 = performance.now();
          await a.run(x, { training: false });
          await a.run(x, { training: false });
          runTimes.set(key, [...(runTimes.get(key) ?? []), performance.now() - t1]);
        }
      }
      await a.dispose();
    }
  }
  const med = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];
  const fmt = (a: number[]): string => `min ${Math.min(...a).toFixed(0)} ms, median ${med(a).toFixed(0)} ms`;
  console.log(
    `load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${reps} repetitions`,
  );
  // The first repetition is a process's first builds (nothing prepared yet); later ones are reported apart.
  for (const [k, v] of times) {
    const later = v.length > 1 ? `; later builds ${fmt(v.slice(1))}` : '';
    const runs = withRun ? `; two runs after it: ${fmt(runTimes.get(k)!)}` : '';
    console.log(`build ${k}: first ${v[0].toFixed(0)} ms${later}${runs}`);
  }
  const all = [...times.values()];
  const sums = all[0].map((_, i) => all.reduce((s, v) => s + v[i], 0));
  console.log(`all builds of one repetition: ${fmt(sums)}`);
}
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
