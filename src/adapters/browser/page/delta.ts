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

export function applyDelta(prev: Uint8Array, data: Uint8Array, d: BlobDelta): Uint8Array {
  const out = new Uint8Array(d.size);
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

/** applyDelta, then the sha256 check: the rebuilt bytes, or an error naming DELTA_MISMATCH. */
export async function rebuildBlob(prev: Uint8Array | undefined, data: Uint8Array, d: BlobDelta): Promise<Uint8Array> {
  if (!prev) throw new Error(`${DELTA_MISMATCH}: the page holds no previous model`);
  const out = applyDelta(prev, data, d);
  const got = await sha256Hex(out);
  if (got !== d.sha256) throw new Error(`${DELTA_MISMATCH}: sha256 ${got}, expected ${d.sha256}`);
  return out;
}
