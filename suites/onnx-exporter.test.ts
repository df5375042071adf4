/**
 * The ONNX bytes the in-process ONNX Runtime adapters hand to their sessions (src/onnx/exporter.ts,
 * encodeModel in src/onnx/proto.ts) are those of protobufjs encoding the exporter's whole ModelProto
 * in one call: for every BatchNormalization mode and capture set, with kernels shared between
 * exports and builds, and written into a reused buffer.
 */
import { createHash } from 'crypto';
import { OrtWebAdapter, type OrtWebDriver } from '../src/adapters/onnxruntime-web';
import type { ProbeResult } from '../src/adapters/types';
import { sizeOf, type Tensor } from '../src/tensor';
import { initModelWeights } from '../src/init';
import {
  buildOnnxModel,
  decodeInitializers,
  decodeModel,
  encodeModel,
  encodeModelWhole,
  inferenceModelParamCount,
  OihwKernelMemo,
  OnnxExporter,
  ReusedModelBuffer,
  type ModelProto,
  type OnnxExportOptions,
} from '../src/onnx';
import { convolutionalBlock, identityBlock, resnet50 } from '../src/model/builders';
import { modelParamCount } from '../src/model/params';
import type { ModelSpec, ModelWeights } from '../src/model/types';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function variants(spec: ModelSpec): OnnxExportOptions[] {
  const capture = spec.boundaries.map((b) => b.layer).filter((l) => l !== spec.output);
  return [{ training: false }, { training: false, capture }, { training: true }, { training: true, capture }];
}

/** The bytes of protobufjs encoding the exporter's model in one call (the reference). */
function whole(spec: ModelSpec, weights: ModelWeights, opts: OnnxExportOptions): Uint8Array {
  return encodeModelWhole(buildOnnxModel(spec, weights, opts).proto);
}

describe('encodeModel', () => {
  test('equals protobufjs encoding the whole model, for both BatchNormalization modes, with and without captures', () => {
    for (const spec of [identityBlock(3, [4, 4, 3]), convolutionalBlock(2, [2, 4, 6], 2)]) {
      const w = initModelWeights(spec);
      for (const opts of variants(spec)) {
        const { proto } = buildOnnxModel(spec, w, opts);
        expect(sha(encodeModel(proto))).toBe(sha(encodeModelWhole(proto)));
      }
    }
  });

  test('ResNet-50 (inference, boundaries captured): the same bytes', () => {
    const spec = resnet50();
    const { proto } = buildOnnxModel(spec, initModelWeights(spec), variants(spec)[1]);
    expect(sha(encodeModel(proto))).toBe(sha(encodeModelWhole(proto)));
  });

  test('the comparison sees a change in an initializer (planted: two initializers swapped, one raw byte changed)', () => {
    const spec = identityBlock(3, [4, 4, 3]);
    const { proto } = buildOnnxModel(spec, initModelWeights(spec), { training: false });
    const reference = sha(encodeModelWhole(proto));
    const [a, b, ...rest] = proto.graph.initializer;
    const swapped: ModelProto = { ...proto, graph: { ...proto.graph, initializer: [b, a, ...rest] } };
    expect(sha(encodeModel(swapped))).not.toBe(reference);
    const raw = Uint8Array.from(a.rawData);
    raw[0] ^= 1;
    const flipped: ModelProto = {
      ...proto,
      graph: { ...proto.graph, initializer: [{ ...a, rawData: raw }, b, ...rest] },
    };
    expect(sha(encodeModel(flipped))).not.toBe(reference);
  });

  test('writes into the buffer given, and refuses one of the wrong size', () => {
    const spec = identityBlock(3, [4, 4, 3]);
    const { proto } = buildOnnxModel(spec, initModelWeights(spec), { training: true });
    const n = encodeModelWhole(proto).length;
    const into = new Uint8Array(n + 16);
    const got = encodeModel(proto, (len) => into.subarray(0, len));
    expect(got.buffer).toBe(into.buffer);
    expect(sha(got)).toBe(sha(encodeModelWhole(proto)));
    expect(() => encodeModel(proto, () => new Uint8Array(n - 1))).toThrow(/holds .* bytes/);
  });
});

describe('decodeInitializers', () => {
  test('gives the initializers decodeModel gives, and the Keras parameter count', () => {
    const spec = convolutionalBlock(2, [2, 4, 6], 2);
    const bytes = encodeModel(buildOnnxModel(spec, initModelWeights(spec), { training: false }).proto);
    const all = decodeModel(bytes).graph.initializer;
    const only = decodeInitializers(bytes);
    expect(only.map((t) => [t.name, t.dims.map(Number), t.dataType])).toEqual(
      all.map((t) => [t.name, t.dims.map(Number), t.dataType]),
    );
    only.forEach((t, i) => expect(sha(t.rawData)).toBe(sha(all[i].rawData)));
    expect(inferenceModelParamCount('x', spec, bytes)).toEqual(modelParamCount(spec));
  });

  test('a training-mode model has no moving statistics: an error naming the adapter; truncated bytes are an error', () => {
    const spec = identityBlock(3, [4, 4, 3]);
    const bytes = encodeModel(buildOnnxModel(spec, initModelWeights(spec), { training: true }).proto);
    expect(() => inferenceModelParamCount('ort-x', spec, bytes)).toThrow(/ort-x: .*moving statistics/);
    expect(() => decodeInitializers(bytes.subarray(0, bytes.length - 7))).toThrow();
  });
});

describe('OnnxExporter', () => {
  test('export() and lend() give the exporter bytes of every variant; the loaned buffer is reused', async () => {
    const spec = convolutionalBlock(2, [2, 4, 6], 2);
    const w = initModelWeights(spec);
    const e = new OnnxExporter(spec, w);
    const buffers = new Set<ArrayBufferLike>();
    for (const opts of variants(spec)) {
      const want = sha(whole(spec, w, opts));
      expect(sha(e.export(opts).bytes)).toBe(want);
      const lent = await e.lend(opts, async (m) => {
        buffers.add(m.bytes.buffer);
        return sha(m.bytes);
      });
      expect(lent).toBe(want);
    }
    // one buffer, grown at most once per larger model (capture graphs are larger)
    expect(buffers.size).toBeLessThanOrEqual(3);
  });

  test('loans run one at a time: a loan in progress keeps its bytes while the next waits', async () => {
    const spec = identityBlock(3, [4, 4, 3]);
    const w = initModelWeights(spec);
    const e = new OnnxExporter(spec, w);
    const [p, c] = [variants(spec)[0], variants(spec)[3]];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = e.lend(p, async (m) => {
      const before = sha(m.bytes);
      await gate; // the second loan is asked for meanwhile
      return before === sha(m.bytes) ? before : 'changed under the loan';
    });
    let secondStarted = false;
    const second = e.lend(c, async (m) => {
      secondStarted = true;
      return sha(m.bytes);
    });
    await new Promise((r) => setImmediate(r));
    expect(secondStarted).toBe(false);
    release();
    expect(await first).toBe(sha(whole(spec, w, p)));
    expect(await second).toBe(sha(whole(spec, w, c)));
    // a failing loan does not block the next one
    await expect(e.lend(p, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await e.lend(p, async (m) => sha(m.bytes))).toBe(sha(whole(spec, w, p)));
  });

  test('kernels are transposed once per kernel array across exporters; another array is transposed anew', () => {
    const spec = identityBlock(3, [4, 4, 3]);
    const w = initModelWeights(spec);
    const memo = new OihwKernelMemo();
    const kernelOf = (e: OnnxExporter) => {
      const { proto } = buildOnnxModel(e.spec, e.weights, { training: false }, memo.get);
      return proto.graph.initializer.find((t) => t.name.endsWith('/kernel'))!.rawData;
    };
    const a = kernelOf(new OnnxExporter(spec, w, { kernels: memo }));
    const b = kernelOf(new OnnxExporter(spec, w, { kernels: memo }));
    expect(b.buffer).toBe(a.buffer); // shared, not transposed again
    // other weights with a new kernel array (same shape): new values, the exporter's bytes
    const other = new Map(
      [...w].map(([layer, list]) => [layer, list.map((t) => ({ ...t, data: t.data.map((v) => v + 1) }))]),
    );
    const e = new OnnxExporter(spec, other, { kernels: memo });
    expect(kernelOf(e).buffer).not.toBe(a.buffer);
    for (const opts of variants(spec)) expect(sha(e.export(opts).bytes)).toBe(sha(whole(spec, other, opts)));
  });

  test("a model's kernels are transposed into one block, the exporter's bytes; a kernel of the wrong size is left to the exporter's check", () => {
    const spec = convolutionalBlock(3, [2, 4, 6], 2);
    const w = initModelWeights(spec);
    const memo = new OihwKernelMemo();
    const e = new OnnxExporter(spec, w, { kernels: memo });
    for (const opts of variants(spec)) expect(sha(e.export(opts).bytes)).toBe(sha(whole(spec, w, opts)));
    const kernels = spec.layers
      .filter((l) => l.className === 'Conv2D')
      .map((l) => w.get(l.name)!.find((t) => t.name === 'kernel')!);
    expect(kernels.length).toBe(4);
    const blocks = new Set(kernels.map((k) => memo.get(k).buffer));
    expect(blocks.size).toBe(1);
    const bad = new Map([...w].map(([l, list]) => [l, list.map((t) => ({ ...t, data: t.data.slice() }))]));
    const conv = spec.layers.find((l) => l.className === 'Conv2D')!.name;
    const k = bad.get(conv)!.find((t) => t.name === 'kernel')!;
    k.data = k.data.subarray(1);
    expect(() => new OnnxExporter(spec, bad, { kernels: new OihwKernelMemo() }).export({ training: false })).toThrow(
      new RegExp(`${conv}/kernel has \\d+ values, expected`),
    );
  });

  test('reports the time of each export', () => {
    const spec = identityBlock(3, [4, 4, 3]);
    const seen: number[] = [];
    const e = new OnnxExporter(spec, initModelWeights(spec), { onExport: (ms) => seen.push(ms) });
    e.export({ training: false });
    e.export({ training: true });
    expect(seen).toHaveLength(2);
    for (const ms of seen) expect(ms).toBeGreaterThanOrEqual(0);
  });
});

/**
 * A driver that keeps the bytes of its last model (as the page driver does, to send the next one as
 * a delta) and checks, at every create, that they are still those it was given.
 */
class KeepsLastDriver implements OrtWebDriver {
  readonly epoch = 0;
  last: { bytes: Uint8Array; sha: string } | undefined;
  intact: boolean[] = [];
  models: string[] = [];
  constructor(readonly keepsModelBytes: 'nothing' | 'last' | undefined) {}
  async probe(): Promise<ProbeResult> {
    return { available: true };
  }
  async describe() {
    return { runtime: 'fake', version: '0', device: 'cpu', precision: 'float32', settings: {}, notes: [] };
  }
  async create(_key: string, model: Uint8Array): Promise<number> {
    if (this.last) this.intact.push(sha(this.last.bytes) === this.last.sha);
    await new Promise((r) => setImmediate(r));
    this.last = { bytes: model, sha: sha(model) };
    this.models.push(this.last.sha);
    return 0;
  }
  async run(_key: string, _input: string, _x: unknown, fetches: string[]): Promise<Map<string, Tensor>> {
    return new Map(fetches.map((f) => [f, { shape: [1], data: new Float32Array(1) }]));
  }
  async release(): Promise<void> {}
  async dispose(): Promise<void> {}
}

describe('OrtWebAdapter: model memory by what the driver keeps', () => {
  const spec = convolutionalBlock(2, [2, 4, 6], 2);
  const w = initModelWeights(spec);
  const input = {
    shape: [1, ...spec.layers[0].outputShape],
    data: new Float32Array(sizeOf([1, ...spec.layers[0].outputShape])),
  };

  // a block's only boundary is its output: the capture graphs are made for a layer asked for
  const capture = [spec.layers[2].name];
  const runs: OnnxExportOptions[] = [
    { training: false },
    { training: false, capture },
    { training: true },
    { training: true, capture },
  ];

  async function drive(d: KeepsLastDriver, slots?: 1 | 2, order = runs): Promise<void> {
    const a = new OrtWebAdapter('fake', d);
    // planted: force the buffer of a driver that keeps nothing onto one that keeps its last model
    if (slots) (a as unknown as { modelBuffer: ReusedModelBuffer }).modelBuffer = new ReusedModelBuffer(slots);
    await a.build(spec, w);
    for (const opts of order) await a.run(input, opts);
    expect(await a.paramCount()).toEqual(modelParamCount(spec));
  }

  test.each([['last' as const], ['nothing' as const], [undefined]])(
    'keepsModelBytes %s: the driver gets the exporter bytes of every variant; a kept model stays intact',
    async (keeps) => {
      const d = new KeepsLastDriver(keeps);
      await drive(d);
      expect(d.models).toEqual(runs.map((o) => sha(whole(spec, w, o))));
      if (keeps !== 'nothing') expect(d.intact).toEqual([true, true, true]);
    },
  );

  test("a create's time beyond ONNX Runtime's own is the adapter's preparation, not runtime setup or inference", async () => {
    // a driver that spends 40 ms on its side of each create (e.g. sending the model) and reports 5 ms inside ONNX Runtime
    class SlowSideDriver extends KeepsLastDriver {
      override async create(key: string, model: Uint8Array): Promise<number> {
        await super.create(key, model);
        await new Promise((r) => setTimeout(r, 40));
        return 5;
      }
    }
    const a = new OrtWebAdapter('fake', new SlowSideDriver('last'));
    await a.build(spec, w);
    const p0 = a.harnessPrepMs();
    const s0 = a.runtimeSetupMs();
    await a.run(input, { training: true }); // creates the training session
    expect(a.runtimeSetupMs() - s0).toBe(5);
    expect(a.harnessPrepMs() - p0).toBeGreaterThanOrEqual(35);
  });

  test('planted: one reused buffer under a driver that keeps its last model overwrites it (caught)', async () => {
    const d = new KeepsLastDriver('last');
    // largest model first, so that the next one fits the buffer and is written over the kept one
    await drive(d, 1, [...runs].reverse());
    expect(d.intact).toContain(false);
  });
});
