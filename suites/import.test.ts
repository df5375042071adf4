/**
 * Keras model import (src/import) on the committed fixtures (fixtures/pretrained, written by real
 * Keras: fixtures/generate/pretrained.py): every format, weight digests equal to what Keras saved,
 * architecture matching by structure, and a clear error naming the file and the layer for every
 * kind of bad input. Needs no Python and no large file.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { matchArchitecture } from '../src/import/architecture';
import {
  importKerasModel,
  importKerasModelBytes,
  ModelImportError,
  weightsDigest,
  type ImportedModel,
} from '../src/import';
import { parseModelConfig } from '../src/import/keras-config';
import { mapWeights, type StoredWeight } from '../src/import/weights';
import { modelParamCount } from '../src/model/params';
import { runCli } from './helpers/cli';

const DIR = path.join(__dirname, '..', 'fixtures', 'pretrained');

interface BlockRecord {
  id: string;
  model: Record<string, unknown>;
  bnMoved: { maxAbsMovingMean: number; maxAbsMovingVarianceMinus1: number };
  files: Record<string, { file: string; sha256: string }>;
  weights: { combined: string; tensors: { layer: string; name: string; shape: number[]; sha256: string }[] };
}
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as {
  generator: { versions: Record<string, string> };
  blocks: BlockRecord[];
  bad: { file: string; what: string }[];
  resnet50Configs: Record<'keras2' | 'keras3', { file: string }>;
};

const FORMAT_OF: Record<string, ImportedModel['format']> = {
  'keras3-h5': 'keras3-h5',
  'keras-archive': 'keras-archive',
  'keras2-h5-constructed': 'keras2-h5',
};

async function importError(p: string | Uint8Array, label = 'model'): Promise<ModelImportError> {
  try {
    if (typeof p === 'string') await importKerasModel(p);
    else await importKerasModelBytes(p, label);
  } catch (err) {
    if (err instanceof ModelImportError) return err;
    throw err;
  }
  throw new Error(`import of ${typeof p === 'string' ? p : label} did not fail`);
}

function resnetConfig(kind: 'keras2' | 'keras3'): Record<string, unknown> {
  return JSON.parse(
    gunzipSync(fs.readFileSync(path.join(DIR, manifest.resnet50Configs[kind].file))).toString('utf8'),
  ) as Record<string, unknown>;
}

type LayerJson = { class_name: string; name: string; config: Record<string, unknown>; inbound_nodes: unknown[] };
function layersOf(cfg: Record<string, unknown>): LayerJson[] {
  return (cfg.config as { layers: LayerJson[] }).layers;
}

describe('Keras model import: every format of the trained blocks', () => {
  for (const b of manifest.blocks) {
    for (const [kind, f] of Object.entries(b.files)) {
      test(`${b.id} from ${kind} (${f.file}): architecture, format and every weight digest as Keras saved`, async () => {
        const m = await importKerasModel(path.join(DIR, f.file));
        expect(m.spec.model).toBe(b.model.model);
        expect(m.spec.args.inputShape).toEqual(b.model.inputShape);
        expect(m.spec.args.filters).toEqual(b.model.filters);
        expect(m.format).toBe(FORMAT_OF[kind]);
        expect(m.kerasVersion).toBe(kind === 'keras2-h5-constructed' ? '2.4.0' : manifest.generator.versions.keras);
        const d = weightsDigest(m.weights);
        const key = (t: { layer: string; name: string }): string => `${t.layer}/${t.name}`;
        const byKey = (x: { layer: string; name: string }, y: { layer: string; name: string }): number =>
          key(x).localeCompare(key(y));
        expect([...d.tensors].sort(byKey)).toEqual([...b.weights.tensors].sort(byKey));
        expect(d.combined).toBe(b.weights.combined);
        // Every spec weight is there, BatchNorm moving statistics included (and they moved off 0 / 1).
        expect(d.tensors.length).toBe(
          m.spec.layers.reduce(
            (n, l) => n + (l.className === 'Conv2D' ? 2 : l.className === 'BatchNormalization' ? 4 : 0),
            0,
          ),
        );
        const means = [...m.weights.values()].flat().filter((w) => w.name === 'moving_mean');
        expect(Math.max(...means.map((w) => Math.max(...Array.from(w.data, Math.abs))))).toBeCloseTo(
          b.bnMoved.maxAbsMovingMean,
          6,
        );
        let total = 0;
        for (const ws of m.weights.values()) for (const w of ws) total += w.data.length;
        expect(total).toBe(modelParamCount(m.spec).total);
      });
    }
  }
});

describe('architecture matching (the ResNet-50 configs, no large files needed)', () => {
  for (const kind of ['keras3', 'keras2'] as const) {
    test(`${kind} config of the notebook's ResNet-50 matches the spec layer for layer`, () => {
      const g = parseModelConfig(resnetConfig(kind), kind);
      expect(g.dialect).toBe(kind);
      const m = matchArchitecture(g, kind);
      expect(m.spec.model).toBe('resnet50');
      expect(m.toFile.size).toBe(m.spec.layers.length);
      expect(m.toFile.get('input_layer')).toBe(kind === 'keras2' ? 'input_1' : 'input_layer');
      // Fresh-session names are matched to themselves.
      expect([...m.toFile].filter(([s, f]) => s !== f && s !== 'input_layer')).toEqual([]);
    });
  }

  test('layers named as in a used Keras session (every name shifted) are matched by structure', () => {
    const cfg = resnetConfig('keras3');
    const text = JSON.stringify(cfg).replace(
      /"(conv2d|batch_normalization|activation|add)(?:_(\d+))?"(?!:)/g,
      (_m, base: string, n?: string) => `"${base}_${Number(n ?? 0) + 57}"`,
    );
    const g = parseModelConfig(text, 'shifted');
    const m = matchArchitecture(g, 'shifted');
    expect(m.toFile.get('conv2d')).toBe('conv2d_57');
    expect(m.toFile.get('batch_normalization_52')).toBe('batch_normalization_109');
    expect(m.toFile.get('dense')).toBe('dense');
  });

  test('a Conv2D with other filters is refused, naming the layer and the attribute', () => {
    const cfg = resnetConfig('keras3');
    const conv = layersOf(cfg).find((l) => l.name === 'conv2d_7')!;
    conv.config.filters = 32;
    expect(() => matchArchitecture(parseModelConfig(cfg, 'm.keras'), 'm.keras')).toThrow(
      /m\.keras: no layer in the file matches the notebook's Conv2D 'conv2d_7'.*'conv2d_7' \(Conv2D\): filters 32 \(expected 256\)/,
    );
  });

  test('a BatchNormalization with another epsilon is refused, naming the layer', () => {
    const cfg = resnetConfig('keras2');
    layersOf(cfg).find((l) => l.name === 'batch_normalization_3')!.config.epsilon = 1.001e-5;
    expect(() => matchArchitecture(parseModelConfig(cfg, 'k2.h5'), 'k2.h5')).toThrow(
      /'batch_normalization_3' \(BatchNormalization\): epsilon 0\.00001001 \(expected 0\.001\)/,
    );
  });

  test('an extra layer class (Dropout) is refused, naming it', () => {
    const cfg = resnetConfig('keras3');
    const layers = layersOf(cfg);
    const flat = layers.find((l) => l.class_name === 'Flatten')!;
    layers.push({
      ...(JSON.parse(JSON.stringify(flat)) as LayerJson),
      class_name: 'Dropout',
      name: 'dropout',
      config: { name: 'dropout', rate: 0.5 },
    });
    expect(() => matchArchitecture(parseModelConfig(cfg, 'd.keras'), 'd.keras')).toThrow(
      /layer 'dropout' \(Dropout\) is not a layer of the notebook's architecture/,
    );
  });

  test('a missing identity block (fewer layers) is refused with the counts', () => {
    const g = parseModelConfig(resnetConfig('keras3'), 'short');
    // Drop the last Conv2D: the class counts no longer match.
    const lastConv = [...g.layers].reverse().find((l) => l.className === 'Conv2D')!;
    g.layers = g.layers.filter((l) => l !== lastConv);
    expect(() => matchArchitecture(g, 'short')).toThrow(
      "short: the file has 52 Conv2D layer(s), the notebook's resnet50 has 53",
    );
  });

  test('rewired layers (same classes and attributes, shortcut taken from the wrong layer) are refused', () => {
    const g = parseModelConfig(resnetConfig('keras3'), 'rewired');
    const add = g.layers.find((l) => l.name === 'add_1')!;
    add.inbound = [add.inbound[0], 'activation_3'];
    expect(() => matchArchitecture(g, 'rewired')).toThrow(/rewired: no layer in the file matches the notebook's/);
  });

  test('Sequential models and non-Keras JSON are refused', () => {
    expect(() => parseModelConfig({ class_name: 'Sequential', config: { layers: [] } }, 's.h5')).toThrow(
      /s\.h5: the model is a Sequential model/,
    );
    expect(() => parseModelConfig('{not json', 'j.h5')).toThrow(/j\.h5: the model config is not valid JSON/);
  });
});

describe('weights that do not fit: errors name the layer', () => {
  const spec = (async () => await importKerasModel(path.join(DIR, manifest.blocks[0].files['keras3-h5'].file)))();

  test('missing, extra, misnamed, wrong shape and float64 weights (mapWeights)', async () => {
    const m = await spec;
    const toFile = new Map(m.spec.layers.map((l) => [l.name, l.name]));
    const stored = (): Map<string, StoredWeight[]> =>
      new Map(
        [...m.weights].map(([k, ws]) => [
          k,
          ws.map((w) => ({
            storedName: `${k}/${w.name}:0`,
            array: { shape: [...w.shape], dtype: 'float32', data: w.data },
          })),
        ]),
      );
    expect(() => mapWeights(m.spec, toFile, stored(), 'x.h5')).not.toThrow();
    const s1 = stored();
    s1.get('batch_normalization')!.pop();
    expect(() => mapWeights(m.spec, toFile, s1, 'x.h5')).toThrow(
      "x.h5: layer 'batch_normalization' (BatchNormalization): missing weight(s): the file has 3 (batch_normalization/gamma:0, batch_normalization/beta:0, batch_normalization/moving_mean:0), expected 4 (gamma, beta, moving_mean, moving_variance)",
    );
    const s2 = stored();
    s2.get('conv2d')!.reverse();
    expect(() => mapWeights(m.spec, toFile, s2, 'x.h5')).toThrow(
      "x.h5: layer 'conv2d' (Conv2D): weight #0 is 'conv2d/bias:0', expected 'kernel'",
    );
    const s3 = stored();
    s3.get('conv2d_1')![0].array.shape = [1, 3, 4, 4];
    expect(() => mapWeights(m.spec, toFile, s3, 'x.h5')).toThrow(
      "x.h5: layer 'conv2d_1' (Conv2D): weight 'kernel' has shape [1, 3, 4, 4] in the file, expected [3, 3, 4, 4]",
    );
    const s4 = stored();
    s4.set('activation', [
      { storedName: 'activation/alpha:0', array: { shape: [1], dtype: 'float32', data: new Float32Array(1) } },
    ]);
    expect(() => mapWeights(m.spec, toFile, s4, 'x.h5')).toThrow(
      "x.h5: layer 'activation' (Activation) has 1 stored weight(s) (activation/alpha:0); it should have none",
    );
  });

  const expectations: Record<string, RegExp> = {
    'bad/missing-weight.h5':
      /layer 'batch_normalization_1' \(BatchNormalization\): missing weight\(s\): the file has 3 .*expected 4 \(gamma, beta, moving_mean, moving_variance\)/,
    'bad/wrong-shape.h5':
      /layer 'conv2d_1' \(Conv2D\): weight 'kernel' has shape \[2, 2, 4, 4\] in the file, expected \[3, 3, 4, 4\]/,
    'bad/float64-weight.h5':
      /layer 'conv2d' \(Conv2D\): weight 'bias' is stored as float64; the notebook's model is float32/,
    'bad/not-notebook.h5':
      /layer 'global_average_pooling2d' \(GlobalAveragePooling2D\) is not a layer of the notebook's architecture/,
    'bad/identity_block.weights.h5': /a weights-only file \(model\.save_weights\) without the model config/,
  };
  for (const [file, re] of Object.entries(expectations)) {
    test(`${file} (written by Keras / h5py) is refused: ${re.source.slice(0, 60)}...`, async () => {
      expect(manifest.bad.map((b) => b.file)).toContain(file);
      const e = await importError(path.join(DIR, file));
      expect(e.message).toMatch(re);
      expect(e.message.startsWith(path.join(DIR, file))).toBe(true);
    });
  }
});

describe('unreadable files', () => {
  const h5 = fs.readFileSync(path.join(DIR, manifest.blocks[0].files['keras3-h5'].file));
  const archive = fs.readFileSync(path.join(DIR, manifest.blocks[0].files['keras-archive'].file));

  test('a truncated .h5 (HDF5 sees the end-of-file mismatch)', async () => {
    const e = await importError(new Uint8Array(h5.subarray(0, Math.floor(h5.length / 2))), 'cut.h5');
    expect(e.kind).toBe('unreadable');
    expect(e.message).toMatch(/^cut\.h5: cannot open the HDF5 file \(truncated or corrupt\?\): .*truncated file/);
  });

  test('a truncated .keras archive', async () => {
    const e = await importError(new Uint8Array(archive.subarray(0, archive.length - 200)), 'cut.keras');
    expect(e.kind).toBe('unreadable');
    expect(e.message).toMatch(/^cut\.keras: cannot read the \.keras archive \(truncated or corrupt zip\?\)/);
  });

  test('an .h5 with a damaged superblock / metadata is refused, not crashed on', async () => {
    const bad = new Uint8Array(h5);
    for (let i = 64; i < 2048; i++) bad[i] = 0xa5;
    const e = await importError(bad, 'damaged.h5');
    expect(e.kind).toBe('unreadable');
    expect(e.message).toMatch(/^damaged\.h5: /);
  });

  test('empty, random and non-model files', async () => {
    expect((await importError(new Uint8Array(0), 'empty.h5')).message).toBe('empty.h5: the file is empty');
    expect((await importError(new Uint8Array(Buffer.from('just some text, not a model')), 'notes.h5')).message).toBe(
      'notes.h5: not a Keras model file (neither a .keras zip archive nor an HDF5 .h5 file)',
    );
    const ds = fs.readFileSync(path.join(DIR, 'datasets', 'test_signs_synthetic.h5'));
    expect((await importError(new Uint8Array(ds), 'signs.h5')).message).toBe(
      'signs.h5: an HDF5 file without a Keras model_config attribute (not a model saved by Keras model.save())',
    );
    const missing = path.join(os.tmpdir(), `no-such-model-${process.pid}.h5`);
    expect((await importError(missing)).message).toBe(`${missing}: cannot read: ENOENT`);
  });
});

describe('CLI: bad model input exits 2 with the reason', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'import-cli-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const img = path.join(DIR, 'images', 'rgb-64x64.png');

  test('truncated model file', async () => {
    const h5 = fs.readFileSync(path.join(DIR, manifest.blocks[0].files['keras3-h5'].file));
    const cut = path.join(tmp, 'cut.h5');
    fs.writeFileSync(cut, h5.subarray(0, 5000));
    const r = await runCli(['classify', '--model', cut, '--image', img, '--adapters', 'reference']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/classify: --model: .*cut\.h5: cannot open the HDF5 file \(truncated or corrupt\?\)/);
  });

  test('a model that is not this architecture', async () => {
    const r = await runCli([
      'evaluate',
      '--model',
      path.join(DIR, 'bad', 'not-notebook.h5'),
      '--dataset',
      path.join(DIR, 'datasets', 'test_signs_synthetic.h5'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /evaluate: --model: .*not-notebook\.h5: layer 'global_average_pooling2d' \(GlobalAveragePooling2D\) is not a layer/,
    );
  });

  test('a block model where the classifier is needed', async () => {
    const r = await runCli([
      'classify',
      '--model',
      path.join(DIR, manifest.blocks[1].files['keras-archive'].file),
      '--image',
      img,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds the notebook's convolutional_block, not its ResNet-50 classifier/);
  });
});
