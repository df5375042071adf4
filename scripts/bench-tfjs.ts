/**
 * Measurement (not a test) of the TensorFlow.js adapters:
 *   1. worst error against the float64 reference on ResNet-50 (batch 1 by default), BatchNormalization in
 *      inference and training mode: the output (softmax), the logits and every fixture boundary;
 *   2. ResNet-50 latency (inference mode) at batch 1 and 8: median of --repeats runs after --warmup runs.
 * Each adapter runs in its own child process (the runner's isolation), so no two tfjs backends or
 * libtensorflow thread pools share a process while being timed.
 *
 * Usage: npx tsx scripts/bench-tfjs.ts [--adapters tfjs-cpu,tfjs-wasm,tfjs-node] [--batches 1,8]
 *          [--accuracy-batch 1] [--warmup 2] [--repeats 7] [--training-latency] [--skip-accuracy]
 *          [--skip-latency] [--json out.json]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { ReferenceAdapter } from '../src/adapters/reference';
import { createAdapter } from '../src/adapters/registry';
import type { RunResult } from '../src/adapters/types';
import { compareTensors } from '../src/compare';
import { initModelWeights } from '../src/init';
import { resnet50 } from '../src/spec/builders';
import type { Tensor } from '../src/tensor';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const flag = (name: string): boolean => process.argv.includes(name);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Deterministic uniform values in [lo, hi) (an LCG; image-like inputs in [0, 1)). */
function seeded(shape: number[], seed: number, lo = 0, hi = 1): Tensor {
  let s = seed >>> 0;
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return { shape, data };
}

interface Worst { maxAbs: number; maxRel: number; at: string }
interface AccuracyRow { training: boolean; output: Worst; logits: Worst; boundaries: Worst }
interface LatencyRow { batch: number; training: boolean; medianMs: number; minMs: number; maxMs: number; runs: number }
interface AdapterReport {
  id: string;
  available: boolean;
  reason?: string;
  fix?: string;
  description?: unknown;
  buildMs?: number;
  accuracy: AccuracyRow[];
  latency: LatencyRow[];
}

function worst(pairs: [string, Tensor, Tensor][]): Worst {
  const w: Worst = { maxAbs: 0, maxRel: 0, at: '-' };
  for (const [at, a, e] of pairs) {
    const c = compareTensors(a, e, { atol: 0, rtol: 0 });
    const abs = c.maxAbs ?? Infinity;
    if (abs > w.maxAbs) { w.maxAbs = abs; w.at = at; }
    w.maxRel = Math.max(w.maxRel, c.maxRel ?? Infinity);
  }
  return w;
}

/** One adapter, in this process. */
async function measure(id: string): Promise<AdapterReport> {
  const report: AdapterReport = { id, available: false, accuracy: [], latency: [] };
  const adapter = createAdapter(id);
  const p = await adapter.probe();
  if (!p.available) return { ...report, reason: p.reason, fix: p.fix };
  report.available = true;
  report.description = await adapter.describe();
  const spec = resnet50();
  const weights = initModelWeights(spec);
  let t0 = performance.now();
  await adapter.build(spec, weights);
  report.buildMs = performance.now() - t0;

  if (!flag('--skip-accuracy')) {
    const b = Number(arg('--accuracy-batch', '1'));
    const x = seeded([b, 64, 64, 3], 7 + b);
    const capture = spec.boundaries.map((bd) => bd.layer);
    const logits = spec.boundaries.find((bd) => bd.label === 'logits')!.layer;
    const ref = new ReferenceAdapter({ precision: 'fp64' });
    await ref.build(spec, weights);
    for (const training of [false, true]) {
      const r: RunResult = await ref.run(x, { training, capture });
      const a = await adapter.run(x, { training, capture });
      const inner = spec.boundaries.filter((bd) => bd.layer !== spec.output && bd.layer !== logits);
      report.accuracy.push({
        training,
        output: worst([['output', a.output, r.output]]),
        logits: worst([['logits', a.intermediates[logits], r.intermediates[logits]]]),
        boundaries: worst(inner.map((bd) => [bd.label, a.intermediates[bd.layer], r.intermediates[bd.layer]])),
      });
    }
    await ref.dispose();
  }

  if (!flag('--skip-latency')) {
    const warmup = Number(arg('--warmup', '2'));
    const repeats = Number(arg('--repeats', '7'));
    const modes = flag('--training-latency') ? [false, true] : [false];
    for (const batch of arg('--batches', '1,8').split(',').map(Number)) {
      const x = seeded([batch, 64, 64, 3], 100 + batch);
      for (const training of modes) {
        for (let i = 0; i < warmup; i++) await adapter.run(x, { training });
        const ms: number[] = [];
        for (let i = 0; i < repeats; i++) {
          t0 = performance.now();
          await adapter.run(x, { training });
          ms.push(performance.now() - t0);
        }
        report.latency.push({ batch, training, medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms), runs: repeats });
      }
    }
  }
  await adapter.dispose();
  return report;
}

const e = (x: number): string => (Number.isFinite(x) ? x.toExponential(2) : String(x));

function print(r: AdapterReport): void {
  if (!r.available) {
    console.log(`\n${r.id}: unavailable — ${r.reason}\n  fix: ${r.fix}`);
    return;
  }
  const d = r.description as { runtime: string; version: string; settings: Record<string, unknown> };
  console.log(`\n${r.id}: ${d.runtime} ${d.version} ${JSON.stringify(d.settings)}`);
  console.log(`  build (tfjs-layers model + setWeights): ${r.buildMs!.toFixed(0)} ms`);
  for (const a of r.accuracy) {
    console.log(`  ${a.training ? 'training ' : 'inference'}  output maxAbs ${e(a.output.maxAbs)} maxRel ${e(a.output.maxRel)} | `
      + `logits maxAbs ${e(a.logits.maxAbs)} maxRel ${e(a.logits.maxRel)} | boundaries maxAbs ${e(a.boundaries.maxAbs)} (${a.boundaries.at}) maxRel ${e(a.boundaries.maxRel)}`);
  }
  for (const l of r.latency) {
    console.log(`  latency batch ${l.batch}${l.training ? ' training' : ''}: median ${l.medianMs.toFixed(1)} ms (min ${l.minMs.toFixed(1)}, max ${l.maxMs.toFixed(1)}, ${l.runs} runs)`);
  }
}

async function main(): Promise<void> {
  if (flag('--child')) {
    const r = await measure(arg('--child', ''));
    process.stdout.write(`\nBENCH-RESULT ${JSON.stringify(r)}\n`);
    return;
  }
  const ids = arg('--adapters', 'tfjs-cpu,tfjs-wasm,tfjs-node,tfjs-node-gpu,tfjs-node-gpu-no-tf32').split(',');
  const passOn = process.argv.slice(2).filter((a, i, all) => a !== '--adapters' && all[i - 1] !== '--adapters' && a !== '--json' && all[i - 1] !== '--json');
  const reports: AdapterReport[] = [];
  for (const id of ids) {
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', id, ...passOn], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20,
    });
    const m = /^BENCH-RESULT (.*)$/m.exec(child.stdout ?? '');
    if (!m) {
      console.log(`\n${id}: the measuring process failed (exit ${child.status}${child.signal ? `, ${child.signal}` : ''})`);
      reports.push({ id, available: false, reason: `bench child failed (exit ${child.status})`, accuracy: [], latency: [] });
      continue;
    }
    const r = JSON.parse(m[1]) as AdapterReport;
    print(r);
    reports.push(r);
  }
  const out = arg('--json', '');
  if (out) {
    fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: require('os').cpus().length, reports }, null, 2));
    console.log(`\nwrote ${out}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
