/**
 * The float64 oracle's fast path: a WebAssembly SIMD (f64x2) micro-kernel for Conv2D and Dense
 * products, optionally shared with one worker thread. ./conv2d.ts calls it for finite kernels and
 * keeps the plain JavaScript loops as the fallback and as the cross-check of the tests.
 *
 * Summation order (the oracle's contract, unchanged): every output element is a float64 sum over
 * (ky, kx, ci) ascending, starting from +0, each step y = y + x*w with the product rounded and then
 * the sum rounded (f64x2.mul then f64x2.add; never a fused multiply-add). The kernel holds a tile
 * of TILE_PIXELS output pixels × TILE_CHANNELS output channels in registers, one output element
 * per SIMD lane, so lanes never mix and each element sees exactly the sequence of the JS loop.
 * Out-of-range taps read a zero pixel (adds x*0 = ±0, which leaves a sum that started at +0
 * unchanged when the kernel is finite — hence finite kernels only). Each output element is
 * computed start to finish by one thread, so the worker thread cannot change any bit either.
 *
 * Data layout in the (shared) wasm memory: a control block, the packed-kernel cache (see
 * packedAddress), then per call an offset table [block][tap][pixel-in-tile] of byte addresses of
 * input pixels (or of the zero pixel), the input, one zero pixel, the HWIO kernel as is when it is
 * not cached packed (plus slack for the last, partial, channel tile) and the output with its row
 * length padded to whole tiles (the extra lanes are computed and dropped). Tile rows past the last
 * pixel read the zero pixel and are dropped too.
 */
import { outputBuffer } from './buffers';
import type { ConvGeometry } from './conv-geometry';
import { Code, I32, V128, wasmModule, type ValType } from './wasm-emit';

/** Output pixels per register tile. */
export const TILE_PIXELS = 4;
/** f64x2 vectors (2 output channels each) per pixel of a register tile. */
export const TILE_VECTORS = 2;
export const TILE_CHANNELS = 2 * TILE_VECTORS;

const PAGE = 65536;
/** Largest memory the kernel may grow to (pages); larger problems take the JS path. */
const MAX_PAGES = 32768; // 2 GiB
/** Control block: Int32 slots (see WORKER_SOURCE), in the first 256 bytes. */
const CONTROL_BYTES = 256;
const SEQ = 0;
const DONE = 1;
const READY = 2;
const NEXT = 3;
const FAILED = 4;
/** Work items the worker has done (tests). */
const WORKER_ITEMS = 5;
/** Slots 8..: the job (gemm arguments and work grid), as read by gatherGemm and the worker. */
const JOB = 8;
/** A worker that has not finished its share after this long is treated as lost (error). */
const WORKER_TIMEOUT_MS = 120_000;
/** Below this many multiply-adds a call runs on the calling thread alone (hand-off costs tens of µs). */
const THREAD_MIN_MACS = 1 << 21;
/** Kernel bytes one work item's group of channel tiles may span (kept in L2 across pixel tiles). */
const KERNEL_GROUP_BYTES = 384 * 1024;
/** Work items per thread a call is split into at least (load balance when a core is busy). */
const ITEMS_PER_THREAD = 4;

/**
 * The micro-kernel `gemm(tab, taps, cin, kBase, kRow, kTap, kPanel, yBase, yRow, zero, blk0, blk1,
 * panel0, panel1)`: for pixel tiles blk0..blk1-1 and, within each, channel tiles panel0..panel1-1,
 *   y[tile pixel j, tile channel c] = Σ_{tap, ci} x[tab[blk][tap][j] + ci] * k[tap][ci][panel*TC + c]
 * with (tap, ci) ascending, the kernel element at kBase + panel·kPanel + tap·kTap + ci·kRow + 8c
 * (HWIO as is or packed); a tap whose pixels are all the zero pixel is skipped (exact: it adds only
 * zeros). All addresses and strides are in bytes. Register tile: P pixels × V f64x2 vectors.
 */
export function buildKernelModule(P = TILE_PIXELS, V = TILE_VECTORS): Uint8Array {
  const W = 2 * V;
  // Parameters.
  const [tab, taps, cin, kBase, kRow, kTap, kPanel, yBase, yRow, zero, blk0, blk1, panel0, panel1] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
  ];
  const params: ValType[] = new Array<ValType>(14).fill(I32);
  // Locals.
  let next = params.length;
  const locals: ValType[] = [];
  const local = (t: ValType): number => {
    locals.push(t);
    return next++;
  };
  const panel = local(I32);
  const blk = local(I32);
  const t = local(I32);
  const ci = local(I32);
  const kt0 = local(I32);
  const kt = local(I32);
  const tp = local(I32);
  const yp = local(I32);
  const xs = Array.from({ length: P }, () => local(I32));
  const acc = Array.from({ length: P }, () => Array.from({ length: V }, () => local(V128)));
  const kv = Array.from({ length: V }, () => local(V128));
  const b = local(V128);

  const c = new Code();
  c.get(blk0).set(blk);
  c.loop(); // pixel tiles
  {
    c.get(panel0).set(panel);
    c.loop(); // channel tiles: the tile's input stays in L1, the group's kernel columns in L2
    {
      for (const row of acc) for (const a of row) c.vzero().set(a);
      c.get(tab)
        .get(blk)
        .get(taps)
        .mul()
        .i32(P * 4)
        .mul()
        .add()
        .set(tp);
      c.get(kBase).get(panel).get(kPanel).mul().add().set(kt0);
      c.get(taps).set(t);
      c.loop(); // taps
      {
        c.block(); // skipped when every pixel of the tile reads the zero pixel
        {
          for (let j = 0; j < P; j++)
            c.get(tp)
              .load(4 * j)
              .set(xs[j]);
          c.get(xs[0]).get(zero).ne();
          for (let j = 1; j < P; j++) c.get(xs[j]).get(zero).ne().or();
          c.eqz().brIf(0);
          c.get(kt0).set(kt);
          c.get(cin).set(ci);
          c.loop(); // ci
          {
            for (let v = 0; v < V; v++)
              c.get(kt)
                .vload(16 * v)
                .set(kv[v]);
            for (let j = 0; j < P; j++) {
              c.get(xs[j]).vload64Splat().set(b);
              for (let v = 0; v < V; v++) c.get(acc[j][v]).get(b).get(kv[v]).f64x2Mul().f64x2Add().set(acc[j][v]);
            }
            for (let j = 0; j < P; j++) c.get(xs[j]).i32(8).add().set(xs[j]);
            c.get(kt).get(kRow).add().set(kt);
            c.get(ci).i32(1).sub().tee(ci).brIf(0);
          }
          c.end();
        }
        c.end();
        c.get(tp)
          .i32(P * 4)
          .add()
          .set(tp);
        c.get(kt0).get(kTap).add().set(kt0);
        c.get(t).i32(1).sub().tee(t).brIf(0);
      }
      c.end();
      c.get(yBase)
        .get(blk)
        .i32(P)
        .mul()
        .get(yRow)
        .mul()
        .add()
        .get(panel)
        .i32(W * 8)
        .mul()
        .add()
        .set(yp);
      for (let j = 0; j < P; j++) {
        for (let v = 0; v < V; v++)
          c.get(yp)
            .get(acc[j][v])
            .vstore(16 * v);
        if (j < P - 1) c.get(yp).get(yRow).add().set(yp);
      }
      c.get(panel).i32(1).add().tee(panel).get(panel1).ltU().brIf(0);
    }
    c.end();
    c.get(blk).i32(1).add().tee(blk).get(blk1).ltU().brIf(0);
  }
  c.end();
  return wasmModule([{ params, locals, body: c, exportName: 'gemm' }], { min: 1, max: MAX_PAGES });
}

type GemmFn = (...args: number[]) => void;

/** The part of the WebAssembly JS API used here (the project's lib setting has no WebAssembly types). */
interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * Worker thread: waits for SEQ to change, takes work items until none is left, reports DONE = SEQ.
 * A negative SEQ ends it. Its item loop is the same as runItems below (kept in step by the tests,
 * which run both threads).
 */
const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const { module, memory } = workerData;
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
const c = new Int32Array(memory.buffer, 0, ${CONTROL_BYTES / 4});
Atomics.store(c, ${READY}, 1);
let seen = 0;
for (;;) {
  Atomics.wait(c, ${SEQ}, seen);
  const seq = Atomics.load(c, ${SEQ});
  if (seq === seen) continue;
  if (seq < 0) break;
  seen = seq;
  try {
    const j = ${JOB};
    const blocks = c[j + 16], chunk = c[j + 17], panels = c[j + 18], group = c[j + 19], chunks = c[j + 20], items = c[j + 21];
    for (let i = Atomics.add(c, ${NEXT}, 1); i < items; i = Atomics.add(c, ${NEXT}, 1)) {
      const b0 = (i % chunks) * chunk, p0 = Math.floor(i / chunks) * group;
      const p1 = Math.min(panels, p0 + group);
      Atomics.add(c, ${WORKER_ITEMS}, 1);
      gemm(c[j], c[j + 1], c[j + 2], c[j + 3], c[j + 4], c[j + 5], c[j + 6], c[j + 7], c[j + 8], c[j + 9], b0, Math.min(blocks, b0 + chunk), p0, p1);
    }
  } catch (e) {
    Atomics.store(c, ${FAILED}, 1);
  }
  Atomics.store(c, ${DONE}, seq);
  Atomics.notify(c, ${DONE});
}
`;

interface Helper {
  worker: { terminate(): Promise<number>; unref(): void };
  /** Why the worker stopped, when it failed (calls then run on the calling thread). */
  error?: string;
}

export interface SimdEngine {
  memory: WasmMemory;
  gemm: GemmFn;
  module: object;
  /** Register tile: output pixels, and f64x2 vectors per pixel. */
  tile: { pixels: number; vectors: number };
  /** Threads a call may use (1 or 2); the second exists once its worker has started. */
  threads: number;
  helper?: Helper;
  seq: number;
  /** End of the packed-kernel cache (byte address), and its generation (see packedAddress). */
  cacheEnd: number;
  generation: number;
  /** Tests: the calling thread takes no work item, so the worker (when started) computes everything. */
  workerOnly?: boolean;
}

/** Work items the engine's worker thread has computed so far (tests). */
export function workerItems(e: SimdEngine): number {
  return Atomics.load(control(e), WORKER_ITEMS);
}

/** Why the engine's worker thread failed, if it did. */
export function workerError(e: SimdEngine): string | undefined {
  return e.helper?.error;
}

/** Whether the engine's worker thread has started and can take work. */
export function workerReady(e: SimdEngine): boolean {
  return e.helper !== undefined && Atomics.load(control(e), READY) === 1;
}

/**
 * Summation order of a call. 'ascending' is the oracle's; 'reversed-taps' (taps last to first, ci
 * ascending within each) exists only as the planted defect that proves the tests' bit-for-bit
 * comparison catches an order change.
 */
export type TapOrder = 'ascending' | 'reversed-taps';

function control(e: SimdEngine): Int32Array {
  return new Int32Array(e.memory.buffer, 0, CONTROL_BYTES / 4);
}

/** Default thread count: RESNET_CONFORMANCE_ORACLE_THREADS (0: no SIMD engine), else 2 on a machine with 2+ cores (1 under Jest). */
export function defaultThreads(): number {
  const env = process.env.RESNET_CONFORMANCE_ORACLE_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (n === 0 || n === 1 || n === 2) return n;
    throw new Error(
      `RESNET_CONFORMANCE_ORACLE_THREADS must be 0 (no SIMD: the plain JavaScript loops), 1 or 2, got '${env}'`,
    );
  }
  if (process.env.JEST_WORKER_ID !== undefined) return 1; // Jest already runs a worker per core
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const os = require('os') as typeof import('os');
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return cores >= 2 ? 2 : 1;
}

/** A new engine, or null where WebAssembly SIMD (or shared memory) is not available. */
export function createSimdEngine(
  threads: number,
  tile = { pixels: TILE_PIXELS, vectors: TILE_VECTORS },
): SimdEngine | null {
  let e: SimdEngine;
  try {
    if (!wasmApi) return null;
    const module = new wasmApi.Module(buildKernelModule(tile.pixels, tile.vectors));
    const memory = new wasmApi.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const gemm = new wasmApi.Instance(module, { env: { memory } }).exports.gemm as GemmFn;
    e = { memory, gemm, module, tile, threads: 1, seq: 0, cacheEnd: CONTROL_BYTES, generation: 0 };
  } catch {
    return null;
  }
  if (threads >= 2) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Worker } = require('worker_threads') as typeof import('worker_threads');
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: e.module, memory: e.memory } });
      worker.unref();
      // An error after start-up leaves READY unset or FAILED set: calls then run on one thread.
      const helper: Helper = { worker };
      worker.on('error', (err: unknown) => (helper.error = err instanceof Error ? err.message : String(err)));
      e.helper = helper;
      e.threads = 2;
    } catch {
      e.threads = 1;
    }
  }
  return e;
}

/** Stops the engine's worker thread (tests; the process does not wait for it otherwise). */
export async function closeSimdEngine(e: SimdEngine): Promise<void> {
  if (!e.helper) return;
  const c = control(e);
  Atomics.store(c, SEQ, -1);
  Atomics.notify(c, SEQ);
  await e.helper.worker.terminate();
  e.helper = undefined;
  e.threads = 1;
}

let shared: SimdEngine | null | undefined;

/** The process's engine (created on first use), or null without WebAssembly SIMD. */
export function simdEngine(): SimdEngine | null {
  if (shared === undefined) {
    const threads = defaultThreads();
    shared = threads === 0 ? null : createSimdEngine(threads);
  }
  return shared;
}

/** Byte addresses of one call's regions in wasm memory (after the packed-kernel cache). */
interface Layout {
  tab: number;
  x: number;
  zero: number;
  k: number;
  y: number;
  end: number;
}

const align = (v: number): number => Math.ceil(v / 64) * 64;

function layout(
  start: number,
  tabEntries: number,
  xLen: number,
  cin: number,
  kLen: number,
  yLen: number,
  tc: number,
): Layout {
  const tab = align(start);
  const x = align(tab + tabEntries * 4);
  const zero = x + xLen * 8;
  const k = align(zero + cin * 8);
  // Slack after the kernel: the last channel tile may read up to tc - 1 doubles past it.
  const y = align(k + (kLen + tc) * 8);
  return { tab, x, zero, k, y, end: y + yLen * 8 };
}

/** Grows the memory to `bytes`; false when it cannot (the caller falls back to JS). */
function ensureMemory(e: SimdEngine, bytes: number): boolean {
  const have = e.memory.buffer.byteLength;
  if (bytes <= have) return true;
  const pages = Math.ceil((bytes - have) / PAGE);
  if (have / PAGE + pages > MAX_PAGES) return false;
  try {
    e.memory.grow(pages);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kernels their owner will never modify (the executor's prepared weights, see markKernelConstant):
 * from their second use on, the engine keeps them packed (panel-major) in its memory, so a call
 * neither copies nor repacks them. The cache is a bump region after the control block; when it
 * would pass PACKED_CACHE_BYTES it is emptied (a new generation) and refilled as kernels come.
 */
const constantKernels = new WeakSet<Float64Array>();
interface CacheEntry {
  uses: number;
  generation: number;
  addr: number;
  rows: number;
  cout: number;
  tc: number;
}
const kernelCache = new WeakMap<SimdEngine, WeakMap<Float64Array, CacheEntry>>();
const PACKED_CACHE_BYTES = 384 * 1024 * 1024;

/**
 * Declares that `k` will not be modified from now on, so the SIMD path may keep a packed copy of it
 * (keyed by the array itself). Only the owner of a kernel array may call this.
 */
export function markKernelConstant(k: Float64Array): void {
  constantKernels.add(k);
}

/**
 * [rows][cout] (HWIO flattened: row = (ky·kw + kx)·cin + ci) into `out` as [panel][row][tc], the
 * last panel's missing channels zero. Each panel's rows are then contiguous: with HWIO as is, a
 * channel tile reads 32 bytes every cout·8 bytes, a power-of-two stride that maps every row to the
 * same cache sets and ran the large late-stage kernels at a third of the speed.
 */
export function packKernel(k: Float64Array, rows: number, cout: number, tc: number, out: Float64Array): void {
  const panels = Math.ceil(cout / tc);
  if (out.length !== panels * rows * tc) throw new Error('packKernel: output has the wrong length');
  for (let r = 0; r < rows; r++) {
    const src = r * cout;
    for (let p = 0; p < panels; p++) {
      const dst = (p * rows + r) * tc;
      const c0 = p * tc;
      const n = Math.min(tc, cout - c0);
      for (let c = 0; c < n; c++) out[dst + c] = k[src + c0 + c];
      for (let c = n; c < tc; c++) out[dst + c] = 0;
    }
  }
}

/** Byte address of `k` packed in the engine's memory, or undefined (not constant, first use, no room). */
function packedAddress(e: SimdEngine, k: Float64Array, rows: number, cout: number, tc: number): number | undefined {
  if (!constantKernels.has(k)) return undefined;
  let cache = kernelCache.get(e);
  if (!cache) kernelCache.set(e, (cache = new WeakMap()));
  const hit = cache.get(k);
  if (hit && hit.generation === e.generation && hit.rows === rows && hit.cout === cout && hit.tc === tc)
    return hit.addr;
  // Packing costs more than one unpacked call: only kernels used again (a model run more than once).
  const uses = (hit?.uses ?? 0) + 1;
  if (uses < 2) {
    cache.set(k, { uses, generation: -1, addr: 0, rows, cout, tc });
    return undefined;
  }
  const bytes = Math.ceil(cout / tc) * rows * tc * 8;
  if (bytes > PACKED_CACHE_BYTES) return undefined;
  if (e.cacheEnd + bytes > CONTROL_BYTES + PACKED_CACHE_BYTES) {
    e.generation++;
    e.cacheEnd = CONTROL_BYTES;
  }
  const addr = align(e.cacheEnd);
  if (!ensureMemory(e, addr + bytes)) return undefined;
  packKernel(k, rows, cout, tc, new Float64Array(e.memory.buffer, addr, bytes / 8));
  e.cacheEnd = addr + bytes;
  cache.set(k, { uses, generation: e.generation, addr, rows, cout, tc });
  return addr;
}

/**
 * The product behind both Conv2D and Dense: `rows` output pixels, each Σ over `taps` input pixels
 * (byte addresses written by `fillTable` into the table, P per tile and tap) × `cin` channels
 * (contiguous in memory from each address). Returns null when the memory cannot hold the problem.
 */
function gatherGemm(
  e: SimdEngine,
  x: Float64Array,
  rows: number,
  taps: number,
  cin: number,
  k: Float64Array,
  cout: number,
  fillTable: (tab: Int32Array, xAddr: number, zeroAddr: number) => void,
  order: TapOrder = 'ascending',
): Float64Array | null {
  const P = e.tile.pixels;
  const TC = 2 * e.tile.vectors;
  const blocks = Math.ceil(rows / P);
  const panels = Math.ceil(cout / TC);
  const coutPad = panels * TC;
  const K = taps * cin;
  const packed = packedAddress(e, k, K, cout, TC);
  const L = layout(
    e.cacheEnd,
    blocks * taps * P,
    x.length,
    cin,
    packed === undefined ? k.length : 0,
    blocks * P * coutPad,
    TC,
  );
  if (!ensureMemory(e, L.end)) return null;
  const buf = e.memory.buffer;
  const tab = new Int32Array(buf, L.tab, blocks * taps * P);
  fillTable(tab, L.x, L.zero);
  new Float64Array(buf, L.x, x.length).set(x);
  new Float64Array(buf, L.zero, cin).fill(0);
  if (packed === undefined) {
    new Float64Array(buf, L.k, k.length).set(k);
    new Float64Array(buf, L.k + k.length * 8, TC).fill(0);
  }
  // Kernel address and strides (bytes) between rows, taps and channel tiles: packed or HWIO as is.
  let [kBase, kRow, kTap, kPanel] =
    packed !== undefined ? [packed, TC * 8, cin * TC * 8, K * TC * 8] : [L.k, cout * 8, cin * cout * 8, TC * 8];
  if (order === 'reversed-taps') {
    for (let blk = 0; blk < blocks; blk++) {
      for (let t = 0; t < taps >> 1; t++) {
        for (let j = 0; j < P; j++) {
          const a = (blk * taps + t) * P + j;
          const b = (blk * taps + taps - 1 - t) * P + j;
          [tab[a], tab[b]] = [tab[b], tab[a]];
        }
      }
    }
    kBase += (taps - 1) * kTap;
    kTap = -kTap;
  }

  // Work grid: channel-tile groups (the group's kernel columns stay in L2 while every pixel tile of
  // a chunk passes over them) × pixel chunks (enough items for both threads to share).
  const macs = rows * K * cout;
  const threads = e.threads >= 2 && macs >= THREAD_MIN_MACS ? 2 : 1;
  const group = Math.max(1, Math.min(panels, Math.floor(KERNEL_GROUP_BYTES / (K * TC * 8))));
  const groups = Math.ceil(panels / group);
  const chunk = Math.ceil(blocks / Math.min(blocks, Math.max(1, Math.ceil((ITEMS_PER_THREAD * threads) / groups))));
  const chunks = Math.ceil(blocks / chunk);
  const items = chunks * groups;
  const args = [L.tab, taps, cin, kBase, kRow, kTap, kPanel, L.y, coutPad * 8, L.zero];
  const c = control(e);
  // Slots JOB..JOB+9: gemm arguments; JOB+16..JOB+21: the grid (as the worker reads them).
  for (let i = 0; i < args.length; i++) c[JOB + i] = args[i];
  [blocks, chunk, panels, group, chunks, items].forEach((v, i) => (c[JOB + 16 + i] = v));

  const useWorker = (threads === 2 || e.workerOnly === true) && workerReady(e) && c[FAILED] === 0;
  Atomics.store(c, NEXT, 0);
  let seq = 0;
  if (useWorker) {
    seq = ++e.seq;
    Atomics.store(c, SEQ, seq);
    Atomics.notify(c, SEQ);
  }
  const g = e.gemm;
  const mainWorks = !(useWorker && e.workerOnly);
  for (let i = mainWorks ? Atomics.add(c, NEXT, 1) : items; i < items; i = Atomics.add(c, NEXT, 1)) {
    const b0 = (i % chunks) * chunk;
    const p0 = Math.floor(i / chunks) * group;
    const p1 = Math.min(panels, p0 + group);
    g(L.tab, taps, cin, kBase, kRow, kTap, kPanel, L.y, coutPad * 8, L.zero, b0, Math.min(blocks, b0 + chunk), p0, p1);
  }
  if (useWorker) {
    const deadline = Date.now() + WORKER_TIMEOUT_MS;
    while (Atomics.load(c, DONE) !== seq) {
      if (Date.now() > deadline)
        throw new Error(`reference: the oracle's SIMD worker thread did not finish within ${WORKER_TIMEOUT_MS} ms`);
      Atomics.wait(c, DONE, Atomics.load(c, DONE), 100);
    }
    if (c[FAILED] !== 0) throw new Error("reference: the oracle's SIMD worker thread failed in the kernel");
  }

  const yv = new Float64Array(e.memory.buffer, L.y, blocks * P * coutPad);
  const out = outputBuffer(rows * cout, false); // every element is set below
  if (coutPad === cout) out.set(yv.subarray(0, rows * cout));
  else for (let r = 0; r < rows; r++) out.set(yv.subarray(r * coutPad, r * coutPad + cout), r * cout);
  return out;
}

/** NHWC conv2d with a finite HWIO kernel on the engine; null when it cannot take the problem. */
export function simdConv2d(
  e: SimdEngine,
  x: Float64Array,
  g: ConvGeometry,
  k: Float64Array,
  order: TapOrder = 'ascending',
): Float64Array | null {
  const { n, h, w, cin, kh, kw, cout, sh, sw, padTop, padLeft, oh, ow } = g;
  const rows = n * oh * ow;
  if (rows === 0 || cout === 0 || cin === 0 || kh * kw === 0) return new Float64Array(rows * cout);
  // Every window inside the input ('valid' padding, or a padded input as ResNet's first conv): the
  // kw taps of one kernel row are then kw·cin contiguous input values in the same (kx, ci) order as
  // the HWIO kernel rows, so each kernel row is one tap of kw·cin channels (fewer, longer inner
  // loops; the same summation order).
  const merged = padTop === 0 && padLeft === 0 && (oh - 1) * sh + kh <= h && (ow - 1) * sw + kw <= w;
  const tapsPerRow = merged ? 1 : kw;
  const taps = kh * tapsPerRow;
  const tapCin = merged ? kw * cin : cin;
  const P = e.tile.pixels;
  const pixels = oh * ow;
  const rowBytes = w * cin * 8;
  return gatherGemm(
    e,
    x,
    rows,
    taps,
    tapCin,
    k,
    cout,
    (tab, xAddr, zeroAddr) => {
      const blocks = tab.length / (taps * P);
      for (let blk = 0; blk < blocks; blk++) {
        for (let j = 0; j < P; j++) {
          const p = blk * P + j;
          let at = blk * taps * P + j;
          if (p >= rows) {
            for (let tap = 0; tap < taps; tap++, at += P) tab[at] = zeroAddr;
            continue;
          }
          const b = Math.floor(p / pixels);
          const q = p - b * pixels;
          const oy = Math.floor(q / ow);
          const ox = q - oy * ow;
          const iy0 = oy * sh - padTop;
          const ix0 = ox * sw - padLeft;
          const image = xAddr + b * h * rowBytes;
          for (let ky = 0; ky < kh; ky++) {
            const iy = iy0 + ky;
            for (let kx = 0; kx < tapsPerRow; kx++, at += P) {
              const ix = ix0 + kx;
              tab[at] = iy >= 0 && iy < h && ix >= 0 && ix < w ? image + iy * rowBytes + ix * cin * 8 : zeroAddr;
            }
          }
        }
      }
    },
    order,
  );
}

/** y [rows, cout] = x [rows, cin] · k [cin, cout] with a finite kernel; null when the engine cannot take it. */
export function simdGemm(
  e: SimdEngine,
  x: Float64Array,
  rows: number,
  cin: number,
  k: Float64Array,
  cout: number,
): Float64Array | null {
  if (rows === 0 || cout === 0 || cin === 0) return new Float64Array(rows * cout);
  return gatherGemm(e, x, rows, 1, cin, k, cout, (tab, xAddr, zeroAddr) => {
    for (let i = 0; i < tab.length; i++) tab[i] = i < rows ? xAddr + i * cin * 8 : zeroAddr;
  });
}
