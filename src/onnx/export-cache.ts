/**
 * Serialized ONNX exports, shared by every ONNX Runtime adapter worker of a run (and the runs after
 * it) through an on-disk cache. Exporting ResNet-50 (transposing 23.6 M kernel values, then
 * protobufjs serializing 94 MB) costs each adapter far more per BatchNormalization mode and capture
 * set than reading the bytes back and checking them (numbers in docs/notes/2026-12-07-speed-caches.md). The bytes are a pure function of the spec, the weights and the export
 * options, so four ONNX Runtime adapters that export the same model get the same bytes: computed by
 * the first, read by the others.
 *
 * An entry is keyed by a sha256 over
 *   - the exporter's source (every file of src/onnx and src/model, and package.json whose version
 *     the model records: editing the exporter or the spec code never reads a stale entry),
 *   - the spec (JSON), the export options (BatchNormalization mode, capture list in order),
 *   - the weights: every tensor's layer, name, shape, trainable flag and the sha256 of its float32 bytes,
 * so other weights (the perturbed set, a stateful stream) are another entry. Each file records the
 * sha256 of its bytes, checked on every read (by the first reader of the file in a run; the other
 * workers of the run compare the file's stamp with that reader's record, src/util/verified-files.ts);
 * a file that does not match (truncated, corrupted, foreign) is ignored and the model exported again. Files are written under a temporary name and
 * renamed into place, so concurrent workers never read half a file.
 *
 * Only large models are cached (a small block exports faster than a file is read).
 * Location: <package>/node_modules/.cache/resnet-conformance/onnx, or the directory named by
 * RESNET_CONFORMANCE_ONNX_CACHE; `RESNET_CONFORMANCE_ONNX_CACHE=off` disables it.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { ModelSpec, ModelWeights } from '../model/types';
import { cacheDirFromEnv } from '../util/cache-dir';
import { sourceDigest } from '../util/source-digest';
import { packageRoot } from '../util/package-root';
import { writeFileAtomic } from '../util/fs';
import { readStamped, recordVerified, verifiedInRun } from '../util/verified-files';
import { checkedOrComputedSha256 } from '../util/array-digest';
import { buildOnnxModel, type OnnxExportOptions, type OnnxModel } from './export';
import { encodeModel } from './proto';

export const ONNX_CACHE_ENV = 'RESNET_CONFORMANCE_ONNX_CACHE';
/** Models with fewer parameters than this are exported directly. */
export const ONNX_CACHE_MIN_PARAMS = 1_000_000;
/** Entries kept (oldest removed beyond that): ResNet-50 and its perturbed set, 2 modes × plain/capture each. */
const MAX_ENTRIES = 12;
const MAGIC = 'RCONNX1\n';
const CACHE_SOURCE = path.basename(__filename);

/** An export without its ModelProto: the graph's input/output names and the serialized bytes. */
export type OnnxExport = Omit<OnnxModel, 'proto'> & { bytes: Uint8Array };

export interface OnnxCacheOptions {
  /** Cache directory; null disables the cache. Default: onnxCacheDir(). */
  dir?: string | null;
  /** Smallest parameter count to cache (default ONNX_CACHE_MIN_PARAMS). */
  minParams?: number;
}

interface EntryHeader {
  key: string;
  sha256: string;
  length: number;
  io: Omit<OnnxModel, 'proto'>;
}

/** The cache directory in effect, or null when disabled. */
export function onnxCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  return cacheDirFromEnv(env[ONNX_CACHE_ENV], 'onnx');
}

let sourceDigestMemo: string | null | undefined;

/** sha256 over the exporter's and the model code's sources (this file excepted) and package.json, or null when unreadable (no caching). */
export function exporterSourceDigest(): string | null {
  // the package version is the models' producerVersion
  if (sourceDigestMemo === undefined)
    sourceDigestMemo = sourceDigest([__dirname, path.join(__dirname, '..', 'model')], {
      skip: CACHE_SOURCE,
      files: [path.join(packageRoot(), 'package.json')],
    });
  return sourceDigestMemo;
}

/**
 * Digest of the weights (per tensor: layer, name, shape, trainable, sha256 of the float32 bytes),
 * memoized per weights object. A tensor's sha256 is the one the weight cache checked when it handed
 * the array out (src/util/array-digest.ts), else computed here: the notebook set read from the cache
 * costs no hashing here, the perturbed set only that of its own new arrays.
 */
const weightDigests = new WeakMap<ModelWeights, string>();

export function weightsDigest(weights: ModelWeights): string {
  const have = weightDigests.get(weights);
  if (have) return have;
  const h = createHash('sha256');
  for (const [layer, list] of weights) {
    h.update(`${JSON.stringify(layer)}\0${list.length}\0`);
    for (const w of list) {
      h.update(`${JSON.stringify([w.name, w.shape, w.trainable, w.data.length])}\0`);
      // float32 bytes as the exporter writes them (it asserts a little-endian host)
      h.update(`${checkedOrComputedSha256(w.data)}\0`);
    }
  }
  const d = h.digest('hex');
  weightDigests.set(weights, d);
  return d;
}

function paramsOf(weights: ModelWeights): number {
  let n = 0;
  for (const list of weights.values()) for (const w of list) n += w.data.length;
  return n;
}

function exportNow(spec: ModelSpec, weights: ModelWeights, opts: OnnxExportOptions): OnnxExport {
  const { proto, ...io } = buildOnnxModel(spec, weights, opts);
  return { ...io, bytes: encodeModel(proto) };
}

function entryKey(source: string, spec: ModelSpec, weights: ModelWeights, opts: OnnxExportOptions): string {
  return createHash('sha256')
    .update(source)
    .update('\0')
    .update(JSON.stringify(spec))
    .update('\0')
    .update(JSON.stringify({ training: opts.training, capture: opts.capture ?? [] }))
    .update('\0')
    .update(weightsDigest(weights))
    .digest('hex');
}

function readEntry(file: string, key: string): OnnxExport | null {
  const read = readStamped(file);
  if (!read) return null;
  const buf = read.bytes;
  try {
    if (buf.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) return null;
    const headerLen = buf.readUInt32LE(MAGIC.length);
    const start = MAGIC.length + 4;
    const header = JSON.parse(buf.subarray(start, start + headerLen).toString('utf8')) as EntryHeader;
    const bytes = buf.subarray(start + headerLen);
    if (header.key !== key || header.length !== bytes.length) return null;
    // Recomputed unless a worker of this run checked the file in this very state (src/util/verified-files.ts).
    if (!verifiedInRun(file, read, header.sha256)) {
      if (createHash('sha256').update(bytes).digest('hex') !== header.sha256) return null;
      recordVerified(file, read, header.sha256);
    }
    return { ...header.io, bytes };
  } catch {
    return null;
  }
}

function writeEntry(dir: string, file: string, key: string, e: OnnxExport): void {
  const { bytes, ...io } = e;
  const header: EntryHeader = {
    key,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    length: bytes.length,
    io,
  };
  const hb = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(hb.length);
  try {
    writeFileAtomic(file, [Buffer.from(MAGIC, 'latin1'), len, hb, bytes]);
  } catch {
    return; // a cache that cannot be written is no error
  }
  prune(dir, file);
}

/** Removes the oldest entries beyond MAX_ENTRIES (best effort). */
function prune(dir: string, keep: string): void {
  try {
    const entries = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.onnxc'))
      .map((f) => path.join(dir, f))
      .filter((f) => f !== keep)
      .map((file) => ({ file, mtime: fs.statSync(file).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const e of entries.slice(MAX_ENTRIES - 1)) fs.rmSync(e.file, { force: true });
  } catch {
    /* pruning is best effort */
  }
}

/**
 * buildOnnxModel + encodeModel of `spec` with `weights`, read from the cache when an entry for the
 * same exporter sources, spec, options and weight values exists; otherwise exported and stored.
 * Bit-identical bytes either way.
 */
export function cachedOnnxExport(
  spec: ModelSpec,
  weights: ModelWeights,
  opts: OnnxExportOptions,
  cache: OnnxCacheOptions = {},
): OnnxExport & { source: 'cache' | 'exported' } {
  const dir = cache.dir === undefined ? onnxCacheDir() : cache.dir;
  const source = dir === null ? null : exporterSourceDigest();
  if (dir === null || source === null || paramsOf(weights) < (cache.minParams ?? ONNX_CACHE_MIN_PARAMS))
    return { ...exportNow(spec, weights, opts), source: 'exported' };
  const key = entryKey(source, spec, weights, opts);
  const file = path.join(dir, `${key.slice(0, 40)}.onnxc`);
  const hit = readEntry(file, key);
  if (hit) return { ...hit, source: 'cache' };
  const e = exportNow(spec, weights, opts);
  writeEntry(dir, file, key, e);
  return { ...e, source: 'exported' };
}
