import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computeFans,
  constant,
  glorotUniform,
  initialize,
  initModelWeights,
  kerasSeedPair,
  ones,
  philoxBlock,
  philoxFillUint32,
  randomUniform,
  statelessUniform,
  tfStatelessKeyCounter,
  zeros,
} from '../src/init';
import { initCommand } from '../src/cli/commands/init';
import { readNpy } from '../src/tensor/npy';
import { resnet50 } from '../src/model/builders';
import type { InitializerSpec, ModelSpec } from '../src/model/types';

const FIXTURES = join(__dirname, '..', 'fixtures', 'init');

interface BitsEntry {
  count: number;
  sha256: string;
  bits?: string[];
  headBits?: string[];
  tailBits?: string[];
}
interface InitVector extends BitsEntry {
  kind: InitializerSpec['kind'];
  args: { seed?: number; minval?: number; maxval?: number; value?: number };
  shape: number[];
  call: string;
}
interface KerasVectors {
  provenance: Record<string, string>;
  initializers: InitVector[];
  rawPhilox: { key: string[]; counter: string[]; bits: string[]; call: string }[];
  keyCounter: { seed: [number, number]; key: string[]; counter: string[]; call: string }[];
  statelessUniform: (BitsEntry & {
    seed: [number, number];
    minval: number;
    maxval: number;
    shape: number[];
    call: string;
  })[];
  resnet50: {
    totalParams: number;
    weights: (BitsEntry & { layer: string; className: string; name: string; shape: number[]; trainable: boolean })[];
  };
}
interface IssueVectors {
  provenance: string;
  vectors: {
    kind: InitializerSpec['kind'];
    args: InitVector['args'];
    shape: number[];
    values: number[];
    precision: 'float32-shortest' | `decimals:${number}`;
  }[];
}

const keras = JSON.parse(readFileSync(join(FIXTURES, 'keras-vectors.json'), 'utf8')) as KerasVectors;
const issue = JSON.parse(readFileSync(join(FIXTURES, 'issue-vectors.json'), 'utf8')) as IssueVectors;

const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
const words = (ws: string[]): number[] => ws.map((w) => parseInt(w, 16) >>> 0);

/** uint32 bit patterns of float32 data, as 8-digit hex. */
function bitsOf(data: Float32Array): string[] {
  return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length), hex);
}

/** sha256 of the float32 values written little-endian, row-major. */
function sha256F32(data: Float32Array): string {
  let buf: Buffer;
  if (endianness() === 'LE') {
    buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  } else {
    buf = Buffer.alloc(data.length * 4);
    for (let i = 0; i < data.length; i++) buf.writeFloatLE(data[i], i * 4);
  }
  return createHash('sha256').update(buf).digest('hex');
}

function expectMatches(actual: Float32Array, expected: BitsEntry, what: string): void {
  expect({ what, count: actual.length }).toEqual({ what, count: expected.count });
  if (expected.bits) expect({ what, bits: bitsOf(actual) }).toEqual({ what, bits: expected.bits });
  if (expected.headBits) {
    const head = bitsOf(actual.subarray(0, expected.headBits.length));
    expect({ what, head }).toEqual({ what, head: expected.headBits });
  }
  if (expected.tailBits) {
    const tail = bitsOf(actual.subarray(actual.length - expected.tailBits.length));
    expect({ what, tail }).toEqual({ what, tail: expected.tailBits });
  }
  expect({ what, sha256: sha256F32(actual) }).toEqual({ what, sha256: expected.sha256 });
}

function specOf(kind: InitializerSpec['kind'], args: InitVector['args']): InitializerSpec {
  switch (kind) {
    case 'glorot_uniform':
      return { kind, seed: args.seed as number };
    case 'random_uniform':
      return { kind, seed: args.seed as number, minval: args.minval as number, maxval: args.maxval as number };
    case 'constant':
      return { kind, value: args.value as number };
    case 'zeros':
    case 'ones':
      return { kind };
  }
}

describe('fixture provenance', () => {
  it('records the Keras/TF versions the vectors came from', () => {
    expect(keras.provenance.tensorflow).toBe('2.21.0');
    expect(keras.provenance.keras).toBe('3.15.1');
    expect(keras.provenance.command).toContain('fixtures/generate/init_vectors.py');
    expect(issue.provenance).toBe('issue #2 text / TF 2.21');
  });
});

describe('Philox4x32-10 (raw words from TF StatelessRandomUniformFullIntV2)', () => {
  it.each(keras.rawPhilox.map((v) => [v.call, v] as const))('%s', (_call, v) => {
    const out = new Uint32Array(v.bits.length);
    const counter = words(v.counter) as [number, number, number, number];
    philoxFillUint32({ key: words(v.key) as [number, number], counter }, out);
    expect(Array.from(out, hex)).toEqual(v.bits);
  });

  it('philoxBlock does not advance the counter it is given', () => {
    const ctr: [number, number, number, number] = [0, 0, 0, 0];
    const a = new Uint32Array(4);
    const b = new Uint32Array(4);
    philoxBlock(ctr, [0, 0], a);
    philoxBlock(ctr, [0, 0], b);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(ctr).toEqual([0, 0, 0, 0]);
  });
});

describe('TF GenerateKey (seed pair -> key/counter)', () => {
  it.each(keras.keyCounter.map((v) => [v.call, v] as const))('%s', (_call, v) => {
    const st = tfStatelessKeyCounter(v.seed[0], v.seed[1]);
    expect(st.key.map(hex)).toEqual(v.key);
    expect(st.counter.map(hex)).toEqual(v.counter);
  });

  it('rejects seeds outside int32', () => {
    expect(() => tfStatelessKeyCounter(2 ** 31, 0)).toThrow(/seed\[0\].*int32/);
    expect(() => tfStatelessKeyCounter(0, 1.5)).toThrow(/seed\[1\].*int32/);
  });
});

describe('tf.random.stateless_uniform with explicit int32 seed pairs', () => {
  it.each(keras.statelessUniform.map((v) => [v.call, v] as const))('%s', (_call, v) => {
    expectMatches(statelessUniform(v.shape, v.seed, v.minval, v.maxval), v, v.call);
  });
});

describe('published initializer vectors (issue-vectors.json): bit-exact, or within the printed decimals', () => {
  it.each(issue.vectors.map((v) => [`${v.kind}${JSON.stringify(v.args)} [${v.shape}] (${v.precision})`, v] as const))(
    '%s',
    (_name, v) => {
      const got = initialize(specOf(v.kind, v.args), v.shape);
      if (v.precision === 'float32-shortest') {
        expect(bitsOf(got)).toEqual(bitsOf(new Float32Array(v.values)));
      } else {
        const places = Number(v.precision.slice('decimals:'.length));
        const tol = 0.5 * 10 ** -places * (1 + 1e-9);
        expect(got.length).toBe(v.values.length);
        got.forEach((x, i) => expect({ i, off: Math.abs(x - v.values[i]) <= tol }).toEqual({ i, off: true }));
      }
      // The same call is also in the Keras-generated fixture, bit for bit.
      const k = keras.initializers.find(
        (e) =>
          e.kind === v.kind &&
          e.shape.join(',') === v.shape.join(',') &&
          JSON.stringify(e.args) === JSON.stringify(v.args),
      );
      expect(k?.bits).toEqual(bitsOf(got));
    },
  );
});

describe('Keras 3.15 / TF 2.21 initializer vectors (bit patterns + sha256)', () => {
  it('covers the kernel shapes and seeds the brief asks for', () => {
    const have = new Set(keras.initializers.map((v) => `${v.kind}:${v.args.seed}:${v.shape.join(',')}`));
    for (const seed of [0, 1, 42]) {
      for (const shape of ['7,7,3,64', '3,3,64,64', '1,1,256,64', '2048,6'])
        expect(have).toContain(`glorot_uniform:${seed}:${shape}`);
      expect(have).toContain(`random_uniform:${seed}:2,3`);
    }
  });

  it.each(keras.initializers.map((v) => [v.call, v] as const))('%s', (_call, v) => {
    expectMatches(initialize(specOf(v.kind, v.args), v.shape), v, v.call);
  });
});

describe('convenience functions agree with initialize()', () => {
  it('glorotUniform / randomUniform / constant / zeros / ones', () => {
    expect(bitsOf(glorotUniform([3, 3, 4, 8], 5))).toEqual(
      bitsOf(initialize({ kind: 'glorot_uniform', seed: 5 }, [3, 3, 4, 8])),
    );
    expect(bitsOf(randomUniform([4, 4], 9))).toEqual(
      bitsOf(initialize({ kind: 'random_uniform', seed: 9, minval: -0.05, maxval: 0.05 }, [4, 4])),
    );
    expect(Array.from(constant([2, 2], 0.1))).toEqual(Array(4).fill(Math.fround(0.1)));
    expect(Array.from(zeros([3]))).toEqual([0, 0, 0]);
    expect(Array.from(ones([2, 1]))).toEqual([1, 1]);
    expect(zeros([0, 5]).length).toBe(0);
    expect(constant([], 2).length).toBe(1);
  });

  it('Keras seed reduction: floormod(seed, 2^31 - 2)', () => {
    expect(kerasSeedPair(2147483646)).toEqual([0, 0]);
    expect(kerasSeedPair(-1)).toEqual([2147483645, 0]);
    expect(bitsOf(randomUniform([3, 3], 2147483647))).toEqual(bitsOf(randomUniform([3, 3], 1)));
  });

  it('Keras fans', () => {
    expect(computeFans([7, 7, 3, 64])).toEqual({ fanIn: 147, fanOut: 3136 });
    expect(computeFans([2048, 6])).toEqual({ fanIn: 2048, fanOut: 6 });
    expect(computeFans([5])).toEqual({ fanIn: 5, fanOut: 5 });
    expect(computeFans([])).toEqual({ fanIn: 1, fanOut: 1 });
  });
});

describe('bad input', () => {
  it('names the problem', () => {
    expect(() => glorotUniform([3, -1], 0)).toThrow(/shape \[3,-1\].*invalid dimension -1/);
    expect(() => zeros([2.5])).toThrow(/invalid dimension 2.5/);
    expect(() => randomUniform([2], 0.5)).toThrow(/seed must be an integer/);
    expect(() => randomUniform([2], 0, Number.NaN, 1)).toThrow(/bounds must be finite/);
    expect(() => constant([2], Number.NaN)).toThrow(/constant initializer value/);
    expect(() => initialize({ kind: 'he_normal' } as unknown as InitializerSpec, [2])).toThrow(
      /unknown initializer kind "he_normal"/,
    );
  });
});

describe('initModelWeights', () => {
  let spec: ModelSpec;
  let weights: ReturnType<typeof initModelWeights>;
  beforeAll(() => {
    spec = resnet50();
    weights = initModelWeights(spec);
  });

  it('matches every ResNet-50 weight Keras creates (names, order, shapes, trainable, sha256)', () => {
    const expected = keras.resnet50.weights;
    const byLayer = new Map<string, typeof expected>();
    for (const w of expected) {
      const list = byLayer.get(w.layer) ?? [];
      list.push(w);
      byLayer.set(w.layer, list);
    }
    expect([...weights.keys()].sort()).toEqual([...byLayer.keys()].sort());
    let total = 0;
    for (const [layer, exp] of byLayer) {
      const got = weights.get(layer) ?? [];
      expect({ layer, got: got.map((w) => [w.name, w.shape, w.trainable]) }).toEqual({
        layer,
        got: exp.map((w) => [w.name, w.shape, w.trainable]),
      });
      got.forEach((w, i) => {
        total += w.data.length;
        expectMatches(w.data, exp[i], `${layer}/${w.name}`);
      });
    }
    expect(total).toBe(keras.resnet50.totalParams);
  });

  it('gives each layer its own copy of shared (initializer, shape) results', () => {
    const kernels = [...weights.entries()]
      .filter(([, ws]) => ws[0].name === 'kernel' && ws[0].shape.join(',') === '1,1,256,64')
      .map(([, ws]) => ws[0]);
    expect(kernels.length).toBeGreaterThan(1);
    const [a, b] = kernels;
    expect(a.data).not.toBe(b.data);
    const before = b.data[0];
    a.data[0] = 123;
    expect(b.data[0]).toBe(before);
    expect(initModelWeights(spec).get([...weights.keys()][0])).toBeDefined();
  });

  it('rejects a spec whose Conv2D has an unknown inbound layer', () => {
    const bad: ModelSpec = JSON.parse(JSON.stringify(spec));
    const conv = bad.layers.find((l) => l.className === 'Conv2D');
    if (!conv) throw new Error('no Conv2D in resnet50 spec');
    conv.inbound = ['nope'];
    expect(() => initModelWeights(bad)).toThrow(new RegExp(`layer '${conv.name}' has unknown inbound layer 'nope'`));
  });
});

describe('CLI: resnet-conformance init', () => {
  let dir: string;
  let stdout: jest.SpyInstance;
  let stderr: jest.SpyInstance;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'init-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stdout.mockRestore();
    stderr.mockRestore();
  });
  const errText = (): string => stderr.mock.calls.map((c) => String(c[0])).join('');

  it('writes a float32 .npy identical to the Keras vector', async () => {
    const file = join(dir, 'k.npy');
    expect(await initCommand(['glorot_uniform', '--shape', '7,7,3,64', '--seed', '0', '--out', file])).toBe(0);
    const t = readNpy(file);
    expect(t.shape).toEqual([7, 7, 3, 64]);
    expect(t.data).toBeInstanceOf(Float32Array);
    const head = readFileSync(file).subarray(0, 128).toString('latin1');
    expect(head).toContain("'descr': '<f4', 'fortran_order': False, 'shape': (7, 7, 3, 64)");
    const k = keras.initializers.find(
      (e) => e.kind === 'glorot_uniform' && e.args.seed === 0 && e.shape.join(',') === '7,7,3,64',
    );
    if (!k) throw new Error('fixture lacks glorot_uniform(seed=0) [7,7,3,64]');
    expectMatches(t.data as Float32Array, k, 'cli glorot_uniform [7,7,3,64]');
  });

  it('constant --value and random_uniform bounds reach the initializer', async () => {
    const c = join(dir, 'c.npy');
    expect(await initCommand(['constant', '--shape', '2,2', '--value', '-2.5', '--out', c])).toBe(0);
    expect(Array.from(readNpy(c).data)).toEqual([-2.5, -2.5, -2.5, -2.5]);
    const u = join(dir, 'u.npy');
    expect(
      await initCommand([
        'random_uniform',
        '--shape',
        '4,5',
        '--seed',
        '7',
        '--minval',
        '0.1',
        '--maxval',
        '0.3',
        '--out',
        u,
      ]),
    ).toBe(0);
    const k = keras.initializers.find((e) => e.kind === 'random_uniform' && e.args.seed === 7 && e.args.minval === 0.1);
    if (!k) throw new Error('fixture lacks RandomUniform(0.1, 0.3, seed=7)');
    expectMatches(readNpy(u).data as Float32Array, k, 'cli random_uniform(0.1, 0.3, seed=7)');
  });

  it.each([
    [['he_normal', '--shape', '2'], /unknown initializer 'he_normal'/],
    [['zeros'], /--shape is required/],
    [['zeros', '--shape', '2,-1'], /--shape must be comma-separated non-negative integers.*'2,-1'/],
    [['zeros', '--shape', ''], /--shape must be/],
    [['constant', '--shape', '2'], /constant needs --value/],
    [['constant', '--shape', '2', '--value', 'abc'], /--value must be a finite number, got 'abc'/],
    [['ones', '--shape', '2', '--seed', '1'], /--seed does not apply to ones/],
    [['glorot_uniform', '--shape', '2', '--seed', '0.5'], /--seed must be an integer/],
    [['glorot_uniform', '--shape', '2', '--bogus', '1'], /unknown option --bogus/],
    [[], /missing initializer/],
  ])('%j -> exit 2', async (argv, message) => {
    expect(await initCommand(argv as string[])).toBe(2);
    expect(errText()).toMatch(message as RegExp);
  });
});
