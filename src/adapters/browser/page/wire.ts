/**
 * How tensors travel between Node and a page: the raw float32 bytes of every tensor of a message
 * concatenated in one blob (served by / posted to the host's HTTP server), plus a small JSON index.
 * No element is ever read or written one by one on the way, so every bit (NaN payloads, -0) arrives.
 * Used by both sides: no Node or DOM API here.
 */

/**
 * The message of a build whose weights the page was told to keep from the previous build but does not
 * hold under the digest named (the host then sends every weight).
 */
export const HELD_MISMATCH = 'the page does not hold the weights it was told to keep';

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

/**
 * The blob of `tensors` as the list of their bytes, in order, without copying them (byte views of
 * the tensors' own memory: the caller sends them before anything could change them), and the index.
 */
export function layoutTensors(tensors: readonly WireTensor[]): { parts: Uint8Array[]; items: WireItem[] } {
  const parts: Uint8Array[] = [];
  const items: WireItem[] = [];
  let offset = 0;
  for (const t of tensors) {
    let n = 1;
    for (const d of t.shape) n *= d;
    if (n !== t.data.length)
      throw new Error(`wire: tensor '${t.key}' has ${t.data.length} values for shape [${t.shape.join(',')}]`);
    parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    items.push({ key: t.key, shape: [...t.shape], offset, length: t.data.length });
    offset += t.data.length;
  }
  return { parts, items };
}

/** Concatenates the tensors' bytes; returns the bytes and the index (blob id filled in by the caller). */
export function packTensors(tensors: readonly WireTensor[]): { bytes: Uint8Array; items: WireItem[] } {
  const { parts, items } = layoutTensors(tensors);
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const bytes = new Uint8Array(total);
  let at = 0;
  // byte copies (not Float32Array.set, which is also bit-exact in V8, but a byte copy says so)
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  return { bytes, items };
}

function itemBytes(bytes: Uint8Array, it: WireItem): [number, number] {
  const start = it.offset * 4;
  const end = start + it.length * 4;
  if (end > bytes.byteLength)
    throw new Error(`wire: tensor '${it.key}' ends at byte ${end}, blob has ${bytes.byteLength}`);
  return [start, end];
}

/** Splits a blob back into tensors (views copied into their own buffers). */
export function unpackTensors(bytes: Uint8Array, items: readonly WireItem[]): WireTensor[] {
  return items.map((it) => {
    const [start, end] = itemBytes(bytes, it);
    const copy = new Uint8Array(it.length * 4);
    copy.set(bytes.subarray(start, end));
    return { key: it.key, shape: [...it.shape], data: new Float32Array(copy.buffer) };
  });
}

/**
 * Splits a blob into tensors that are views of it (no copy; the offsets are whole float32 elements,
 * so a blob that starts 4-byte aligned gives aligned views). The tensors share the blob's memory:
 * for receivers that only read them (the page hands them to tfjs and ONNX Runtime, which copy them
 * into their own memory) and that do not look at `data.buffer` as a whole.
 */
export function viewTensors(bytes: Uint8Array, items: readonly WireItem[]): WireTensor[] {
  if (bytes.byteOffset % 4 !== 0)
    throw new Error(`wire: a blob at byte offset ${bytes.byteOffset} cannot be viewed as float32 (not 4-byte aligned)`);
  return items.map((it) => {
    const [start] = itemBytes(bytes, it);
    return {
      key: it.key,
      shape: [...it.shape],
      data: new Float32Array(bytes.buffer, bytes.byteOffset + start, it.length),
    };
  });
}
