/**
 * On-disk cache of initial weights. Every adapter worker of a run builds the same models, and the
 * Keras-exact initialization of ResNet-50 (23.6 M parameters) costs each worker several times what
 * reading the cached result back (and checking it) does (times in
 * docs/notes/2026-11-28-performance-investigations.md).
 *
 * Only models with at least CACHE_MIN_PARAMS parameters are cached (small blocks initialize in
 * well under a millisecond). An entry is keyed by
 *   - the model spec (JSON of the whole ModelSpec: layers, shapes, initializers with their seeds), and
 *   - a digest of the initializer source code (every file of src/init),
 * so editing the initializers, or asking for another model, never reads a stale entry. Each file
 * carries a checksum of its data and is checked on every read (by the first reader of the file in a
 * run; the other workers of the run compare the file's stamp with that reader's record,
 * src/util/verified-files.ts); anything that does not match (a
 * truncated, corrupted or foreign file) is ignored and recomputed. Files are written to a
 * temporary name and renamed into place, so concurrent workers never read half a file.
 *
 * Location: <package>/node_modules/.cache/resnet-conformance/weights, or the directory named by
 * RESNET_CONFORMANCE_WEIGHT_CACHE; `RESNET_CONFORMANCE_WEIGHT_CACHE=off` disables the cache.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { initModelWeights } from './model-weights';
import { cacheDirFromEnv } from '../util/cache-dir';
import { writeFileAtomic } from '../util/fs';
import { sourceDigest } from '../util/source-digest';
import { fileStamp, readStamped, recordVerified, verifiedInRun } from '../util/verified-files';
import { float32Sha256 } from '../util/array-digest';
import type { ModelSpec, ModelWeights, WeightTensor } from '../model/types';

export const WEIGHT_CACHE_ENV = 'RESNET_CONFORMANCE_WEIGHT_CACHE';
/** Models smaller than this are initialized directly (computing is cheaper than reading a file). */
export const CACHE_MIN_PARAMS = 1_000_000;
/** Entries kept per directory (oldest removed beyond that). */
const MAX_ENTRIES = 8;
const MAGIC = 'RCWEIGHTS3\n';
const INIT_DIR = __dirname;
/** This file is the cache, not the initializers: editing it does not change the weights. */
const CACHE_SOURCE = path.basename(__filename);

interface EntryHeader {
  key: string;
  source: string;
  /** sha256 (hex) of each tensor's data bytes, in the order of `tensors`. */
  digests: string[];
  /** sha256 (hex) of the concatenated `digests` (what a run's record of a checked file names). */
  checksum: string;
  /** Layer names in the order of the ModelWeights map (including layers with an empty list). */
  layers: string[];
  tensors: Array<{ layer: string; name: string; shape: number[]; trainable: boolean; length: number }>;
}

export interface WeightCacheOptions {
  /** Cache directory; null disables the cache. Default: weightCacheDir(). */
  dir?: string | null;
  /** Smallest parameter count to cache (default CACHE_MIN_PARAMS). */
  minParams?: number;
}

export interface CachedWeights {
  weights: ModelWeights;
  /** 'cache': read from the cache; 'computed': initialized here (and stored when cacheable). */
  source: 'cache' | 'computed';
}

/** The cache directory in effect, or null when disabled (RESNET_CONFORMANCE_WEIGHT_CACHE=off). */
export function weightCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  return cacheDirFromEnv(env[WEIGHT_CACHE_ENV], 'weights');
}

let sourceDigestMemo: string | null | undefined;

/** sha256 over the initializer sources (src/init/*, this file excepted), or null when they cannot be read (no caching then). */
export function initSourceDigest(): string | null {
  if (sourceDigestMemo === undefined) sourceDigestMemo = sourceDigest([INIT_DIR], { skip: CACHE_SOURCE });
  return sourceDigestMemo;
}

function specKey(spec: ModelSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex');
}

/**
 * sha256 per tensor (native, a fraction of the FNV-1a loop in JavaScript that version 1 files
 * carried: docs/notes/2026-12-07-speed-caches.md), and one over them for the whole entry.
 */
function digestOfDigests(digests: readonly string[]): string {
  return createHash('sha256').update(digests.join('')).digest('hex');
}

function tensorArrays(weights: ModelWeights): Float32Array[] {
  const out: Float32Array[] = [];
  for (const list of weights.values()) for (const w of list as WeightTensor[]) out.push(w.data);
  return out;
}

/** Whether every array's bytes still have the digest the entry records (recomputed now). */
function checkArrays(arrays: readonly Float32Array[], digests: readonly string[]): boolean {
  return arrays.length === digests.length && arrays.every((a, i) => float32Sha256(a) === digests[i]);
}

/** Parameter count from the layer shapes (Conv2D, Dense, BatchNormalization), without initializing. */
function paramCountOf(spec: ModelSpec): number | null {
  const byName = new Map(spec.layers.map((l) => [l.name, l]));
  let n = 0;
  for (const l of spec.layers) {
    const src = l.inbound.length === 1 ? byName.get(l.inbound[0]) : undefined;
    const cin = src ? src.outputShape[src.outputShape.length - 1] : undefined;
    if (l.className === 'Conv2D' && cin !== undefined)
      n += l.kernelSize[0] * l.kernelSize[1] * cin * l.filters + l.filters;
    else if (l.className === 'Dense' && cin !== undefined) n += cin * l.units + l.units;
    else if (l.className === 'BatchNormalization') n += 4 * l.outputShape[l.outputShape.length - 1];
  }
  return Number.isFinite(n) ? n : null;
}

function entryFile(dir: string, source: string, key: string): string {
  // The format version in the name: a checkout still writing older versions into the same
  // node_modules/.cache does not overwrite this one's entry (nor this one its).
  return path.join(dir, `${source.slice(0, 16)}-${key.slice(0, 32)}.v3.bin`);
}

/** The entry header in `bytes` when it is one for this key and initializer source, else null. */
function headerFor(bytes: Uint8Array, source: string, key: string): EntryHeader | null {
  const header = JSON.parse(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  ) as EntryHeader;
  return header.key === key &&
    header.source === source &&
    Array.isArray(header.tensors) &&
    Array.isArray(header.layers) &&
    Array.isArray(header.digests) &&
    header.digests.length === header.tensors.length
    ? header
    : null;
}

/** Bytes of tensor data an entry with this header holds. */
function dataBytes(header: EntryHeader): number {
  return header.tensors.reduce((s, t) => s + t.length, 0) * 4;
}

/**
 * The entry read last in this process: a worker builds ResNet-50 and then the perturbed set on top
 * of the same initial weights, and reading the file again (fresh pages, checksum) costs several
 * times re-checking the digest of the arrays already in memory.
 */
let lastRead: { file: string; key: string; stamp: string; weights: ModelWeights; digests: string[] } | undefined;

function readEntry(
  file: string,
  source: string,
  key: string,
): { weights: ModelWeights; digests: string[]; stamp: string } | null {
  const read = readStamped(file);
  if (!read) return null;
  const buf = read.bytes;
  try {
    if (buf.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) return null;
    const headerLen = buf.readUInt32LE(MAGIC.length);
    const headerStart = MAGIC.length + 4;
    const header = headerFor(buf.subarray(headerStart, headerStart + headerLen), source, key);
    if (!header || buf.length !== headerStart + headerLen + dataBytes(header)) return null;
    const dataStart = headerStart + headerLen;
    const data = buf.subarray(dataStart);
    if (digestOfDigests(header.digests) !== header.checksum) return null;
    const weights: ModelWeights = new Map(header.layers.map((l) => [l, []]));
    // Each tensor is its own Float32Array over a disjoint part of the file's buffer (no copy; the
    // data starts 8-byte aligned, every tensor a whole number of floats).
    const aligned = data.byteOffset % 4 === 0 ? data : new Uint8Array(data);
    let off = aligned.byteOffset;
    for (const t of header.tensors) {
      const list = weights.get(t.layer);
      if (!list) return null;
      list.push({
        name: t.name,
        shape: [...t.shape],
        data: new Float32Array(aligned.buffer, off, t.length),
        trainable: t.trainable,
      });
      off += t.length * 4;
    }
    // Recomputed unless a worker of this run checked the file in this very state (src/util/verified-files.ts).
    if (!verifiedInRun(file, read, header.checksum)) {
      if (!checkArrays(tensorArrays(weights), header.digests)) return null;
      recordVerified(file, read, header.checksum);
    }
    return { weights, digests: header.digests, stamp: read.stamp };
  } catch {
    return null;
  }
}

function writeEntry(dir: string, file: string, source: string, key: string, weights: ModelWeights): void {
  const tensors: EntryHeader['tensors'] = [];
  const chunks: Uint8Array[] = [];
  for (const [layer, list] of weights) {
    for (const w of list as WeightTensor[]) {
      tensors.push({ layer, name: w.name, shape: [...w.shape], trainable: w.trainable, length: w.data.length });
      chunks.push(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength));
    }
  }
  const arrays = tensorArrays(weights);
  const digests = arrays.map(float32Sha256);
  const header: EntryHeader = {
    key,
    source,
    digests,
    checksum: digestOfDigests(digests),
    layers: [...weights.keys()],
    tensors,
  };
  // Header padded with spaces so that the data starts 8-byte aligned (tensors are views, no copy).
  let headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - ((MAGIC.length + 4 + headerBytes.length) % 8)) % 8;
  if (pad) headerBytes = Buffer.concat([headerBytes, Buffer.alloc(pad, ' ')]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(headerBytes.length);
  try {
    // The tensors are written straight from their own arrays (no 94 MB concatenation for ResNet-50).
    writeFileAtomic(file, [Buffer.from(MAGIC, 'latin1'), len, headerBytes, ...chunks]);
  } catch {
    return; // a cache that cannot be written is no error
  }
  prune(dir, source, file);
}

/** Removes entries made by other initializer sources, and the oldest beyond MAX_ENTRIES. */
function prune(dir: string, source: string, keep: string): void {
  try {
    const prefix = `${source.slice(0, 16)}-`;
    const entries = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.bin'))
      .map((f) => path.join(dir, f));
    const current: Array<{ file: string; mtime: number }> = [];
    for (const f of entries) {
      if (!path.basename(f).startsWith(prefix)) fs.rmSync(f, { force: true });
      else if (f !== keep) current.push({ file: f, mtime: fs.statSync(f).mtimeMs });
    }
    current.sort((a, b) => b.mtime - a.mtime);
    for (const e of current.slice(MAX_ENTRIES - 1)) fs.rmSync(e.file, { force: true });
  } catch {
    /* pruning is best effort */
  }
}

/**
 * Whether `file` holds a complete entry for this key and source, judged from its header and size
 * alone (the data checksum is checked by whoever reads the entry).
 */
function entryPresent(file: string, source: string, key: string): boolean {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(MAGIC.length + 4);
    if (
      fs.readSync(fd, head, 0, head.length, 0) !== head.length ||
      head.subarray(0, MAGIC.length).toString('latin1') !== MAGIC
    )
      return false;
    const headerLen = head.readUInt32LE(MAGIC.length);
    if (headerLen > size) return false;
    const hb = Buffer.alloc(headerLen);
    if (fs.readSync(fd, hb, 0, headerLen, head.length) !== headerLen) return false;
    const header = headerFor(hb, source, key);
    return header !== null && size === head.length + headerLen + dataBytes(header);
  } catch {
    return false;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** What ensureCachedWeights did: found the entry, stored it, or nothing (cache off, model too small). */
export type EnsureOutcome = 'present' | 'stored' | 'not-cached';

/**
 * Makes sure the cache holds `spec`'s initial weights, computing and storing them when missing. A
 * run calls this once in the parent for every model that two or more adapter workers will build:
 * without it, on a cold cache each of the first concurrent workers computes the same 94 MB of
 * ResNet-50 weights, several times slower than reading them (measured: docs/notes/measured-in-code-comments.md).
 */
export function ensureCachedWeights(spec: ModelSpec, opts: WeightCacheOptions = {}): EnsureOutcome {
  const e = entryOf(spec, opts);
  if (!e) return 'not-cached';
  if (entryPresent(e.file, e.source, e.key)) return 'present';
  writeEntry(e.dir, e.file, e.source, e.key, initModelWeights(spec));
  return 'stored';
}

/** Where `spec`'s entry lives, or null when it is not cached (cache off, sources unreadable, model too small). */
function entryOf(
  spec: ModelSpec,
  opts: WeightCacheOptions,
): { dir: string; source: string; key: string; file: string } | null {
  const dir = opts.dir === undefined ? weightCacheDir() : opts.dir;
  const params = paramCountOf(spec);
  const source = dir === null ? null : initSourceDigest();
  if (dir === null || source === null || params === null || params < (opts.minParams ?? CACHE_MIN_PARAMS)) return null;
  const key = specKey(spec);
  return { dir, source, key, file: entryFile(dir, source, key) };
}

/**
 * initModelWeights(spec), from the cache when an entry for this spec and these initializer sources
 * exists; otherwise computed and stored. Returns bit-identical weights either way (each tensor its
 * own Float32Array, as initModelWeights gives — from the cache, views over disjoint parts of one buffer).
 */
export function cachedInitModelWeights(spec: ModelSpec, opts: WeightCacheOptions = {}): CachedWeights {
  const e = entryOf(spec, opts);
  if (!e) return { weights: initModelWeights(spec), source: 'computed' };
  const kept = lastRead?.file === e.file && lastRead.key === e.key ? lastRead : undefined;
  if (kept) {
    // Handed out before: reused only while the file is the one read and the arrays' bytes still
    // match its digest (nothing wrote into them since), else read again.
    if (fileStamp(e.file) === kept.stamp && checkArrays(tensorArrays(kept.weights), kept.digests))
      return { weights: kept.weights, source: 'cache' };
    lastRead = undefined;
  }
  const cached = readEntry(e.file, e.source, e.key);
  if (cached) {
    // the stamp of the state read (readStamped): a later rewrite, even in place, is read again
    lastRead = { file: e.file, key: e.key, ...cached };
    return { weights: cached.weights, source: 'cache' };
  }
  const weights = initModelWeights(spec);
  writeEntry(e.dir, e.file, e.source, e.key, weights);
  return { weights, source: 'computed' };
}
