/**
 * How tensors travel between Node and a page: the raw float32 bytes of every tensor of a message
 * concatenated in one blob (served by / posted to the host's HTTP server), plus a small JSON index.
 * No element is ever read or written one by one on the way, so every bit (NaN payloads, -0) arrives.
 * Used by both sides: no Node or DOM API here.
 */

export interface WireItem {
  key: string;
  shape: number[];
  /** Offset in the blob, in float32 elements (so always 4-byte aligned). */
  offset: number;
  length: number;
}

export interface WireIndex {
  blob: string;
  items: WireItem[];
}

export interface WireTensor {
  key: string;
  shape: number[];
  data: Float32Array;
}

/** Concatenates the tensors' bytes; returns the bytes and the index (blob id filled in by the caller). */
export function packTensors(tensors: readonly WireTensor[]): { bytes: Uint8Array; items: WireItem[] } {
  let total = 0;
  for (const t of tensors) total += t.data.length;
  const out = new Float32Array(total);
  const bytes = new Uint8Array(out.buffer);
  const items: WireItem[] = [];
  let offset = 0;
  for (const t of tensors) {
    let n = 1;
    for (const d of t.shape) n *= d;
    if (n !== t.data.length)
      throw new Error(`wire: tensor '${t.key}' has ${t.data.length} values for shape [${t.shape.join(',')}]`);
    // byte copy (not out.set(t.data), which is also bit-exact in V8, but a byte copy says so)
    bytes.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), offset * 4);
    items.push({ key: t.key, shape: [...t.shape], offset, length: t.data.length });
    offset += t.data.length;
  }
  return { bytes, items };
}

/** Splits a blob back into tensors (views copied into their own buffers). */
export function unpackTensors(bytes: Uint8Array, items: readonly WireItem[]): WireTensor[] {
  return items.map((it) => {
    const start = it.offset * 4;
    const end = start + it.length * 4;
    if (end > bytes.byteLength)
      throw new Error(`wire: tensor '${it.key}' ends at byte ${end}, blob has ${bytes.byteLength}`);
    const copy = new Uint8Array(it.length * 4);
    copy.set(bytes.subarray(start, end));
    return { key: it.key, shape: [...it.shape], data: new Float32Array(copy.buffer) };
  });
}
