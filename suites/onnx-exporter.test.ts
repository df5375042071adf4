/**
 * The ONNX bytes the in-process ONNX Runtime adapters hand to their sessions (src/onnx/exporter.ts,
 * encodeModel in src/onnx/proto.ts) are those of protobufjs encoding the exporter's whole ModelProto
 * in one call: for every BatchNormalization mode and capture set, with kernels shared between
 * exports and builds, and written into a reused buffer.
 */
import { createHash } from 'crypto';
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
