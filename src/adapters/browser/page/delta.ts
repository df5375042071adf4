/**
 * A blob sent as a delta against the previous blob the page kept: ONNX Runtime Web sessions of one
 * model (plain and capture graphs, inference and training) share their ~94 MB of initializers and
 * differ in a few KB of graph, so the page rebuilds each model from the previous one plus the bytes
 * that differ. The encoder is ../delta.ts (Node); the page applies the ops and checks the result
 * against the sha256 of the whole model, so a delta against anything but the exact bytes the encoder
 * saw is refused (the host then sends the model whole), never used.
 * Used by the page (and the tests): no Node or DOM API here.
 */

/** [kind, offset, length]: kind 0 copies from the previous blob at offset, 1 from the data blob at offset. */
export type DeltaOp = [0 | 1, number, number];

export interface BlobDelta {
  ops: DeltaOp[];
  /** Bytes of the rebuilt blob. */
  size: number;
  /** sha256 of the rebuilt blob, hex. */
  sha256: string;
}

/** The message of a delta whose result does not hash as announced (the host resends the blob whole). */
export const DELTA_MISMATCH = 'model delta does not rebuild the model';

/** The blob `d` rebuilds, written into `into` (a fresh buffer when absent); the result is a view of `into`. */
export function applyDelta(prev: Uint8Array, data: Uint8Array, d: BlobDelta, into?: Uint8Array): Uint8Array {
  if (into && (into.buffer === prev.buffer || into.buffer === data.buffer))
    throw new Error('applyDelta: the output buffer must not be one of the inputs');
  if (into && into.byteLength < d.size)
    throw new Error(`applyDelta: the output buffer holds ${into.byteLength} bytes, ${d.size} needed`);
  const out = into ? into.subarray(0, d.size) : new Uint8Array(d.size);
  let at = 0;
  for (const [kind, offset, length] of d.ops) {
    const src = kind === 0 ? prev : data;
    if (offset < 0 || length < 0 || offset + length > src.byteLength || at + length > d.size)
      throw new Error(`${DELTA_MISMATCH}: op [${kind}, ${offset}, ${length}] is out of range`);
    out.set(src.subarray(offset, offset + length), at);
    at += length;
  }
  if (at !== d.size) throw new Error(`${DELTA_MISMATCH}: the ops give ${at} bytes, expected ${d.size}`);
  return out;
}

/** sha256 (hex) with WebCrypto (the page's crypto.subtle; Node's globalThis.crypto in tests). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = (
    globalThis as unknown as { crypto: { subtle: { digest(a: string, b: Uint8Array): Promise<ArrayBuffer> } } }
  ).crypto.subtle;
  const h = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(h, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Resolves when `bytes` hash to `sha256`; else rejects with an error naming DELTA_MISMATCH. */
export async function verifyBlob(bytes: Uint8Array, sha256: string): Promise<void> {
  const got = await sha256Hex(bytes);
  if (got !== sha256) throw new Error(`${DELTA_MISMATCH}: sha256 ${got}, expected ${sha256}`);
}

/** applyDelta, then the sha256 check: the rebuilt bytes, or an error naming DELTA_MISMATCH. */
export async function rebuildBlob(
  prev: Uint8Array | undefined,
  data: Uint8Array,
  d: BlobDelta,
  into?: Uint8Array,
): Promise<Uint8Array> {
  if (!prev) throw new Error(`${DELTA_MISMATCH}: the page holds no previous model`);
  const out = applyDelta(prev, data, d, into);
  await verifyBlob(out, d.sha256);
  return out;
}
