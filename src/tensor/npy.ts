/**
 * NumPy .npy reading and writing (format versions 1.0, 2.0 and 3.0).
 *
 * Layout of a .npy file: the magic bytes "\x93NUMPY", one byte major and one
 * byte minor version, the header length (uint16 little-endian for 1.0, uint32
 * for 2.0/3.0), the header (latin-1 for 1.0/2.0, UTF-8 for 3.0), then the raw
 * array data. The header is a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and ending in '\n'.
 *
 * Reading: dtypes '<f4' '>f4' '<f8' '>f8' '|u1' '|i1' '|b1' '<i4' '>i4'
 * '<i8' '>i8' are accepted. parseNpyRaw returns the data in its own typed
 * array (native byte order); parseNpy/readNpy return a Tensor whose data is
 * Float32Array for f4 and Float64Array for everything else (int64 values
 * that float64 cannot hold exactly, such as 2^53 + 1, are rejected).
 * Rejected with an error naming the file: bad magic, unknown version,
 * malformed header, fortran_order True, structured or other dtypes,
 * truncated data and unexpected trailing bytes.
 *
 * Writing: version 1.0 (2.0 only if the header would not fit), '<f4' for
 * Float32Array and '<f8' for Float64Array, header laid out the way NumPy
 * writes it (same key order, shape repr, growth padding, data offset a
 * multiple of 64), so our files are byte-identical to numpy.save output.
 * writeNpy writes a temporary file in the target directory and renames it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor, sizeOf } from './index';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const PREFIX_LEN_V1 = 10; // magic(6) + version(2) + uint16 length
const PREFIX_LEN_V2 = 12; // magic(6) + version(2) + uint32 length
const ALIGN = 64;
/** NumPy leaves room for the first axis to grow to this many digits. */
const GROWTH_AXIS_MAX_DIGITS = 21;

export type NpyTypedArray = Float32Array | Float64Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

export interface NpyRaw {
  /** The descr string exactly as in the header, e.g. '<f4'. */
  dtype: string;
  shape: number[];
  fortranOrder: boolean;
  /** Elements in native byte order, row-major. '|b1' is returned as 0/1 in a Uint8Array. */
  data: NpyTypedArray;
  /** Format version as 'major.minor'. */
  version: string;
}

interface DtypeInfo {
  itemSize: number;
  make: (n: number) => NpyTypedArray;
  /** Reads element i from a DataView at byteOffset (used for byte-swapping / unaligned fallback). */
  get: (v: DataView, byteOffset: number, littleEndian: boolean) => number | bigint;
}

const KIND_INFO: Record<string, DtypeInfo> = {
  f4: { itemSize: 4, make: (n) => new Float32Array(n), get: (v, o, le) => v.getFloat32(o, le) },
  f8: { itemSize: 8, make: (n) => new Float64Array(n), get: (v, o, le) => v.getFloat64(o, le) },
  u1: { itemSize: 1, make: (n) => new Uint8Array(n), get: (v, o) => v.getUint8(o) },
  b1: { itemSize: 1, make: (n) => new Uint8Array(n), get: (v, o) => v.getUint8(o) },
  i1: { itemSize: 1, make: (n) => new Int8Array(n), get: (v, o) => v.getInt8(o) },
  i4: { itemSize: 4, make: (n) => new Int32Array(n), get: (v, o, le) => v.getInt32(o, le) },
  i8: { itemSize: 8, make: (n) => new BigInt64Array(n), get: (v, o, le) => v.getBigInt64(o, le) },
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(name: string, msg: string): never {
  throw new Error(`npy ${name}: ${msg}`);
}

// ---------------------------------------------------------------------------
// Header literal parser: the subset of Python literals NumPy writes
// (dict, tuple, list, str, int, True/False/None).
// ---------------------------------------------------------------------------

type PyValue = string | number | boolean | null | PyValue[] | PyDict | PyTuple;
interface PyTuple {
  tuple: PyValue[];
}
interface PyDict {
  dict: Map<string, PyValue>;
}

class HeaderParser {
  private pos = 0;
  constructor(
    private readonly src: string,
    private readonly name: string,
  ) {}

  parseTop(): PyValue {
    const v = this.value();
    this.ws();
    if (this.pos !== this.src.length) this.err(`unexpected text after the header dict`);
    return v;
  }

  private err(msg: string): never {
    fail(this.name, `malformed header (${msg} at offset ${this.pos}): ${JSON.stringify(this.src.trim())}`);
  }

  private ws(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }

  private value(): PyValue {
    this.ws();
    const c = this.src[this.pos];
    if (c === undefined) this.err('unexpected end');
    if (c === '{') return this.dict();
    if (c === '(') return { tuple: this.sequence('(', ')') };
    if (c === '[') return this.sequence('[', ']');
    if (c === "'" || c === '"') return this.str();
    if (/[0-9+-]/.test(c)) return this.int();
    for (const [word, val] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (this.src.startsWith(word, this.pos)) {
        this.pos += word.length;
        return val;
      }
    }
    this.err(`unexpected character ${JSON.stringify(c)}`);
  }

  private dict(): PyDict {
    const dict = new Map<string, PyValue>();
    this.pos++; // {
    for (;;) {
      this.ws();
      if (this.src[this.pos] === '}') {
        this.pos++;
        return { dict };
      }
      const key = this.value();
      if (typeof key !== 'string') this.err('dict key is not a string');
      this.ws();
      if (this.src[this.pos] !== ':') this.err("expected ':'");
      this.pos++;
      if (dict.has(key)) this.err(`duplicate key '${key}'`);
      dict.set(key, this.value());
      this.ws();
      if (this.src[this.pos] === ',') this.pos++;
      else if (this.src[this.pos] !== '}') this.err("expected ',' or '}'");
    }
  }

  private sequence(open: string, close: string): PyValue[] {
    const items: PyValue[] = [];
    this.pos++; // open
    for (;;) {
      this.ws();
      if (this.src[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.ws();
      if (this.src[this.pos] === ',') this.pos++;
      else if (this.src[this.pos] !== close) this.err(`expected ',' or '${close}' after item in '${open}${close}'`);
    }
  }

  private str(): string {
    const q = this.src[this.pos++];
    let out = '';
    while (this.pos < this.src.length) {
      const c = this.src[this.pos++];
      if (c === q) return out;
      if (c === '\\') {
        const n = this.src[this.pos++];
        if (n === undefined) break;
        out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
      } else {
        out += c;
      }
    }
    this.err('unterminated string');
  }

  private int(): number {
    const m = /^[+-]?[0-9]+L?/.exec(this.src.slice(this.pos)); // 'L': Python 2 long suffix
    if (!m) this.err('bad number');
    this.pos += m[0].length;
    const n = Number(m[0].replace('L', ''));
    if (!Number.isSafeInteger(n)) this.err(`integer ${m[0]} out of range`);
    return n;
  }
}

function isDict(v: PyValue): v is PyDict {
  return typeof v === 'object' && v !== null && 'dict' in v;
}
function isTuple(v: PyValue): v is PyTuple {
  return typeof v === 'object' && v !== null && 'tuple' in v;
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/** Parses a .npy buffer into its dtype, shape and a typed array of the file's own element type. */
export function parseNpyRaw(buf: Uint8Array, name = '<buffer>'): NpyRaw {
  if (buf.length < PREFIX_LEN_V1 || MAGIC.some((b, i) => buf[i] !== b)) {
    const got = Array.from(buf.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ');
    fail(name, `not a .npy file (bad magic: expected 93 4e 55 4d 50 59 "\\x93NUMPY", got ${got || 'nothing'})`);
  }
  const major = buf[6];
  const minor = buf[7];
  const version = `${major}.${minor}`;
  if (minor !== 0 || major < 1 || major > 3)
    fail(name, `unsupported .npy format version ${version} (supported: 1.0, 2.0, 3.0)`);

  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = PREFIX_LEN_V1;
  } else {
    if (buf.length < PREFIX_LEN_V2)
      fail(name, `truncated: ${buf.length} bytes, too short for a version ${version} prefix`);
    headerLen = view.getUint32(8, true);
    headerStart = PREFIX_LEN_V2;
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > buf.length) {
    fail(
      name,
      `truncated header: header claims ${headerLen} bytes but the file has only ${buf.length - headerStart} after the prefix`,
    );
  }
  const headerBytes = buf.subarray(headerStart, dataStart);
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);

  const top = new HeaderParser(headerText, name).parseTop();
  if (!isDict(top)) fail(name, `malformed header: expected a dict literal, got ${JSON.stringify(headerText.trim())}`);
  const d = top.dict;
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!d.has(key)) fail(name, `malformed header: missing key '${key}'`);
  }
  const extra = [...d.keys()].filter((k) => !['descr', 'fortran_order', 'shape'].includes(k));
  if (extra.length > 0) fail(name, `malformed header: unexpected key(s) ${extra.map((k) => `'${k}'`).join(', ')}`);

  const descr = d.get('descr')!;
  if (typeof descr !== 'string')
    fail(name, `unsupported dtype: structured/record dtypes are not supported (descr ${JSON.stringify(descr)})`);
  const fortran = d.get('fortran_order');
  if (typeof fortran !== 'boolean') fail(name, `malformed header: fortran_order must be True or False`);
  if (fortran)
    fail(
      name,
      `fortran_order True (column-major) arrays are not supported; save a C-ordered array (numpy.ascontiguousarray)`,
    );
  const shapeV = d.get('shape')!;
  if (!isTuple(shapeV)) fail(name, `malformed header: shape must be a tuple`);
  const shape = shapeV.tuple.map((s) => {
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0)
      fail(name, `malformed header: bad shape entry ${JSON.stringify(s)}`);
    return s;
  });

  const m = /^([<>|=])([a-z])([0-9]+)$/.exec(descr);
  const info = m ? KIND_INFO[m[2] + m[3]] : undefined;
  if (!m || !info) {
    fail(name, `unsupported dtype '${descr}' (supported: <f4 >f4 <f8 >f8 |u1 |i1 |b1 <i4 >i4 <i8 >i8)`);
  }
  const order = m[1];
  if (order === '=') fail(name, `unsupported dtype '${descr}': native byte order '=' is ambiguous in a file`);
  if (info.itemSize > 1 && order === '|')
    fail(name, `unsupported dtype '${descr}': multi-byte type without byte order`);
  const littleEndian = order !== '>';

  const count = sizeOf(shape);
  if (!Number.isSafeInteger(count * info.itemSize)) fail(name, `shape (${shape.join(', ')}) is too large`);
  const need = count * info.itemSize;
  const have = buf.length - dataStart;
  if (have < need) {
    fail(
      name,
      `truncated data: shape (${shape.join(', ')}) of '${descr}' needs ${need} bytes, file has ${have} after the header`,
    );
  }
  if (have > need) fail(name, `${have - need} unexpected trailing bytes after the data of shape (${shape.join(', ')})`);

  const data = info.make(count);
  if (info.itemSize === 1 || littleEndian === HOST_LITTLE_ENDIAN) {
    // Copy the bytes straight into a fresh (aligned) buffer.
    new Uint8Array(data.buffer, data.byteOffset, need).set(buf.subarray(dataStart, dataStart + need));
  } else {
    const dst = data as unknown as { [i: number]: number | bigint };
    for (let i = 0, o = dataStart; i < count; i++, o += info.itemSize) dst[i] = info.get(view, o, littleEndian);
  }
  if (m[2] === 'b') {
    const u = data as Uint8Array;
    for (let i = 0; i < count; i++)
      if (u[i] > 1) fail(name, `bool element ${i} has byte value ${u[i]} (expected 0 or 1)`);
  }
  return { dtype: descr, shape, fortranOrder: false, data, version };
}

/**
 * Parses a .npy buffer into a Tensor: Float32Array for f4 files, Float64Array
 * for every other supported dtype (ints, bools, f8).
 */
export function parseNpy(buf: Uint8Array, name = '<buffer>'): Tensor {
  const raw = parseNpyRaw(buf, name);
  const { data } = raw;
  if (data instanceof Float32Array || data instanceof Float64Array) return { shape: raw.shape, data };
  const out = new Float64Array(data.length);
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      const x = Number(v);
      if (BigInt(x) !== v) fail(name, `int64 element ${i} (${v}) cannot be represented exactly as float64`);
      out[i] = x;
    }
  } else {
    out.set(data);
  }
  return { shape: raw.shape, data: out };
}

/** Reads a .npy file into a Tensor (see parseNpy). Errors name the file. */
export function readNpy(file: string): Tensor {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    fail(file, `cannot read: ${(e as Error).message}`);
  }
  return parseNpy(buf, file);
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/** Python repr of a shape tuple: '()', '(3,)', '(2, 3)'. */
export function pyShapeRepr(shape: readonly number[]): string {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

function checkTensorForWrite(t: Tensor, name: string): void {
  if (!(t.data instanceof Float32Array) && !(t.data instanceof Float64Array)) {
    fail(name, `cannot write: data must be Float32Array or Float64Array`);
  }
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail(name, `cannot write: bad shape [${t.shape.join(', ')}]`);
  }
  const n = sizeOf(t.shape);
  if (t.data.length !== n) {
    fail(
      name,
      `cannot write: data length ${t.data.length} does not match shape [${t.shape.join(', ')}] (${n} elements)`,
    );
  }
}

/** Encodes a float32/float64 tensor as .npy bytes (C order, little-endian), byte-identical to numpy.save. */
export function encodeNpy(t: Tensor, name = '<tensor>'): Uint8Array {
  checkTensorForWrite(t, name);
  const descr = t.data instanceof Float32Array ? '<f4' : '<f8';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${pyShapeRepr(t.shape)}, }`;
  if (t.shape.length > 0) header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(t.shape[0]).length));

  let prefixLen = PREFIX_LEN_V1;
  let hlen = header.length + 1; // + '\n'
  let pad = (ALIGN - ((prefixLen + hlen) % ALIGN)) % ALIGN;
  let major = 1;
  if (hlen + pad > 0xffff) {
    major = 2;
    prefixLen = PREFIX_LEN_V2;
    pad = (ALIGN - ((prefixLen + hlen) % ALIGN)) % ALIGN;
  }
  hlen += pad;
  const dataStart = prefixLen + hlen;
  const dataBytes = t.data.byteLength;
  const out = new Uint8Array(dataStart + dataBytes);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, hlen, true);
  else view.setUint32(8, hlen, true);
  for (let i = 0; i < header.length; i++) out[prefixLen + i] = header.charCodeAt(i); // ASCII only
  out.fill(0x20, prefixLen + header.length, dataStart - 1);
  out[dataStart - 1] = 0x0a;

  if (HOST_LITTLE_ENDIAN) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, dataBytes), dataStart);
  } else {
    const f32 = t.data instanceof Float32Array;
    for (let i = 0; i < t.data.length; i++) {
      if (f32) view.setFloat32(dataStart + 4 * i, t.data[i], true);
      else view.setFloat64(dataStart + 8 * i, t.data[i], true);
    }
  }
  return out;
}

/**
 * Writes a tensor as .npy: float32 → '<f4', float64 → '<f8'. Atomic: the bytes
 * go to a temporary file in the same directory, which is then renamed over
 * `file`, so readers never see a partial file.
 */
export function writeNpy(file: string, t: Tensor): void {
  const bytes = encodeNpy(t, file);
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* temp file may not exist */
    }
    fail(file, `cannot write: ${(e as Error).message}`);
  }
}
