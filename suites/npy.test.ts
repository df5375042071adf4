import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy, parseNpy, parseNpyRaw, pyShapeRepr, readNpy, writeNpy } from '../src/tensor/npy';
import { Tensor } from '../src/tensor';

// Files written by NumPy 2.4.6, see fixtures/npy-samples/make_samples.py.
const SAMPLES = path.join(__dirname, '..', 'fixtures', 'npy-samples');
const sample = (f: string) => path.join(SAMPLES, f);

function bytesOf(file: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(file));
}

/** Header text of an encoded .npy (version 1.0). */
function headerOf(buf: Uint8Array): { text: string; dataStart: number } {
  const hlen = buf[8] | (buf[9] << 8);
  return { text: Buffer.from(buf.subarray(10, 10 + hlen)).toString('latin1'), dataStart: 10 + hlen };
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npy-test-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('reading NumPy-written files', () => {
  test('float32 2x3 with -0, FLT_MAX and the smallest subnormal', () => {
    const t = readNpy(sample('f4_2x3.npy'));
    expect(t.shape).toEqual([2, 3]);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data)).toEqual([0, -0, 1.5, -2.25, Math.fround(3.4028235e38), Math.fround(1e-45)]);
    expect(Object.is(t.data[1], -0)).toBe(true);
    expect(Object.is(t.data[0], 0)).toBe(true);
  });

  test('float64 0-d array has shape [] and one element', () => {
    const t = readNpy(sample('f8_scalar.npy'));
    expect(t.shape).toEqual([]);
    expect(t.data).toBeInstanceOf(Float64Array);
    expect(Array.from(t.data)).toEqual([Math.PI]);
  });

  test('float64 special values survive', () => {
    const d = readNpy(sample('f8_specials.npy')).data;
    expect(d[0]).toBe(Infinity);
    expect(d[1]).toBe(-Infinity);
    expect(Number.isNaN(d[2])).toBe(true);
    expect(Object.is(d[3], -0)).toBe(true);
    expect(d[4]).toBe(5e-324);
  });

  test('big-endian float32 and float64 are byte-swapped', () => {
    const f4 = parseNpyRaw(bytesOf(sample('f4_big_endian.npy')));
    expect(f4.dtype).toBe('>f4');
    expect(f4.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f4.data as Float32Array)).toEqual([1, -0.5, 65504]);
    const f8 = readNpy(sample('f8_big_endian.npy'));
    expect(f8.shape).toEqual([2, 2]);
    expect(f8.data).toBeInstanceOf(Float64Array);
    expect(Array.from(f8.data)).toEqual([1, 2, 0.1, -1e300]);
  });

  test('integer and bool dtypes: raw typed arrays, Float64Array tensors', () => {
    const u1 = parseNpyRaw(bytesOf(sample('u1.npy')));
    expect(u1.dtype).toBe('|u1');
    expect(u1.data).toBeInstanceOf(Uint8Array);
    expect(readNpy(sample('u1.npy')).data).toEqual(new Float64Array([0, 1, 127, 255]));
    expect(readNpy(sample('i1.npy')).data).toEqual(new Float64Array([-128, -1, 0, 127]));
    const i4 = readNpy(sample('i4.npy'));
    expect(i4.shape).toEqual([2, 2]);
    expect(i4.data).toEqual(new Float64Array([-2147483648, -1, 0, 2147483647]));
    const i8raw = parseNpyRaw(bytesOf(sample('i8.npy')));
    expect(i8raw.data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(i8raw.data as BigInt64Array)).toEqual([-(2n ** 53n), -1n, 0n, 2n ** 53n]);
    expect(readNpy(sample('i8.npy')).data).toEqual(new Float64Array([-(2 ** 53), -1, 0, 2 ** 53]));
    expect(readNpy(sample('b1.npy')).data).toEqual(new Float64Array([1, 0, 1]));
  });

  test('empty array keeps its shape', () => {
    const t = readNpy(sample('f4_empty.npy'));
    expect(t.shape).toEqual([0, 3]);
    expect(t.data.length).toBe(0);
  });

  test("the notebook's test input X (3,4,4,3)", () => {
    const t = readNpy(sample('f4_notebook_X.npy'));
    expect(t.shape).toEqual([3, 4, 4, 3]);
    expect(t.data).toBeInstanceOf(Float32Array);
    const per = 4 * 4 * 3;
    [-1, 1, 3].forEach((v, s) => {
      expect(t.data.subarray(s * per, (s + 1) * per).every((x) => x === v)).toBe(true);
    });
  });

  test('format versions 2.0 and 3.0', () => {
    for (const [f, v] of [
      ['f4_v2.npy', '2.0'],
      ['f4_v3.npy', '3.0'],
    ]) {
      const raw = parseNpyRaw(bytesOf(sample(f)), f);
      expect(raw.version).toBe(v);
      expect(raw.shape).toEqual([3]);
      expect(Array.from(raw.data as Float32Array)).toEqual([1, 2, 3]);
    }
  });

  test.each([
    ['f4_fortran.npy', /fortran_order True/],
    ['structured.npy', /structured/],
    ['f2.npy', /unsupported dtype '<f2'/],
    ['i8_too_big.npy', /cannot be represented exactly/],
  ])('rejects %s with an error naming the file', (f, msg) => {
    const file = sample(f);
    expect(() => readNpy(file)).toThrow(msg);
    expect(() => readNpy(file)).toThrow(file);
  });

  test('encodeNpy reproduces NumPy files byte for byte', () => {
    for (const f of ['f4_2x3.npy', 'f8_scalar.npy', 'f8_specials.npy', 'f4_empty.npy', 'f4_notebook_X.npy']) {
      const bytes = bytesOf(sample(f));
      expect(Buffer.from(encodeNpy(parseNpy(bytes, f))).equals(Buffer.from(bytes))).toBe(true);
    }
  });
});

describe('rejecting broken input', () => {
  const good = () => bytesOf(sample('f4_2x3.npy'));

  test('bad magic', () => {
    const b = good();
    b[1] = 0x58;
    expect(() => parseNpy(b, 'x.npy')).toThrow(/x\.npy.*bad magic/);
    expect(() => parseNpy(new Uint8Array(0), 'empty.npy')).toThrow(/empty\.npy.*bad magic/);
  });

  test('unsupported version', () => {
    const b = good();
    b[6] = 4;
    expect(() => parseNpy(b, 'v4.npy')).toThrow(/v4\.npy.*version 4\.0/);
  });

  test('truncated data and truncated header', () => {
    const b = good();
    expect(() => parseNpy(b.subarray(0, b.length - 1), 'short.npy')).toThrow(
      /short\.npy.*truncated data.*needs 24 bytes, file has 23/,
    );
    expect(() => parseNpy(b.subarray(0, 40), 'hdr.npy')).toThrow(/hdr\.npy.*truncated header/);
  });

  test('trailing bytes', () => {
    const b = good();
    const longer = new Uint8Array(b.length + 4);
    longer.set(b);
    expect(() => parseNpy(longer, 'long.npy')).toThrow(/long\.npy.*4 unexpected trailing bytes/);
  });

  test('malformed headers', () => {
    const mk = (header: string) => {
      const h = new TextEncoder().encode(header);
      const out = new Uint8Array(10 + h.length);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
      out.set(h, 10);
      return out;
    };
    expect(() => parseNpy(mk("{'descr': '<f4', 'shape': (0,), }\n"), 'a.npy')).toThrow(
      /a\.npy.*missing key 'fortran_order'/,
    );
    expect(() => parseNpy(mk("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n"), 'b.npy')).toThrow(
      /b\.npy.*bad shape/,
    );
    expect(() => parseNpy(mk("{'descr': '<f4' 'fortran_order': False}\n"), 'c.npy')).toThrow(
      /c\.npy.*malformed header/,
    );
    expect(() => parseNpy(mk("{'descr': '=f4', 'fortran_order': False, 'shape': (0,), }\n"), 'd.npy')).toThrow(
      /d\.npy.*'=f4'/,
    );
    // A well-formed hand-made header is accepted (Python 2 'L' suffix included).
    const ok = parseNpy(mk("{'descr': '<f8', 'fortran_order': False, 'shape': (0L, 2), }\n"), 'e.npy');
    expect(ok.shape).toEqual([0, 2]);
  });

  test('missing file names the path', () => {
    const f = path.join(tmp, 'nope.npy');
    expect(() => readNpy(f)).toThrow(f);
  });
});

describe('writing', () => {
  test('header layout matches NumPy conventions', () => {
    for (const [shape, repr] of [
      [[], '()'],
      [[3], '(3,)'],
      [[2, 3], '(2, 3)'],
    ] as const) {
      const t: Tensor = { shape: [...shape], data: new Float64Array(shape.reduce((a, b) => a * b, 1)) };
      const buf = encodeNpy(t);
      const { text, dataStart } = headerOf(buf);
      expect(dataStart % 64).toBe(0);
      expect(text.endsWith('\n')).toBe(true);
      expect(text.startsWith(`{'descr': '<f8', 'fortran_order': False, 'shape': ${repr}, }`)).toBe(true);
      expect(buf[6]).toBe(1);
      expect(buf[7]).toBe(0);
    }
    expect(pyShapeRepr([1, 2, 3, 4])).toBe('(1, 2, 3, 4)');
    const f32 = headerOf(encodeNpy({ shape: [1], data: new Float32Array(1) })).text;
    expect(f32).toContain("'descr': '<f4'");
  });

  test('writeNpy round-trips float32 and float64 and leaves no temp files', () => {
    const f4: Tensor = { shape: [2, 2], data: new Float32Array([1.5, -0, NaN, -Infinity]) };
    const f8: Tensor = { shape: [3], data: new Float64Array([0.1, 1e-310, 2 ** 60]) };
    writeNpy(path.join(tmp, 'a.npy'), f4);
    writeNpy(path.join(tmp, 'b.npy'), f8);
    const r4 = readNpy(path.join(tmp, 'a.npy'));
    const r8 = readNpy(path.join(tmp, 'b.npy'));
    expect(r4.data).toBeInstanceOf(Float32Array);
    expect(r4.shape).toEqual([2, 2]);
    expect(Object.is(r4.data[1], -0)).toBe(true);
    expect(Number.isNaN(r4.data[2])).toBe(true);
    expect(r4.data[3]).toBe(-Infinity);
    expect(r8.data).toEqual(f8.data);
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('writeNpy replaces an existing file', () => {
    const f = path.join(tmp, 'replace.npy');
    writeNpy(f, { shape: [1], data: new Float32Array([1]) });
    writeNpy(f, { shape: [2], data: new Float64Array([2, 3]) });
    expect(readNpy(f).data).toEqual(new Float64Array([2, 3]));
  });

  test('writeNpy into a missing directory fails naming the file', () => {
    const f = path.join(tmp, 'no-such-dir', 'x.npy');
    expect(() => writeNpy(f, { shape: [1], data: new Float32Array(1) })).toThrow(f);
  });

  test('encodeNpy rejects inconsistent tensors', () => {
    expect(() => encodeNpy({ shape: [2, 2], data: new Float32Array(3) }, 'bad')).toThrow(/bad.*data length 3/);
    expect(() => encodeNpy({ shape: [-1], data: new Float32Array(0) }, 'neg')).toThrow(/neg.*bad shape/);
  });

  test('random shapes round-trip through encode/parse', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 50; k++) {
      const shape = Array.from({ length: Math.floor(rnd() * 5) }, () => Math.floor(rnd() * 4));
      const n = shape.reduce((a, b) => a * b, 1);
      const data = k % 2 ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = (rnd() - 0.5) * 1e3;
      const back = parseNpy(encodeNpy({ shape, data }));
      expect(back.shape).toEqual(shape);
      expect(back.data.constructor).toBe(data.constructor);
      expect(back.data).toEqual(data);
    }
  });
});
