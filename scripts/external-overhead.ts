/**
 * Measurements for docs/adapter-protocol.md (issue 17):
 *   accuracy  the JAX adapter's ResNet-50 probabilities (float32, and --x64) against float64 oracles in
 *             both BN modes: the Keras float64 goldens (resnet50-float64/*, training) and the float64
 *             reference adapter on the resnet50/* inputs (it matches Keras float64 to ~1e-14)
 *   overhead  ResNet-50 batch 8, training=false, no captures: the same runtime in-process and over the
 *             protocol: the reference adapter in this process vs behind suites/helpers/external/
 *             reference-program.ts; JAX timed inside Python (the client's computeMs) vs the host's latency.
 *
 *   node --require tsx/cjs scripts/external-overhead.ts [--reps N] [--ref-reps N] [--skip-accuracy] [--skip-overhead]
 * Needs .venv-jax (npm run setup:jax). Prints JSON lines and a summary.
 */
import * as path from 'path';
import { createCommandAdapterEntry, type CommandAdapter } from '../src/adapters/external/command';
import { ReferenceAdapter } from '../src/adapters/reference';
import type { Adapter } from '../src/adapters/types';
import { loadCaseTensors, loadManifest } from '../src/golden/load';
import { FIXTURES_DIR } from '../src/golden/paths';
import { initModelWeights } from '../src/init';
import { resnet50 } from '../src/model/builders';
import type { Tensor } from '../src/tensor';

const ROOT = path.join(__dirname, '..');
const argNum = (name: string, d: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const REPS = argNum('--reps', 10);
const REF_REPS = argNum('--ref-reps', 3);

const jax = (x64: boolean): CommandAdapter =>
  createCommandAdapterEntry({
    command: [
      path.join(ROOT, '.venv-jax/bin/python'),
      path.join(ROOT, 'clients/python/examples/jax_adapter.py'),
      ...(x64 ? ['--x64'] : []),
    ],
    id: x64 ? 'jax-x64' : 'jax',
  }).create() as CommandAdapter;
const refOverProtocol = (): CommandAdapter =>
  createCommandAdapterEntry({
    command: [
      process.execPath,
      '--require',
      require.resolve('tsx/cjs'),
      path.join(ROOT, 'suites/helpers/external/reference-program.ts'),
      '--precision',
      'fp64',
    ],
    id: 'reference-over-protocol',
    profile: 'fp64-reference',
  }).create() as CommandAdapter;

function maxAbs(a: Tensor, b: Tensor): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shape ${a.shape} vs ${b.shape}`);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function accuracy(): Promise<void> {
  const m = loadManifest();
  const spec = resnet50();
  const weights = initModelWeights(spec);
  const ref = new ReferenceAdapter({ precision: 'fp64' });
  await ref.build(spec, weights);
  const adapters: [string, Adapter][] = [
    ['jax-float32', jax(false)],
    ['jax-x64', jax(true)],
  ];
  for (const [, a] of adapters) {
    if (!(await a.probe()).available) throw new Error(`${a.id} unavailable: npm run setup:jax`);
    await a.build(spec, weights);
  }
  for (const k of m.cases.filter((c) => c.model.model === 'resnet50')) {
    const t = loadCaseTensors(FIXTURES_DIR, k);
    let oracle: Tensor;
    let oracleName: string;
    if (k.caseClass === 'resnet50-training-float64') {
      oracle = t.output!;
      oracleName = 'Keras float64 golden';
    } else {
      oracle = (await ref.run(t.input, { training: k.training })).output;
      oracleName = 'reference fp64';
    }
    const row: Record<string, unknown> = { measure: 'accuracy', case: k.id, training: k.training, oracle: oracleName };
    for (const [name, a] of adapters)
      row[name] = maxAbs((await a.run(t.input, { training: k.training })).output, oracle);
    console.log(JSON.stringify(row));
  }
  for (const [, a] of adapters) await a.dispose();
  await ref.dispose();
}

async function timeRuns(
  a: Adapter,
  x: Tensor,
  reps: number,
  computeOf?: () => number | undefined,
): Promise<{ latency: number[]; compute: number[] }> {
  await a.run(x, { training: false }); // warm-up (JIT compile for JAX)
  const latency: number[] = [];
  const compute: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await a.run(x, { training: false });
    latency.push(performance.now() - t0);
    const c = computeOf?.();
    if (c !== undefined) compute.push(c);
  }
  return { latency, compute };
}

async function overhead(): Promise<void> {
  const m = loadManifest();
  const spec = resnet50();
  const weights = initModelWeights(spec);
  const k = m.cases.find((c) => c.id === 'resnet50/batch4/inference')!;
  const x4 = loadCaseTensors(FIXTURES_DIR, k).input;
  const data = new Float32Array(x4.data.length * 2);
  data.set(x4.data, 0);
  data.set(x4.data, x4.data.length);
  const x8: Tensor = { shape: [8, ...x4.shape.slice(1)], data };

  const report = (name: string, r: { latency: number[]; compute: number[] }): number => {
    const med = median(r.latency);
    console.log(
      JSON.stringify({
        measure: 'overhead',
        what: name,
        runs: r.latency.length,
        medianMs: med,
        minMs: Math.min(...r.latency),
        maxMs: Math.max(...r.latency),
        ...(r.compute.length
          ? {
              medianComputeMs: median(r.compute),
              medianLatencyMinusComputeMs: median(r.latency.map((l, i) => l - r.compute[i])),
            }
          : {}),
      }),
    );
    return med;
  };

  const inproc = new ReferenceAdapter({ precision: 'fp64' });
  await inproc.build(spec, weights);
  const a = report('reference in-process', await timeRuns(inproc, x8, REF_REPS));
  await inproc.dispose();

  const over = refOverProtocol();
  await over.probe();
  await over.build(spec, weights);
  const b = report('reference over the protocol', await timeRuns(over, x8, REF_REPS, () => over.lastComputeMs));
  await over.dispose();
  console.log(
    JSON.stringify({ measure: 'overhead', what: 'reference: protocol minus in-process (medians)', ms: b - a }),
  );

  const j = jax(false);
  if (!(await j.probe()).available) throw new Error('jax unavailable: npm run setup:jax');
  await j.build(spec, weights);
  const jr = await timeRuns(j, x8, REPS, () => j.lastComputeMs);
  const c = report('jax float32 over the protocol (latency; computeMs = inside Python)', jr);
  console.log(
    JSON.stringify({
      measure: 'overhead',
      what: 'jax: host latency minus Python compute (medians)',
      ms: c - median(jr.compute),
    }),
  );
  await j.dispose();
}

(async () => {
  if (!process.argv.includes('--skip-accuracy')) await accuracy();
  if (!process.argv.includes('--skip-overhead')) await overhead();
})().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
