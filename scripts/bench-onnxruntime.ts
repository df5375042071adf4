/**
 * Measurement (not a test) of the ONNX Runtime adapters:
 *   1. worst error against the float64 reference per variant: identity/convolutional block
 *      (notebook input and a random batch of 3) and ResNet-50 batch 1 and 4, BatchNormalization in
 *      inference and training mode, over the output and every fixture boundary;
 *   2. the effect of graph optimizations: max |all - disabled| on the same inputs;
 *   3. ResNet-50 latency, batch 1 and 8, both BN modes.
 *
 * Usage: npx tsx scripts/bench-onnxruntime.ts [--adapters onnxruntime-cpu,onnxruntime-cpu-noopt]
 *          [--repeats 10] [--batches 1,8] [--skip-accuracy] [--skip-latency] [--json out.json]
 * Unavailable adapters (e.g. CUDA here) are listed with the probe's reason and skipped.
 */
import * as fs from 'fs';
import { ReferenceAdapter } from '../src/adapters/reference';
import { createAdapter } from '../src/adapters/registry';
import type { Adapter, RunResult } from '../src/adapters/types';
import { compareTensors } from '../src/compare';
import { initModelWeights } from '../src/init';
import { convolutionalBlock, identityBlock, resnet50 } from '../src/spec/builders';
import type { ModelSpec, ModelWeights } from '../src/spec/types';
import type { Tensor } from '../src/tensor';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Deterministic uniform values in [lo, hi). */
function seeded(shape: number[], seed: number, lo: number, hi: number): Tensor {
  let s = seed >>> 0;
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return { shape, data };
}

/** The notebook's block test input: (3,4,4,3), samples all -1, all 1, all 3. */
function notebookX(): Tensor {
  const data = new Float32Array(144);
  data.fill(-1, 0, 48); data.fill(1, 48, 96); data.fill(3, 96, 144);
  return { shape: [3, 4, 4, 3], data };
}

interface Case { label: string; spec: ModelSpec; weights: ModelWeights; input: Tensor; capture: string[] }

function cases(): Case[] {
  const out: Case[] = [];
  const blocks: [string, ModelSpec][] = [
    ['identity_block', identityBlock(3, [4, 4, 3])],
    ['convolutional_block', convolutionalBlock(2, [2, 4, 6], 2)],
  ];
  for (const [name, spec] of blocks) {
    const w = initModelWeights(spec);
    out.push({ label: `${name} notebook X`, spec, weights: w, input: notebookX(), capture: [] });
    out.push({ label: `${name} random b3`, spec, weights: w, input: seeded([3, 4, 4, 3], 11, -1, 1), capture: [] });
  }
  const spec = resnet50();
  const w = initModelWeights(spec);
  const boundaries = spec.boundaries.map((b) => b.layer).filter((l) => l !== spec.output);
  for (const b of [1, 4]) out.push({ label: `resnet50 b${b}`, spec, weights: w, input: seeded([b, 64, 64, 3], 5 + b, 0, 1), capture: boundaries });
  return out;
}

interface Worst { maxAbs: number; maxRel: number; where: string }

function worstOf(r: RunResult, ref: RunResult, capture: string[]): { output: Worst; boundaries: Worst } {
  const cmp = (a: Tensor, e: Tensor) => compareTensors(a, e, { atol: 0, rtol: 0 });
  const o = cmp(r.output, ref.output);
  const output = { maxAbs: o.maxAbs ?? Infinity, maxRel: o.maxRel ?? Infinity, where: 'output' };
  const boundaries: Worst = { maxAbs: 0, maxRel: 0, where: '-' };
  for (const c of capture) {
    const x = cmp(r.intermediates[c], ref.intermediates[c]);
    if ((x.maxAbs ?? Infinity) > boundaries.maxAbs) { boundaries.maxAbs = x.maxAbs ?? Infinity; boundaries.where = c; }
    boundaries.maxRel = Math.max(boundaries.maxRel, x.maxRel ?? Infinity);
  }
  return { output, boundaries };
}

function maxDiff(a: Tensor, b: Tensor): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

const e = (x: number): string => (Number.isFinite(x) ? x.toExponential(2) : String(x));

async function main(): Promise<void> {
  const ids = arg('--adapters', 'onnxruntime-cpu,onnxruntime-cpu-noopt,onnxruntime-cuda,onnxruntime-cuda-no-tf32').split(',');
  const repeats = Number(arg('--repeats', '10'));
  const batches = arg('--batches', '1,8').split(',').map(Number);
  const report: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, unavailable: [], accuracy: [], fusion: [], latency: [] };
  const adapters: { id: string; adapter: Adapter }[] = [];
  for (const id of ids) {
    const adapter = createAdapter(id);
    const p = await adapter.probe();
    if (!p.available) {
      console.log(`${id}: unavailable — ${p.reason}`);
      (report.unavailable as unknown[]).push({ id, reason: p.reason, fix: p.fix });
      await adapter.dispose();
      continue;
    }
    const d = await adapter.describe();
    console.log(`${id}: ${d.runtime} ${d.version} ${JSON.stringify(d.settings)}`);
    adapters.push({ id, adapter });
  }

  if (!process.argv.includes('--skip-accuracy')) {
    console.log('\nWorst error vs the float64 reference (maxAbs / maxRel; boundaries = worst over stage outputs and logits)');
    const ref = new ReferenceAdapter({ precision: 'fp64' });
    for (const c of cases()) {
      await ref.build(c.spec, c.weights);
      for (const a of adapters) await a.adapter.build(c.spec, c.weights);
      for (const training of [false, true]) {
        const r = await ref.run(c.input, { training, capture: c.capture });
        const outs: Record<string, RunResult> = {};
        for (const a of adapters) {
          const out = await a.adapter.run(c.input, { training, capture: c.capture });
          outs[a.id] = out;
          const w = worstOf(out, r, c.capture);
          (report.accuracy as unknown[]).push({ case: c.label, training, adapter: a.id, ...w });
          console.log(`  ${c.label.padEnd(28)} ${training ? 'train' : 'infer'} ${a.id.padEnd(24)} output ${e(w.output.maxAbs)} / ${e(w.output.maxRel)}`
            + (c.capture.length ? `   boundaries ${e(w.boundaries.maxAbs)} / ${e(w.boundaries.maxRel)} (worst abs at ${w.boundaries.where})` : ''));
        }
        if (outs['onnxruntime-cpu'] && outs['onnxruntime-cpu-noopt']) {
          const d = maxDiff(outs['onnxruntime-cpu'].output, outs['onnxruntime-cpu-noopt'].output);
          const logits = c.capture.find((x) => x.endsWith(':logits'));
          const dl = logits ? maxDiff(outs['onnxruntime-cpu'].intermediates[logits], outs['onnxruntime-cpu-noopt'].intermediates[logits]) : undefined;
          (report.fusion as unknown[]).push({ case: c.label, training, maxAbsAllVsDisabled: d, logits: dl });
          console.log(`  ${''.padEnd(28)} ${training ? 'train' : 'infer'} |all - disabled| output ${e(d)}${dl !== undefined ? `, logits ${e(dl)}` : ''}`);
        }
      }
    }
    await ref.dispose();
  }

  if (!process.argv.includes('--skip-latency')) {
    console.log(`\nResNet-50 (64x64x3) latency, median over ${repeats} runs after 2 warm-up runs`);
    const spec = resnet50();
    const w = initModelWeights(spec);
    for (const a of adapters) {
      await a.adapter.build(spec, w);
      for (const training of [false, true]) {
        for (const [bi, n] of batches.entries()) {
          const x = seeded([n, 64, 64, 3], 3, 0, 1);
          const tb = performance.now();
          await a.adapter.run(x, { training }); // the first batch of a mode includes export + session creation
          const firstMs = performance.now() - tb;
          const firstLabel = bi === 0 ? `first run incl. ONNX export + session creation ${firstMs.toFixed(0)} ms` : `first run ${firstMs.toFixed(0)} ms`;
          await a.adapter.run(x, { training });
          const times: number[] = [];
          for (let r = 0; r < repeats; r++) {
            const s = performance.now();
            await a.adapter.run(x, { training });
            times.push(performance.now() - s);
          }
          const med = median(times);
          (report.latency as unknown[]).push({ adapter: a.id, training, batch: n, medianMs: med, minMs: Math.min(...times), firstRunMs: firstMs });
          console.log(`  ${a.id.padEnd(24)} ${training ? 'train' : 'infer'} batch ${n}: median ${med.toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}), ${firstLabel}`);
        }
      }
    }
  }
  for (const a of adapters) await a.adapter.dispose();
  const jsonOut = arg('--json', '');
  if (jsonOut) fs.writeFileSync(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
