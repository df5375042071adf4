/**
 * The paired ceiling: MatMul products made inside an adapter's bench worker and run between blocks
 * of the adapter's own runs, so the ceiling an adapter's efficiency is relative to was measured under
 * the same load, at the same moments.
 *
 * Paired runtimes: ONNX Runtime (every core and one thread) always, and tfjs-node when it is among
 * the ceiling runtimes and installed — unless the adapter itself runs on TensorFlow.js in this
 * process: TensorFlow.js has one global engine whose active backend the product would have to switch
 * under the adapter. Those adapters' paired ceilings are ONNX Runtime's, scaled to the fastest runtime
 * by the ratio measured between adapters (run-bench.ts runtimeScale).
 *
 * Why pair the fastest runtime directly instead of always scaling ONNX Runtime's rate: the ratio
 * between runtimes depends on what ran just before (ONNX Runtime's product runs faster between
 * blocks of ResNet-50 runs than in the ceiling worker, tfjs-node's does not), so the scaled rate
 * came out faster than any product measured on the machine (numbers in
 * docs/notes/2026-11-28-performance-investigations.md, "The ceiling, corrected").
 */
import {
  ceilingThreadCounts,
  createOrtMatmul,
  createTfjsProduct,
  reasonOf,
  type CeilingRuntime,
  type Product,
} from './ceiling';
import { matmulFlops } from './matmul-flops';
import type { PairedCeiling } from './records';
import { median } from '../util/stats';

export interface PairedProducts {
  products: Product[];
  /** Runtimes asked for but not paired, with the reason. */
  unpaired: Array<{ runtime: string; reason: string }>;
}

/** Whether this process has loaded TensorFlow.js (an adapter running on it). */
export function tfjsLoadedInProcess(): boolean {
  return Object.keys(require.cache).some((k) => /[\\/]@tensorflow[\\/]tfjs-core[\\/]/.test(k));
}

/** Creates and warms up (one product each) the paired products. */
export async function createPairedProducts(n: number, runtimes: readonly CeilingRuntime[]): Promise<PairedProducts> {
  const out: PairedProducts = { products: [], unpaired: [] };
  try {
    const ort: Product[] = [];
    for (const threads of ceilingThreadCounts()) ort.push(await createOrtMatmul(n, threads));
    for (const p of ort) await p.run();
    out.products.push(...ort);
  } catch (err) {
    out.unpaired.push({ runtime: 'onnxruntime-node', reason: `ONNX Runtime MatMul unavailable: ${reasonOf(err)}` });
  }
  if (runtimes.includes('tfjs-node')) {
    if (tfjsLoadedInProcess()) {
      out.unpaired.push({
        runtime: 'tfjs-node',
        reason:
          'the adapter runs on TensorFlow.js in this process (one engine: its backend cannot be switched under the adapter)',
      });
    } else {
      try {
        const p = await createTfjsProduct('tensorflow', n);
        await p.run();
        out.products.push(p);
      } catch (err) {
        out.unpaired.push({ runtime: 'tfjs-node', reason: reasonOf(err) });
      }
    }
  }
  return out;
}

/** The batch's paired ceiling from the products' timings (ms per product, one array per product). */
export function pairedCeiling(
  products: readonly Product[],
  samplesMs: readonly number[][],
  unpaired: PairedProducts['unpaired'],
): PairedCeiling | null {
  if (products.length === 0) return null;
  const configs = products.map((p, k) => {
    const flops = matmulFlops(p.n, p.n, p.n);
    return {
      runtime: p.runtime,
      version: p.version,
      threads: p.threads,
      samplesMs: [...samplesMs[k]],
      gflops: samplesMs[k].length ? flops / (median(samplesMs[k]) * 1e6) : 0,
    };
  });
  let best = configs[0];
  for (const c of configs) if (c.gflops > best.gflops) best = c;
  const n = products[0].n;
  return {
    runtime: best.runtime,
    version: best.version,
    n,
    flops: matmulFlops(n, n, n),
    gflops: best.gflops,
    configs,
    unpaired: [...unpaired],
    scale: null,
  };
}
