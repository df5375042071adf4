/**
 * The encoder of ./page/delta.ts: `next` as copies of byte ranges of `prev` plus the bytes found
 * nowhere near in `prev`. Every copy is of ranges compared equal here (Buffer.compare), so the delta
 * is exact by construction; the page checks the result's sha256 as well.
 *
 * It looks for `next`'s bytes in `prev` at the current shift first (an ONNX graph with a few nodes or
 * outputs more has its initializers at a shifted offset), and after a mismatch searches a 64-byte
 * probe within SEARCH_WINDOW of that shift. It gives up (null: send `next` whole) when `prev` is no
 * help: more than half of `next` would be literal, or too many probes in a row find nothing, or at
 * once when `prev` is less than half the size of `next` (e.g. a block model before a ResNet-50): the
 * search would scan up to MAX_MISSES_IN_A_ROW windows of `prev` before giving up.
 */
import { createHash } from 'node:crypto';
import type { BlobDelta, DeltaOp } from './page/delta';

const PROBE = 64;
/** Literal bytes skipped after a probe found nothing. */
const STEP = 4096;
/** Shortest copy worth an op. */
const MIN_COPY = 1024;
const SEARCH_WINDOW = 8 << 20;
const MAX_MISSES_IN_A_ROW = 64;

function buf(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** How many bytes from prev[p] on equal next[n] on. */
function matchLength(prev: Buffer, p: number, next: Buffer, n: number): number {
  let len = 0;
  let chunk = 4096;
  for (;;) {
    const k = Math.min(chunk, prev.length - p - len, next.length - n - len);
    if (k <= 0) return len;
    if (next.compare(prev, p + len, p + len + k, n + len, n + len + k) === 0) {
      len += k;
      chunk = Math.min(chunk * 2, 1 << 20);
      continue;
    }
    for (let i = 0; i < k; i++) if (prev[p + len + i] !== next[n + len + i]) return len + i;
    return len + k;
  }
}

export interface EncodedDelta extends BlobDelta {
  /** The literal bytes, in op order: views of `next` (the data blob is their concatenation). */
  parts: Uint8Array[];
  /** Bytes that travel (the literal parts). */
  literalBytes: number;
}

export function encodeDelta(prevU: Uint8Array, nextU: Uint8Array): EncodedDelta | null {
  if (prevU.byteLength * 2 < nextU.byteLength) return null;
  const prev = buf(prevU);
  const next = buf(nextU);
  const ops: DeltaOp[] = [];
  const parts: Uint8Array[] = [];
  let literalBytes = 0;
  let litStart = 0;
  const flushLiteral = (end: number): void => {
    if (end > litStart) {
      ops.push([1, literalBytes, end - litStart]);
      parts.push(nextU.subarray(litStart, end));
      literalBytes += end - litStart;
    }
  };
  let i = 0;
  let shift = 0;
  let misses = 0;
  while (i < next.length) {
    const p = i + shift;
    const m = p >= 0 && p < prev.length ? matchLength(prev, p, next, i) : 0;
    if (m >= MIN_COPY) {
      flushLiteral(i);
      ops.push([0, p, m]);
      i += m;
      litStart = i;
      misses = 0;
      continue;
    }
    let found = -1;
    if (i + PROBE <= next.length) {
      const lo = Math.max(0, i + shift - SEARCH_WINDOW);
      const hi = Math.min(prev.length, i + shift + SEARCH_WINDOW);
      const at = prev.subarray(lo, hi).indexOf(next.subarray(i, i + PROBE));
      if (at >= 0) found = lo + at;
    }
    if (found >= 0 && found - i !== shift && matchLength(prev, found, next, i) >= MIN_COPY) {
      shift = found - i;
      continue;
    }
    i = Math.min(next.length, i + STEP);
    if (++misses > MAX_MISSES_IN_A_ROW) return null;
  }
  flushLiteral(next.length);
  if (literalBytes * 2 > next.length) return null;
  return {
    ops,
    parts,
    literalBytes,
    size: next.length,
    sha256: createHash('sha256').update(next).digest('hex'),
  };
}
