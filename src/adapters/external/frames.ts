/**
 * Frames of the external adapter protocol (docs/adapter-protocol.md), version 1:
 *
 *   u32 LE  header length H (1 .. MAX_HEADER_BYTES)
 *   H bytes UTF-8 JSON header: an object with `type` (string) and `id` (integer >= 0)
 *   u64 LE  payload length P (0 .. the reader's limit, at most MAX_PAYLOAD_BYTES)
 *   P bytes payload: tensors as .npy bytes, back to back; the header lists them as
 *           `tensors: [{ name, offset, length }]` (offset relative to the payload start)
 *
 * Used by the host (./command.ts) and by the Node test programs (suites/helpers/external/).
 * Every malformed frame is a FrameError naming what is wrong with which frame.
 */
import { parseNpyRaw, encodeNpy } from '../../tensor/npy';
import type { Tensor } from '../../tensor';

export const PROTOCOL_VERSION = 1;
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/**
 * 1 GiB: the fixed cap of a payload when the reader has no tighter limit, more than any tensor set
 * of this project (ResNet-50 weights are ~95 MB as float32; a batch-8 ResNet-50 input is 4.8 MB).
 * The host sets a tighter limit per request (./process.ts, ./command.ts): what that answer can
 * legitimately hold.
 */
export const MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;

export interface TensorRef {
  name: string;
  offset: number;
  length: number;
}

export interface FrameHeader {
  type: string;
  id: number;
  tensors?: TensorRef[];
  [key: string]: unknown;
}

export interface Frame {
  header: FrameHeader;
  payload: Uint8Array;
}

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Encodes one frame: the header (tensor references filled in) and the tensors as .npy bytes. */
export function encodeFrame(
  header: Omit<FrameHeader, 'tensors'>,
  tensors: { name: string; tensor: Tensor }[] = [],
): Buffer {
  const blobs = tensors.map((t) => encodeNpy(t.tensor, t.name));
  const refs: TensorRef[] = [];
  let offset = 0;
  for (let i = 0; i < blobs.length; i++) {
    refs.push({ name: tensors[i].name, offset, length: blobs[i].length });
    offset += blobs[i].length;
  }
  const h = Buffer.from(JSON.stringify(tensors.length ? { ...header, tensors: refs } : header), 'utf8');
  if (h.length > MAX_HEADER_BYTES)
    throw new FrameError(`frame '${header.type}': header of ${h.length} bytes exceeds ${MAX_HEADER_BYTES}`);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(h.length, 0);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(offset), 0);
  return Buffer.concat([prefix, h, len, ...blobs]);
}

/**
 * Incremental frame decoder: push() bytes as they arrive, then take frames with next(). A
 * malformed frame throws FrameError (the stream cannot be resynchronised after one: the caller
 * treats the program as broken).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Frames decoded so far (for error messages: "frame #3"). */
  private count = 0;
  private limit = MAX_PAYLOAD_BYTES;
  private limitWhat = 'any frame (the fixed cap)';

  constructor(private readonly who = 'program') {}

  /**
   * The largest payload the next frames may announce (at most MAX_PAYLOAD_BYTES), and what it is
   * for (named in the error). Checked as soon as the payload length has arrived, before the payload
   * is buffered.
   */
  setPayloadLimit(bytes: number, what: string): void {
    this.limit = Math.min(Math.max(0, Math.floor(bytes)), MAX_PAYLOAD_BYTES);
    this.limitWhat = what;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Bytes received but not yet part of a whole frame. */
  get buffered(): number {
    return this.size;
  }

  private peek(n: number): Buffer {
    if (this.chunks.length > 1 && this.chunks[0].length < n) {
      this.chunks = [Buffer.concat(this.chunks)];
    }
    return this.chunks[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.size -= n;
    return out;
  }

  /** The next whole frame, or undefined when more bytes are needed. */
  next(): Frame | undefined {
    if (this.size < 4) return undefined;
    const n = this.count + 1;
    const hlen = this.peek(4).readUInt32LE(0);
    if (hlen === 0 || hlen > MAX_HEADER_BYTES) {
      const bytes = this.peek(Math.min(this.size, 16));
      throw new FrameError(
        `malformed frame #${n} from the ${this.who}: header length ${hlen} is outside 1..${MAX_HEADER_BYTES} (first bytes: ${hexAscii(bytes)}); is the program printing to stdout?`,
      );
    }
    if (this.size < 4 + hlen + 8) return undefined;
    const head = this.peek(4 + hlen + 8);
    const plen = head.readBigUInt64LE(4 + hlen);
    if (plen > BigInt(this.limit)) {
      throw new FrameError(
        `frame #${n} from the ${this.who}${describeHeader(head.subarray(4, 4 + hlen))} announces a payload of ${plen} bytes, over the limit of ${this.limit} bytes for ${this.limitWhat}; not buffered`,
      );
    }
    const total = 4 + hlen + 8 + Number(plen);
    if (this.size < total) return undefined;
    const frame = this.take(total);
    this.count = n;
    const text = frame.subarray(4, 4 + hlen).toString('utf8');
    let header: unknown;
    try {
      header = JSON.parse(text);
    } catch (e) {
      throw new FrameError(
        `malformed frame #${n} from the ${this.who}: header is not JSON (${(e as Error).message}): ${JSON.stringify(text.slice(0, 120))}`,
      );
    }
    const payload = frame.subarray(4 + hlen + 8);
    return { header: checkHeader(header, payload.length, `frame #${n} from the ${this.who}`), payload };
  }
}

/** " ('run', id 4)" from a header's bytes, or "" when it does not parse. */
function describeHeader(b: Buffer): string {
  try {
    const h = JSON.parse(b.toString('utf8')) as { type?: unknown; id?: unknown };
    return typeof h.type === 'string' ? ` ('${h.type.slice(0, 40)}', id ${JSON.stringify(h.id)})` : '';
  } catch {
    return '';
  }
}

function checkHeader(h: unknown, payloadLength: number, where: string): FrameHeader {
  if (typeof h !== 'object' || h === null || Array.isArray(h))
    throw new FrameError(`malformed ${where}: header must be a JSON object`);
  const o = h as Record<string, unknown>;
  if (typeof o.type !== 'string' || !o.type) throw new FrameError(`malformed ${where}: header has no string 'type'`);
  if (!Number.isSafeInteger(o.id) || (o.id as number) < 0)
    throw new FrameError(
      `malformed ${where} ('${o.type}'): header 'id' must be an integer >= 0, got ${JSON.stringify(o.id)}`,
    );
  if (o.tensors !== undefined) {
    if (!Array.isArray(o.tensors)) throw new FrameError(`malformed ${where} ('${o.type}'): 'tensors' must be a list`);
    for (const t of o.tensors as unknown[]) {
      const r = t as Partial<TensorRef> | null;
      if (
        !r ||
        typeof r.name !== 'string' ||
        !Number.isSafeInteger(r.offset) ||
        !Number.isSafeInteger(r.length) ||
        r.offset! < 0 ||
        r.length! < 0 ||
        r.offset! + r.length! > payloadLength
      ) {
        throw new FrameError(
          `malformed ${where} ('${o.type}'): tensor reference ${JSON.stringify(t)} is not {name, offset, length} inside the ${payloadLength}-byte payload`,
        );
      }
    }
  }
  return o as FrameHeader;
}

/** Decodes every tensor a frame references, by name; a bad .npy is a FrameError naming the tensor and frame. */
export function frameTensors(f: Frame, where = `'${f.header.type}' frame`): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const r of f.header.tensors ?? []) {
    if (out.has(r.name)) throw new FrameError(`malformed ${where}: tensor '${r.name}' appears twice`);
    const bytes = f.payload.subarray(r.offset, r.offset + r.length);
    let raw;
    try {
      raw = parseNpyRaw(bytes, `tensor '${r.name}'`);
    } catch (e) {
      throw new FrameError(`malformed ${where}: ${(e as Error).message}`);
    }
    if (!(raw.data instanceof Float32Array) && !(raw.data instanceof Float64Array)) {
      throw new FrameError(
        `malformed ${where}: tensor '${r.name}' has dtype '${raw.dtype}'; protocol tensors are float32 ('<f4') or float64 ('<f8')`,
      );
    }
    out.set(r.name, { shape: raw.shape, data: raw.data });
  }
  return out;
}

function hexAscii(b: Buffer): string {
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
  const ascii = Array.from(b, (x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
  return `${hex} "${ascii}"`;
}
