/**
 * The ONNX Runtime adapters' own work per ResNet-50 (64x64x3, 6 classes) build, in process, as a
 * default run's worker does it: build on the notebook weights, paramCount(), then the four sessions
 * (inference/training × plain/capture) created by runs, the same four runs again (sessions exist:
 * inference only); then the same on the perturbed weights. Per build it prints
 *   own build = build + paramCount − runtime setup inside them,
 *   own in runs = first four runs − runtime setup inside them − the second four runs (inference),
 *   recorded prep in runs = what the adapter records as its own preparation inside them (runPrepMs),
 * min and median over the repetitions. With --hash it prints the sha256 of every model handed to
 * InferenceSession.create instead (untimed), to compare the bytes of two versions of the code.
 *   npx tsx scripts/ort-build-speed.ts [--reps 5] [--adapters onnxruntime-cpu,onnxruntime-cpu-noopt,onnxruntime-web-wasm] [--hash]
 * `bench --harness` is the measurement of record; this is a probe.
 */
import { createHash } from 'crypto';
import { loadavg } from 'os';
import { OnnxRuntimeAdapter } from '../src/adapters/onnxruntime';
import { ortWebNodeAdapter } from '../src/adapters/onnxruntime-web';
import { harnessPrepOf, runtimeSetupOf } from '../src/adapters/setup-clock';
import type { Adapter } from '../src/adapters/types';
import { cachedInitModelWeights } from '../src/init/weight-cache';
import { perturbModelWeights, PERTURB_RECIPE } from '../src/init/perturb';
import { resnet50 } from '../src/model/builders';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const reps = Number(arg('--reps', '5'));
const ids = arg('--adapters', 'onnxruntime-cpu,onnxruntime-cpu-noopt,onnxruntime-web-wasm').split(',');
const hashing = process.argv.includes('--hash');

function make(id: string): Adapter {
  if (id === 'onnxruntime-cpu')
    return new OnnxRuntimeAdapter({ id, executionProvider: 'cpu', graphOptimizationLevel: 'all' });
  if (id === 'onnxruntime-cpu-noopt')
    return new OnnxRuntimeAdapter({ id, executionProvider: 'cpu', graphOptimizationLevel: 'disabled' });
  if (id === 'onnxruntime-web-wasm') return ortWebNodeAdapter(id);
  throw new Error(`unknown adapter ${id}`);
}

const hashes: string[] = [];
function hashCreates(mod: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require(mod) as { InferenceSession: { create: (b: unknown, o?: unknown) => Promise<unknown> } };
  const create = ort.InferenceSession.create.bind(ort.InferenceSession);
  ort.InferenceSession.create = (b: unknown, o?: unknown) => {
    if (b instanceof Uint8Array && b.length > 1e6)
      hashes.push(`${mod} ${b.length} ${createHash('sha256').update(b).digest('hex')}`);
    return create(b, o);
  };
}

async function main(): Promise<void> {
  if (hashing) ['onnxruntime-node', 'onnxruntime-web'].forEach(hashCreates);
  const spec = resnet50({ inputShape: [64, 64, 3], classes: 6 });
  const notebook = cachedInitModelWeights(spec).weights;
  const perturbed = perturbModelWeights(notebook, { recipe: PERTURB_RECIPE, seed: 1 }).weights;
  const x = { shape: [1, 64, 64, 3], data: Float32Array.from({ length: 64 * 64 * 3 }, (_, i) => Math.sin(i)) };
  const capture = spec.boundaries.map((b) => b.layer).filter((l) => l !== spec.output);
  const variants = [{ training: false }, { training: false, capture }, { training: true }, { training: true, capture }];
  const own = new Map<string, number[]>();
  const add = (k: string, v: number) => own.set(k, [...(own.get(k) ?? []), v]);
  for (let r = 0; r < reps; r++) {
    for (const id of ids) {
      const a = make(id);
      for (const [set, w] of [
        ['notebook', notebook],
        ['perturbed', perturbed],
      ] as const) {
        const s0 = runtimeSetupOf(a) ?? 0;
        const t0 = performance.now();
        await a.build(spec, w);
        await a.paramCount();
        const t1 = performance.now();
        const s1 = runtimeSetupOf(a) ?? 0;
        const p1 = harnessPrepOf(a);
        for (const v of variants) await a.run(x, v);
        const t2 = performance.now();
        const s2 = runtimeSetupOf(a) ?? 0;
        for (const v of variants) await a.run(x, v);
        const t3 = performance.now();
        add(`${id} ${set} own build`, t1 - t0 - (s1 - s0));
        add(`${id} ${set} own in runs`, t2 - t1 - (s2 - s1) - (t3 - t2));
        add(`${id} ${set} runtime setup`, s2 - s0);
        const p2 = harnessPrepOf(a);
        if (p1 !== undefined && p2 !== undefined) add(`${id} ${set} recorded prep in runs`, p2 - p1);
      }
      await a.dispose();
    }
  }
  if (hashing) {
    for (const h of hashes) console.log(h);
    return;
  }
  const med = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];
  console.log(
    `load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${reps} repetitions (ms: min / median)`,
  );
  for (const [k, v] of own) console.log(`${k.padEnd(48)} ${Math.min(...v).toFixed(0)} / ${med(v).toFixed(0)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
