import * as fs from 'fs';
import * as path from 'path';
import {
  convolutionalBlock,
  descriptors,
  formatSummary,
  identityBlock,
  kerasLayerOrder,
  modelParamCount,
  resnet50,
  samePadding,
  summary,
} from '../src/model';

const published = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'published', 'notebook-published.json'), 'utf8'),
).versions['stateless-cpu'];

describe('ResNet-50 spec', () => {
  const spec = resnet50();

  test('parameter totals equal the notebook summary (23,600,006 / 23,546,886 / 53,120)', () => {
    expect(modelParamCount(spec)).toEqual({ total: 23600006, trainable: 23546886, nonTrainable: 53120 });
    expect(summary(spec).totals).toEqual({
      total: published.resnet50.total_params,
      trainable: published.resnet50.trainable_params,
      nonTrainable: published.resnet50.non_trainable_params,
    });
  });

  test('per-layer descriptors equal the notebook comparator list (177 rows, in Keras order)', () => {
    const mine = descriptors(spec);
    const theirs = published.resnet50.summary_descriptors_outputs_py;
    expect(mine).toHaveLength(177);
    mine.forEach((row, i) => expect([i, row]).toEqual([i, theirs[i]]));
  });

  test('layer names follow a fresh Keras 3 session', () => {
    const names = spec.layers.map((l) => l.name);
    expect(names.slice(0, 4)).toEqual(['input_layer', 'zero_padding2d', 'conv2d', 'batch_normalization']);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => n.startsWith('conv2d')).length).toBe(53);
    expect(spec.output).toBe('dense');
  });

  test('boundaries: stage 1, 16 blocks, avgpool, logits, probabilities', () => {
    expect(spec.boundaries).toHaveLength(1 + 16 + 3);
    expect(spec.boundaries[0]).toEqual({ label: 'stage1', layer: 'max_pooling2d' });
    expect(spec.boundaries.at(-1)).toEqual({ label: 'probabilities', layer: 'dense' });
  });

  test('summary text has the Keras totals lines', () => {
    const text = formatSummary(spec);
    expect(text).toContain('Total params: 23,600,006');
    expect(text).toContain('Non-trainable params: 53,120');
    expect(text).toContain('add (Add)');
  });

  test('other input shapes and class counts infer shapes', () => {
    const s = resnet50({ inputShape: [96, 96, 3], classes: 10 });
    expect(s.layers.find((l) => l.name === 'dense')!.outputShape).toEqual([10]);
    expect(() => resnet50({ inputShape: [8, 8, 3] })).toThrow(/does not fit/);
  });
});

describe('blocks', () => {
  test('identity block keeps the shape and orders layers like Keras', () => {
    const s = identityBlock(2, [4, 4, 3]);
    expect(s.layers.find((l) => l.name === s.output)!.outputShape).toEqual([4, 4, 3]);
    expect(kerasLayerOrder(s).map((l) => l.className)).toEqual([
      'InputLayer',
      'Conv2D',
      'BatchNormalization',
      'Activation',
      'Conv2D',
      'BatchNormalization',
      'Activation',
      'Conv2D',
      'BatchNormalization',
      'Add',
      'Activation',
    ]);
    expect(() => identityBlock(2, [4, 4, 5], { inputShape: [4, 4, 3] })).toThrow(/F3 = 5/);
  });

  test('convolutional block: stride 2 halves the grid, shortcut conv listed after the third main conv', () => {
    const s = convolutionalBlock(2, [2, 4, 6], 2);
    expect(s.layers.find((l) => l.name === s.output)!.outputShape).toEqual([2, 2, 6]);
    const order = kerasLayerOrder(s).map((l) => l.name);
    expect(order.indexOf('conv2d_3')).toBe(order.indexOf('conv2d_2') + 1);
    expect(order.indexOf('batch_normalization_2')).toBeGreaterThan(order.indexOf('conv2d_3'));
    const add = s.layers.find((l) => l.className === 'Add')!;
    expect(add.inbound).toEqual(['batch_normalization_2', 'batch_normalization_3']);
  });

  test("TF 'same' padding puts the extra row/column at the bottom/right", () => {
    expect(samePadding(4, 2, 1)).toEqual([0, 1]);
    expect(samePadding(15, 3, 1)).toEqual([1, 1]);
    expect(samePadding(5, 4, 2)).toEqual([1, 2]);
  });

  test('bad arguments name the argument', () => {
    expect(() => identityBlock(0, [1, 1, 1])).toThrow(/f must be a positive integer/);
    expect(() => convolutionalBlock(2, [2, 4], 2)).toThrow(/filters must be three/);
  });
});
