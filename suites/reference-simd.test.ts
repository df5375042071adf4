/**
 * The float64 oracle's WebAssembly SIMD path (src/adapters/reference/simd-kernel.ts) against its
 * plain JavaScript loops, BIT FOR BIT: the oracle's summation order (every output element a float64
 * sum over (ky, kx, ci) ascending, each product rounded, then each sum) is part of its contract, so
 * the fast path must produce the very same bits, on one thread and on the worker thread. A planted
 * order change (taps reversed) shows that this comparison catches a one-step reordering.
 */
import { conv2d, conv2dJs, convGeometry, gemm, gemmJs, type ConvGeometry } from '../src/adapters/reference/conv2d';
import { Float64Pool, outputBuffer, withPool } from '../src/adapters/reference/buffers';
import {
  buildKernelModule,
  closeSimdEngine,
  createSimdEngine,
  markKernelConstant,
  simdConv2d,
  simdEngine,
  simdGemm,
  workerError,
  workerItems,
  workerReady,
  type SimdEngine,
} from '../src/adapters/reference/simd-kernel';
import { sleb, uleb } from '../src/adapters/reference/wasm-emit';
import type { Padding } from '../src/model/types';

/** Deterministic generator (xorshift32), so a failure names a reproducible case. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** Values with exact zeros (ReLU outputs), negatives and a wide exponent range (rounding matters). */
function values(n: number, r: () => number, zeroShare = 0.3): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    a[i] = u < zeroShare ? 0 : (r() - 0.5) * 2 ** Math.floor(r() * 20 - 10);
  }
  return a;
}

/** Index of the first element whose bits differ (all NaNs count as equal), or -1. */
function firstBitDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return 0;
  const ua = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const ub = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  }
  return -1;
}

interface ConvCase {
  name: string;
  g: ConvGeometry;
  x: Float64Array;
  k: Float64Array;
}

/** Many shapes: kernel 1–7, stride 1–4, same/valid, odd sizes, Cin/Cout 1–67, batch 1–3. */
function convCases(count: number, seed: number): ConvCase[] {
  const r = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const cases: ConvCase[] = [];
  while (cases.length < count) {
    const kh = int(1, 7);
    const kw = r() < 0.7 ? kh : int(1, 7);
    const s = int(1, 4);
    const padding: Padding = r() < 0.5 ? 'same' : 'valid';
    const h = int(1, 13);
    const w = int(1, 13);
    if (padding === 'valid' && (h < kh || w < kw)) continue;
    const cin = r() < 0.2 ? int(1, 3) : int(1, 67);
    const cout = r() < 0.2 ? int(1, 5) : int(1, 67);
    const n = int(1, 3);
    const g = convGeometry({ n, h, w, cin }, { kh, kw, cout }, [s, r() < 0.8 ? s : int(1, 4)], padding);
    const name = `n${n} ${h}x${w}x${cin} k${kh}x${kw} s${g.sh},${g.sw} ${padding} -> ${cout}`;
    cases.push({ name, g, x: values(n * h * w * cin, r), k: values(kh * kw * cin * cout, r, 0.05) });
  }
  return cases;
}

const CASES = convCases(120, 2026);

let one: SimdEngine;
beforeAll(() => {
  const e = createSimdEngine(1);
  if (!e) throw new Error('WebAssembly SIMD is not available in this Node.js: the oracle would run its JS path only');
  one = e;
});
afterAll(() => closeSimdEngine(one));

describe('WebAssembly emitter encodings', () => {
  test('LEB128 as in the WebAssembly spec examples', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-64)).toEqual([0x40]);
  });

  test('the kernel module validates for several register tiles', () => {
    const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
    for (const [p, v] of [
      [4, 2],
      [3, 3],
      [1, 1],
    ])
      expect(wasm.validate(buildKernelModule(p, v))).toBe(true);
  });
});

describe('SIMD conv2d is bit-identical to the JS loops', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const js = conv2dJs(c.x, c.g, c.k, true);
    const simd = simdConv2d(one, c.x, c.g, c.k);
    expect(simd).not.toBeNull();
    expect(firstBitDifference(js, simd!)).toBe(-1);
    // The JS direct loop (no zero skipping, taps outside skipped) agrees too: finite kernel.
    expect(firstBitDifference(conv2dJs(c.x, c.g, c.k, false), simd!)).toBe(-1);
  });

  test('kernels packed on their second use give the same bits as HWIO kernels', () => {
    for (const c of CASES.slice(0, 30)) {
      const k = c.k.slice();
      markKernelConstant(k);
      const js = conv2dJs(c.x, c.g, k, true);
      for (let use = 0; use < 3; use++) expect(firstBitDifference(js, simdConv2d(one, c.x, c.g, k)!)).toBe(-1);
    }
  });

  test('NaN and ±Inf activations with a finite kernel: same bits (NaN as NaN)', () => {
    const c = CASES.find((k) => k.g.kh === 3 && k.g.cin > 4 && k.g.oh > 2)!;
    const x = c.x.slice();
    x[0] = NaN;
    x[Math.floor(x.length / 2)] = Infinity;
    x[x.length - 1] = -Infinity;
    const js = conv2dJs(x, c.g, c.k, true);
    expect(js.some(Number.isNaN)).toBe(true);
    expect(firstBitDifference(js, simdConv2d(one, x, c.g, c.k)!)).toBe(-1);
  });

  test('a non-finite kernel takes the direct JS path (0·Inf must not enter through padding)', () => {
    const g = convGeometry({ n: 1, h: 3, w: 3, cin: 1 }, { kh: 3, kw: 3, cout: 1 }, [1, 1], 'same');
    const k = new Float64Array(9).fill(1);
    k[0] = Infinity; // tap (0,0): outside the input for the first row and column of outputs
    const x = Float64Array.from({ length: 9 }, (_, i) => i + 1);
    const y = conv2d(x, g, k, false);
    expect(Number.isFinite(y[0])).toBe(true); // padding contributed nothing
    expect(firstBitDifference(y, conv2dJs(x, g, k, false))).toBe(-1);
  });

  test('planted defect: taps summed in reverse order changes bits, and the comparison says so', () => {
    let caught = 0;
    let multiTap = 0;
    for (const c of CASES) {
      if (c.g.kh * c.g.kw < 2) continue;
      multiTap++;
      const bad = simdConv2d(one, c.x, c.g, c.k, 'reversed-taps')!;
      if (firstBitDifference(conv2dJs(c.x, c.g, c.k, true), bad) !== -1) caught++;
    }
    expect(multiTap).toBeGreaterThan(50);
    // Same products, other order: nearly every case rounds differently somewhere.
    expect(caught).toBeGreaterThan(multiTap / 2);
  });
});

describe('SIMD GEMM (1x1 convolutions, Dense) is bit-identical to the JS loops', () => {
  test.each([
    [1, 1, 1],
    [3, 5, 7],
    [8, 2048, 6],
    [13, 67, 67],
    [5, 64, 256],
    [2, 1000, 3],
  ])('rows %i, in %i, out %i', (rows, cin, cout) => {
    const r = rng(rows * 7919 + cin * 31 + cout);
    const x = values(rows * cin, r);
    const k = values(cin * cout, r, 0);
    const js = gemmJs(x, rows, cin, k, cout, true);
    expect(firstBitDifference(js, simdGemm(one, x, rows, cin, k, cout)!)).toBe(-1);
    expect(firstBitDifference(js, gemmJs(x, rows, cin, k, cout, false))).toBe(-1);
    expect(firstBitDifference(js, gemm(x, rows, cin, k, cout, true))).toBe(-1);
  });
});

describe('the worker thread computes the same bits', () => {
  let two: SimdEngine;
  beforeAll(async () => {
    two = createSimdEngine(2)!;
    // Start-up is asynchronous; until it is ready every call runs on the calling thread alone.
    for (let i = 0; i < 600 && !workerReady(two); i++) await new Promise((res) => setTimeout(res, 50));
  });
  afterAll(() => closeSimdEngine(two));

  test('the worker started', () => {
    expect(workerError(two)).toBeUndefined();
    expect(workerReady(two)).toBe(true);
  });

  test('every case computed by the worker alone, then shared by both threads', () => {
    const before = workerItems(two);
    two.workerOnly = true;
    for (const c of CASES.slice(0, 40)) {
      expect(firstBitDifference(conv2dJs(c.x, c.g, c.k, true), simdConv2d(two, c.x, c.g, c.k)!)).toBe(-1);
    }
    expect(workerItems(two)).toBeGreaterThanOrEqual(before + 40);
    two.workerOnly = false;
    // Large enough to be split between the threads (which thread takes which item varies).
    const r = rng(5);
    const g = convGeometry({ n: 2, h: 15, w: 15, cin: 64 }, { kh: 3, kw: 3, cout: 64 }, [1, 1], 'same');
    const x = values(2 * 15 * 15 * 64, r);
    const k = values(9 * 64 * 64, r, 0);
    for (let i = 0; i < 3; i++) expect(firstBitDifference(conv2dJs(x, g, k, true), simdConv2d(two, x, g, k)!)).toBe(-1);
  });
});

describe('the process engine and recycled buffers', () => {
  test('conv2d uses the SIMD engine here (Node 20 has WebAssembly SIMD)', () => {
    expect(simdEngine()).not.toBeNull();
  });

  test('a recycled buffer is zeroed where the kernel needs zeros', () => {
    const pool = new Float64Pool();
    const dirty = new Float64Array(5000).fill(7);
    pool.give(dirty);
    withPool(pool, () => {
      const b = outputBuffer(5000, true);
      expect(b).toBe(dirty);
      expect(b.every((v) => v === 0)).toBe(true);
    });
    expect(outputBuffer(5000, false)).not.toBe(dirty); // outside a run: always new
  });
});
