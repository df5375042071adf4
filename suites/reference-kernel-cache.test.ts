/**
 * Shared prepared kernels (src/adapters/reference/kernel-cache.ts): executors that would prepare the
 * same weight array the same way share one kernel array, and the sharing never changes a bit nor
 * serves stale or foreign data. Checked against executors that prepare their own kernels (an
 * override that replaces nothing opts an executor out of the cache), bit for bit.
 */
import { ReferenceAdapter } from '../src/adapters/reference';
import { ReferenceExecutor } from '../src/adapters/reference/executor';
import { prepareLayer, type LayerOverride } from '../src/adapters/reference/interpreter';
import { kernelCacheStats, sharedKernel } from '../src/adapters/reference/kernel-cache';
import { operand, type ReferencePrecision } from '../src/adapters/reference/precision';
import { initModelWeights } from '../src/init/model-weights';
import { convolutionalBlock } from '../src/model/builders';
import type { LayerSpec, ModelSpec, ModelWeights } from '../src/model/types';

const spec: ModelSpec = convolutionalBlock(3, [4, 4, 6], 2);
const linearLayers = (s: ModelSpec): LayerSpec[] =>
  s.layers.filter((l) => l.className === 'Conv2D' || l.className === 'Dense');

/** A fresh copy of `w` (new arrays: nothing shared with `w`). */
function copyWeights(w: ModelWeights): ModelWeights {
  return new Map([...w].map(([k, list]) => [k, list.map((t) => ({ ...t, data: t.data.slice() }))]));
}

const input = Float64Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) =>
  i % 5 === 0 ? 0 : Math.fround(Math.sin(i * 0.7) * 1.3),
);

/** Same bits (NaN as NaN), element by element. */
function sameBits(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

/** Does not replace any layer, so the executor prepares its own kernels (no sharing). */
const keepAll: LayerOverride = () => undefined;

function output(w: ModelWeights, precision: ReferencePrecision, override?: LayerOverride): Float64Array {
  const tf32Layers = new Set(precision === 'tf32' ? linearLayers(spec).map((l) => l.name) : []);
  return new ReferenceExecutor(spec, w, { precision, tf32Layers, override }).run(input, 2, false).output;
}

describe('shared prepared kernels', () => {
  test('fp64 and fp32 share one kernel array per weight array; tf32 has its own; values as if unshared', () => {
    const w = initModelWeights(spec);
    for (const l of linearLayers(spec)) {
      const own = (a: 'fp64' | 'fp32' | 'tf32'): Float64Array => prepareLayer(l, w, a).linear!.kernel;
      const shared = (a: 'fp64' | 'fp32' | 'tf32'): Float64Array =>
        prepareLayer(l, w, a, { share: true }).linear!.kernel;
      expect(shared('fp64')).toBe(shared('fp32'));
      expect(shared('fp64')).toBe(shared('fp64'));
      expect(shared('tf32')).toBe(shared('tf32'));
      expect(shared('tf32')).not.toBe(shared('fp32'));
      expect(own('fp64')).not.toBe(shared('fp64')); // without share: a kernel of its own
      for (const a of ['fp64', 'fp32', 'tf32'] as const) expect(sameBits(shared(a), own(a))).toBe(true);
      expect(prepareLayer(l, w, 'tf32', { share: true }).linear!.kernelFinite).toBe(true);
    }
  });

  test('two reference adapters in one process: outputs bit-identical to unshared executors, kernels prepared once', async () => {
    const w = initModelWeights(spec);
    const kernels = linearLayers(spec).length;
    const before = { ...kernelCacheStats };
    const fp64 = new ReferenceAdapter({ precision: 'fp64' });
    const fp32 = new ReferenceAdapter({ precision: 'fp32' });
    await fp64.build(spec, w);
    await fp32.build(spec, w);
    expect(kernelCacheStats.prepared - before.prepared).toBe(kernels);
    expect(kernelCacheStats.reused - before.reused).toBe(kernels);
    const x = { shape: [2, 4, 4, 3], data: Float32Array.from(input) };
    for (const [adapter, precision] of [
      [fp64, 'fp64'],
      [fp32, 'fp32'],
    ] as const) {
      for (const training of [false, true]) {
        const got = (await adapter.run(x, { training })).output.data;
        const tf32Layers = new Set<string>();
        const ex = new ReferenceExecutor(spec, copyWeights(w), { precision, tf32Layers, override: keepAll });
        const want = ex.run(Float64Array.from(input), 2, training).output;
        expect(sameBits(Float64Array.from(got), precision === 'fp32' ? want.map(Math.fround) : want)).toBe(true);
      }
    }
    for (const p of ['fp64', 'fp32', 'tf32'] as const) expect(sameBits(output(w, p), output(w, p, keepAll))).toBe(true);
  });

  test('a weight array written between builds is detected: the next build uses the new values', () => {
    const w = initModelWeights(spec);
    const stale = { fp64: output(w, 'fp64'), fp32: output(w, 'fp32'), tf32: output(w, 'tf32') };
    // One kernel value changed in place (same array object), as a caller editing its weights would.
    const k = w.get(linearLayers(spec)[0].name)![0].data;
    k[1] = k[1] * 3 + 0.5;
    const dropped = kernelCacheStats.dropped;
    for (const p of ['fp64', 'fp32', 'tf32'] as const) {
      const got = output(w, p);
      expect(sameBits(got, output(copyWeights(w), p, keepAll))).toBe(true);
      // The edit changes the output, so serving the stale kernel would have failed the line above.
      expect(sameBits(got, stale[p])).toBe(false);
    }
    expect(kernelCacheStats.dropped).toBe(dropped + 1);
  });

  test('an entry made for tf32 alone is checked by rounding again; a sign-of-zero edit is detected', () => {
    const w = initModelWeights(spec);
    const l = linearLayers(spec)[0];
    const k = w.get(l.name)![0].data;
    k[2] = 0;
    const tf32 = (): Float64Array => prepareLayer(l, w, 'tf32', { share: true }).linear!.kernel;
    const first = tf32();
    let dropped = kernelCacheStats.dropped;
    // The lowest mantissa bit rounds away in TF32: the kernel is still the one this array gives.
    const u = new Uint32Array(k.buffer, k.byteOffset, k.length);
    u[5] ^= 1;
    expect(tf32()).toBe(first);
    expect(kernelCacheStats.dropped).toBe(dropped);
    // fp64 then gets the current values, not the ones the tf32 kernel was rounded from.
    expect(sameBits(prepareLayer(l, w, 'fp64', { share: true }).linear!.kernel, new Float64Array(k))).toBe(true);
    // +0 to -0: the values compare equal (===), the bits differ; both kinds of entry see it.
    k[2] = -0;
    const fp64 = prepareLayer(l, w, 'fp64', { share: true }).linear!.kernel;
    expect(kernelCacheStats.dropped).toBe(++dropped);
    expect(Object.is(fp64[2], -0)).toBe(true);
    const w2 = copyWeights(w);
    const k2 = w2.get(l.name)![0].data;
    expect(Object.is(prepareLayer(l, w2, 'tf32', { share: true }).linear!.kernel[2], -0)).toBe(true);
    k2[2] = 0;
    expect(Object.is(prepareLayer(l, w2, 'tf32', { share: true }).linear!.kernel[2], 0)).toBe(true);
    expect(kernelCacheStats.dropped).toBe(++dropped);
    // Any other edit of a tf32-only entry: prepared again, as if unshared.
    k2[7] = k2[7] * 2 + 0.25;
    expect(
      sameBits(prepareLayer(l, w2, 'tf32', { share: true }).linear!.kernel, prepareLayer(l, w2, 'tf32').linear!.kernel),
    ).toBe(true);
    expect(kernelCacheStats.dropped).toBe(++dropped);
  });

  test('an executor with an override never gets a shared kernel', () => {
    const w = initModelWeights(spec);
    const seen: Float64Array[] = [];
    new ReferenceExecutor(spec, w, {
      precision: 'fp64',
      tf32Layers: new Set(),
      override: (_l, ctx) => {
        if (ctx.prepared.linear) seen.push(ctx.prepared.linear.kernel);
        return undefined;
      },
    });
    const shared = linearLayers(spec).map((l) => prepareLayer(l, w, 'fp64', { share: true }).linear!.kernel);
    expect(seen).toHaveLength(shared.length);
    seen.forEach((k, i) => {
      expect(k).not.toBe(shared[i]);
      expect(sameBits(k, shared[i])).toBe(true);
    });
  });

  test('TF32 rounding from the float32 bits equals roundToTf32 on edge values; non-finite kernels are not cached', () => {
    const max = 3.4028234663852886e38;
    const edge = Float32Array.from([
      0,
      -0,
      1,
      -1,
      1 + 2 ** -11, // a tie: rounds to even (down)
      1 + 3 * 2 ** -11, // a tie: rounds to even (up)
      1 + 2 ** -11 + 2 ** -20,
      -(1 + 2 ** -11 + 2 ** -20),
      2 ** -149, // smallest subnormal
      -(2 ** -130) * 1.37,
      1.17549435e-38,
      max, // rounds up past the largest float32: +Inf
      -max,
      Math.PI,
      -Math.E * 1e-20,
    ]);
    const shared = sharedKernel(edge, 'tf32')!;
    expect(sameBits(shared.kernel, operand(new Float64Array(edge), 'tf32'))).toBe(true);
    expect(shared.kernel[11]).toBe(Infinity);
    expect(shared.finite).toBe(false);
    expect(sharedKernel(edge, 'fp64')!.finite).toBe(true);
    // A tf32-only entry whose overflowing value became +Inf: the same TF32 kernel, but no fp64 one.
    const grow = Float32Array.from([1, max, 2]);
    const t = sharedKernel(grow, 'tf32')!;
    grow[1] = Infinity;
    expect(sharedKernel(grow, 'tf32')).toBe(t);
    expect(sharedKernel(grow, 'fp64')).toBeUndefined();
    // A NaN or Inf in the weights: not cached, the caller prepares its own (same values as before).
    for (const bad of [NaN, Infinity]) {
      const k = Float32Array.from([1, bad, 2]);
      expect(sharedKernel(k, 'fp64')).toBeUndefined();
      expect(sharedKernel(k, 'tf32')).toBeUndefined();
    }
  });
});
