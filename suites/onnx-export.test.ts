/**
 * The ONNX exporter: TF 'same' pads as explicit ONNX pads, kernel layout, NHWC flatten order,
 * serialization round trip through protobufjs, initializers and their Keras parameter accounting.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ReferenceAdapter } from '../src/adapters/reference';
import { loadOrt } from '../src/adapters/onnxruntime';
import { exportOnnxCommand } from '../src/cli/commands/export-onnx';
import { initModelWeights } from '../src/init';
import {
  AttributeType,
  buildOnnxModel,
  CAPTURE_PREFIX,
  convKernelToOihw,
  decodeModel,
  encodeModel,
  exportOnnx,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  onnxPads,
  onnxParamCount,
  type ModelProto,
  type NodeProto,
} from '../src/onnx';
import { convolutionalBlock, identityBlock, resnet50 } from '../src/model/builders';
import { GraphBuilder } from '../src/model/graph-builder';
import { glorotUniform } from '../src/model/initializers';
import { modelParamCount } from '../src/model/params';
import type { ModelSpec } from '../src/model/types';
import { seededUniform } from '../src/tensor/sample-inputs';

const PUBLISHED = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'published', 'notebook-published.json'), 'utf8'),
);

function attr(node: NodeProto, name: string): number | number[] | string | undefined {
  const a = node.attribute.find((x) => x.name === name);
  if (!a) return undefined;
  if (a.type === AttributeType.INTS) return (a.ints ?? []).map(Number);
  if (a.type === AttributeType.INT) return Number(a.i ?? 0);
  if (a.type === AttributeType.STRING) return Buffer.from(a.s ?? []).toString('utf8');
  if (a.type === AttributeType.FLOAT) return a.f;
  return undefined;
}

function opCounts(model: ModelProto): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of model.graph.node) c[n.opType] = (c[n.opType] ?? 0) + 1;
  return c;
}

describe('TF same padding as explicit ONNX pads', () => {
  test.each([
    // [size, kernel, stride, expected [before, after]]
    [4, 2, 1, [0, 1]], // even kernel: the extra row/column goes bottom/right
    [4, 4, 1, [1, 2]],
    [4, 3, 1, [1, 1]],
    [5, 3, 2, [1, 1]],
    [4, 3, 2, [0, 1]],
    [64, 7, 2, [2, 3]],
    [1, 3, 1, [1, 1]],
  ])('size %i kernel %i stride %i', (size, k, s, [before, after]) => {
    expect(onnxPads(size, size, [k, k], [s, s], 'same')).toEqual([before, before, after, after]);
  });

  test('valid padding has zero pads; height and width are independent', () => {
    expect(onnxPads(7, 7, [3, 3], [2, 2], 'valid')).toEqual([0, 0, 0, 0]);
    expect(onnxPads(4, 5, [2, 3], [1, 2], 'same')).toEqual([0, 1, 1, 1]);
  });

  test('the convolutional block (f=2) exports Conv with pads [0,0,1,1] and no auto_pad', () => {
    const spec = convolutionalBlock(2, [2, 4, 6], 2);
    const { proto } = buildOnnxModel(spec, initModelWeights(spec), { training: false });
    const convs = proto.graph.node.filter((n) => n.opType === 'Conv');
    expect(convs).toHaveLength(4);
    const sameConv = convs.find((n) => (attr(n, 'kernel_shape') as number[])[0] === 2)!;
    expect(attr(sameConv, 'pads')).toEqual([0, 0, 1, 1]);
    for (const c of convs) expect(attr(c, 'auto_pad')).toBeUndefined();
    for (const c of convs.filter((n) => n !== sameConv)) expect(attr(c, 'pads')).toEqual([0, 0, 0, 0]);
  });
});

describe('kernel layout', () => {
  test('Keras [kh,kw,cin,cout] becomes ONNX [cout,cin,kh,kw]', () => {
    const [kh, kw, cin, cout] = [2, 3, 4, 5];
    const keras = new Float32Array(kh * kw * cin * cout);
    // value encodes its Keras index (y, x, i, o)
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < cin; i++)
          for (let o = 0; o < cout; o++) {
            keras[((y * kw + x) * cin + i) * cout + o] = y * 1000 + x * 100 + i * 10 + o;
          }
    const oihw = convKernelToOihw(keras, kh, kw, cin, cout);
    for (let o = 0; o < cout; o++)
      for (let i = 0; i < cin; i++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++) {
            expect(oihw[((o * cin + i) * kh + y) * kw + x]).toBe(y * 1000 + x * 100 + i * 10 + o);
          }
  });
});

describe('serialization', () => {
  test('the encoded ResNet-50 decodes back to the same graph, opset and initializer bytes', () => {
    const spec = resnet50();
    const weights = initModelWeights(spec);
    const { proto, bytes } = exportOnnx(spec, weights, { training: false, capture: ['dense:logits'] });
    const back = decodeModel(bytes);
    expect(Number(back.irVersion)).toBe(ONNX_IR_VERSION);
    expect(back.opsetImport.map((o) => [o.domain ?? '', Number(o.version)])).toEqual([['', ONNX_OPSET]]);
    expect(back.graph.node.map((n) => [n.opType, n.name, n.input, n.output])).toEqual(
      proto.graph.node.map((n) => [n.opType, n.name, n.input, n.output]),
    );
    expect(back.graph.initializer.map((t) => t.name)).toEqual(proto.graph.initializer.map((t) => t.name));
    const k = back.graph.initializer.find((t) => t.name === 'conv2d/kernel')!;
    expect(k.dims.map(Number)).toEqual([64, 3, 7, 7]);
    const kf = new Float32Array(Uint8Array.from(k.rawData).buffer);
    expect(Array.from(kf)).toEqual(Array.from(convKernelToOihw(weights.get('conv2d')![0].data, 7, 7, 3, 64)));
    const dims = (name: string) =>
      back.graph.output
        .find((o) => o.name === name)!
        .type.tensorType.shape.dim.map((d) =>
          d.dimParam !== undefined && d.dimParam !== '' ? d.dimParam : Number(d.dimValue),
        );
    expect(back.graph.input[0].type.tensorType.shape.dim.map((d) => d.dimParam || Number(d.dimValue))).toEqual([
      'batch',
      64,
      64,
      3,
    ]);
    expect(dims('output')).toEqual(['batch', 6]);
    expect(dims(`${CAPTURE_PREFIX}dense:logits`)).toEqual(['batch', 6]);
  });

  test('encodeModel rejects a message that does not fit the schema', () => {
    const spec = identityBlock(3, [4, 4, 3]);
    const { proto } = buildOnnxModel(spec, initModelWeights(spec), { training: false });
    const broken = { ...proto, graph: { ...proto.graph, node: [{ ...proto.graph.node[0], input: 'x' }] } };
    expect(() => encodeModel(broken as unknown as ModelProto)).toThrow(/does not match the schema/);
  });
});

describe('initializers and Keras parameter accounting', () => {
  test('ResNet-50 inference model: 320 parameter initializers, counts equal Keras (notebook summary)', () => {
    const spec = resnet50();
    const { bytes } = exportOnnx(spec, initModelWeights(spec), { training: false });
    const c = onnxParamCount(decodeModel(bytes));
    expect(c.parameterInitializers).toBe(53 * 2 + 53 * 4 + 2);
    expect(c.helperConstants).toBe(1); // the ZeroPadding2D pads
    const published = PUBLISHED.versions['stateless-cpu'].resnet50;
    expect({ total: c.total, trainable: c.trainable, nonTrainable: c.nonTrainable }).toEqual({
      total: published.total_params,
      trainable: published.trainable_params,
      nonTrainable: published.non_trainable_params,
    });
    expect({ total: c.total, trainable: c.trainable, nonTrainable: c.nonTrainable }).toEqual(modelParamCount(spec));
  });

  test('blocks: inference graph uses BatchNormalization; training graph decomposes it and omits the moving statistics', () => {
    const spec = identityBlock(3, [4, 4, 3]);
    const w = initModelWeights(spec);
    const inf = buildOnnxModel(spec, w, { training: false }).proto;
    const tr = buildOnnxModel(spec, w, { training: true }).proto;
    expect(opCounts(inf).BatchNormalization).toBe(3);
    expect(opCounts(tr).BatchNormalization).toBeUndefined();
    expect(opCounts(tr).ReduceMean).toBe(6);
    expect(inf.graph.initializer.filter((t) => !t.name.startsWith('const/'))).toHaveLength(3 * 2 + 3 * 4);
    expect(tr.graph.initializer.filter((t) => !t.name.startsWith('const/'))).toHaveLength(3 * 2 + 3 * 2);
    expect(tr.graph.initializer.some((t) => t.name.endsWith('moving_mean'))).toBe(false);
    const ci = onnxParamCount(inf);
    expect(ci).toMatchObject({ ...modelParamCount(spec), movingStatisticsPresent: true });
    const ct = onnxParamCount(tr);
    expect(ct).toMatchObject({
      trainable: modelParamCount(spec).trainable,
      nonTrainable: 0,
      movingStatisticsPresent: false,
    });
  });

  test('an initializer that maps to no Keras weight is an error naming it', () => {
    const spec = identityBlock(3, [4, 4, 3]);
    const { proto } = buildOnnxModel(spec, initModelWeights(spec), { training: false });
    proto.graph.initializer[0] = { ...proto.graph.initializer[0], name: 'conv2d/weights' };
    expect(() => onnxParamCount(proto)).toThrow(/conv2d\/weights/);
  });
});

describe('inputs the exporter refuses', () => {
  const spec = identityBlock(3, [4, 4, 3]);
  test('unknown capture names and logits of a model without Dense', () => {
    expect(() => buildOnnxModel(spec, initModelWeights(spec), { training: false, capture: ['conv2d_99'] })).toThrow(
      /conv2d_99/,
    );
    expect(() => buildOnnxModel(spec, initModelWeights(spec), { training: false, capture: ['dense:logits'] })).toThrow(
      /Dense layer named 'dense'/,
    );
  });
  test('missing or misshaped weights', () => {
    const w = initModelWeights(spec);
    w.delete('conv2d_1');
    expect(() => buildOnnxModel(spec, w, { training: false })).toThrow(/no weights for layer 'conv2d_1'/);
    const w2 = initModelWeights(spec);
    w2.get('conv2d')![0] = { ...w2.get('conv2d')![0], shape: [1, 1, 4, 3] };
    expect(() => buildOnnxModel(spec, w2, { training: false })).toThrow(
      /conv2d\/kernel has shape \[1,1,4,3\], expected \[1,1,3,4\]/,
    );
  });
});

describe('NHWC boundary and flatten order (run by ONNX Runtime, compared with the reference)', () => {
  /** input 3x2x5 -> Conv 1x1 (7 filters) -> Flatten -> Dense(4, linear): Flatten runs on an NCHW tensor inside the graph. */
  function flattenSpec(): ModelSpec {
    const g = new GraphBuilder();
    const x = g.input([3, 2, 5]);
    const c = g.conv2D(x, { filters: 7, kernel: 1, strides: 1, padding: 'valid', init: glorotUniform(1) });
    const f = g.flatten(c);
    const d = g.dense(f, 4, 'linear', glorotUniform(2));
    return {
      model: 'identity_block',
      args: {},
      layers: g.layers,
      input: g.layers[0].name,
      output: d.layer,
      boundaries: [],
    };
  }

  test('the flattened vector and the Dense output follow Keras NHWC order', async () => {
    const spec = flattenSpec();
    const weights = initModelWeights(spec);
    const ort = loadOrt();
    const { bytes, captureOutputs } = exportOnnx(spec, weights, { training: false, capture: ['flatten', 'conv2d'] });
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
    const x = seededUniform([2, 3, 2, 5], 7, -1, 1);
    const out = await session.run({ input: new ort.Tensor('float32', x.data, x.shape) });
    await session.release();
    const ref = new ReferenceAdapter({ precision: 'fp64' });
    await ref.build(spec, weights);
    const r = await ref.run(x, { training: false, capture: ['flatten', 'conv2d'] });
    const flatOrt = out[captureOutputs.flatten];
    expect(flatOrt.dims).toEqual([2, 42]);
    expect(out[captureOutputs.conv2d].dims).toEqual([2, 3, 2, 7]);
    // The reference flattens NHWC; element (b, y, x, c) sits at b*42 + (y*2 + x)*7 + c.
    const conv = r.intermediates.conv2d.data;
    for (let i = 0; i < 84; i++) {
      expect(Math.abs((flatOrt.data as Float32Array)[i] - r.intermediates.flatten.data[i])).toBeLessThan(1e-5);
      expect(r.intermediates.flatten.data[i]).toBe(conv[i]);
    }
    const y = out.output.data as Float32Array;
    for (let i = 0; i < 8; i++) expect(Math.abs(y[i] - r.output.data[i])).toBeLessThan(1e-5);
  });
});

describe('export-onnx command', () => {
  async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
    const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      err += String(s);
      return true;
    });
    try {
      return { code: await exportOnnxCommand(args), out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  test('writes a training-mode convolutional block with a capture; the file decodes to that graph', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-onnx-'));
    const file = path.join(dir, 'cb.onnx');
    try {
      const r = await run([
        '--model',
        'convolutional_block',
        '--f',
        '2',
        '--filters',
        '2,4,6',
        '--s',
        '2',
        '--input-shape',
        '5,5,3',
        '--training',
        '--capture',
        'activation_1',
        '--out',
        file,
      ]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/opset 17/);
      const m = decodeModel(fs.readFileSync(file));
      expect(m.graph.output.map((o) => o.name)).toEqual(['output', `${CAPTURE_PREFIX}activation_1`]);
      expect(m.graph.input[0].type.tensorType.shape.dim.map((d) => d.dimParam || Number(d.dimValue))).toEqual([
        'batch',
        5,
        5,
        3,
      ]);
      expect(opCounts(m).BatchNormalization).toBeUndefined();
      expect(m.metadataProps.find((p) => p.key === 'resnet_conformance.training')!.value).toBe('true');
      expect(fs.readdirSync(dir)).toEqual(['cb.onnx']); // no temporary file left
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('usage errors exit 2 with a message naming the problem', async () => {
    expect(await run(['--model', 'resnet50'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--out is required'),
    });
    expect(await run(['--model', 'vgg', '--out', 'x.onnx'])).toMatchObject({
      code: 2,
      err: expect.stringContaining("got 'vgg'"),
    });
    expect(
      await run([
        '--model',
        'identity_block',
        '--capture',
        'nope',
        '--out',
        path.join(os.tmpdir(), 'never-written.onnx'),
      ]),
    ).toMatchObject({ code: 2, err: expect.stringContaining("capture 'nope'") });
    expect(fs.existsSync(path.join(os.tmpdir(), 'never-written.onnx'))).toBe(false);
  });
});
