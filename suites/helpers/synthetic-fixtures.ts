/**
 * A small, self-made fixtures folder for the runner's tests (independent of the committed Keras
 * fixtures, which may change): block models in both BatchNorm modes, optionally one ResNet-50 case
 * with activations at every block boundary, expected values from the float64 reference adapter.
 * The manifest has the same schema as fixtures/manifest.json and passes its validator.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ReferenceAdapter } from '../../src/adapters/reference';
import type { FixtureCase, FixtureManifest, KerasGeneratedSource, TensorRef } from '../../src/golden/manifest';
import { parseManifest } from '../../src/golden/load';
import { initModelWeights } from '../../src/init';
import { encodeNpy } from '../../src/tensor/npy';
import { buildModel, type ModelArgs } from '../../src/model/model-args';
import { summary } from '../../src/model/summary';
import type { Tensor } from '../../src/tensor';

const SOURCE: KerasGeneratedSource = {
  kind: 'keras-generated',
  floatx: 'float64',
  tensorflow: 'n/a (synthetic test fixture)',
  keras: 'n/a (synthetic test fixture)',
  python: 'n/a',
  numpy: 'n/a',
  command: 'suites/helpers/synthetic-fixtures.ts (expected values from the float64 reference adapter)',
  date: '2000-01-01',
};

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function writeTensor(dir: string, rel: string, t: Tensor, extra: Partial<TensorRef> = {}): TensorRef {
  const bytes = encodeNpy(t, rel);
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  return {
    file: rel,
    sha256: sha(bytes),
    shape: [...t.shape],
    dtype: t.data instanceof Float64Array ? 'float64' : 'float32',
    ...extra,
  };
}

/** Deterministic input in [0, 1): a fixed integer hash of the index. */
function input(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (((i * 2654435761) >>> 0) % 1000) / 1000;
  return { shape, data };
}

interface CaseSpec {
  id: string;
  caseClass: string;
  model: ModelArgs;
  batch: number;
  training: boolean;
  checks: string[];
  /** Capture every block boundary (ResNet-50). */
  boundaries?: boolean;
}

export interface SyntheticOptions {
  /** Add one ResNet-50 (64×64×3, 6 classes, batch 1, inference) case with every boundary activation. */
  resnet50?: boolean;
}

export const SYNTHETIC_BLOCK_CASES = ['identity/inference', 'identity/training', 'conv/inference', 'conv/training'];

export async function writeSyntheticFixtures(dir: string, opts: SyntheticOptions = {}): Promise<FixtureManifest> {
  const id: ModelArgs = { model: 'identity_block', f: 3, filters: [4, 4, 3], inputShape: [4, 4, 3] };
  const conv: ModelArgs = { model: 'convolutional_block', f: 2, filters: [2, 4, 6], s: 2, inputShape: [4, 4, 3] };
  const specs: CaseSpec[] = [
    {
      id: 'identity/inference',
      caseClass: 'block-inference',
      model: id,
      batch: 2,
      training: false,
      checks: ['nonnegative'],
    },
    {
      id: 'identity/training',
      caseClass: 'block-training',
      model: id,
      batch: 2,
      training: true,
      checks: ['nonnegative'],
    },
    {
      id: 'conv/inference',
      caseClass: 'block-inference',
      model: conv,
      batch: 2,
      training: false,
      checks: ['nonnegative'],
    },
    {
      id: 'conv/training',
      caseClass: 'block-training',
      model: conv,
      batch: 2,
      training: true,
      checks: ['nonnegative'],
    },
  ];
  if (opts.resnet50) {
    specs.push({
      id: 'resnet50/inference',
      caseClass: 'resnet50-inference',
      model: { model: 'resnet50', inputShape: [64, 64, 3], classes: 6 },
      batch: 1,
      training: false,
      checks: ['softmax-rows-sum-to-1'],
      boundaries: true,
    });
  }

  const cases: FixtureCase[] = [];
  const models = new Map<string, ModelArgs>();
  for (const s of specs) {
    const spec = buildModel(s.model);
    models.set(JSON.stringify(s.model), s.model);
    const ref = new ReferenceAdapter({ precision: 'fp64' });
    await ref.build(spec, initModelWeights(spec));
    const x = input([s.batch, ...(s.model.inputShape ?? [])]);
    const capture = s.boundaries ? spec.boundaries.map((b) => b.layer).filter((l) => l !== spec.output) : [];
    const r = await ref.run(x, { training: s.training, capture: capture.length ? capture : undefined });
    const slug = s.id.replace(/\//g, '-');
    const expected: FixtureCase['expected'] = { output: writeTensor(dir, `data/${slug}/output.npy`, r.output) };
    if (capture.length) {
      expected.intermediates = {};
      for (const layer of capture) {
        const cls = layer.endsWith(':logits') ? 'resnet50-inference-logits' : 'resnet50-inference-activations';
        expected.intermediates[layer] = writeTensor(
          dir,
          `data/${slug}/${layer.replace(/[^A-Za-z0-9_]/g, '_')}.npy`,
          r.intermediates[layer],
          { caseClass: cls },
        );
      }
    }
    cases.push({
      id: s.id,
      caseClass: s.caseClass,
      description: `synthetic ${s.id}`,
      model: s.model,
      training: s.training,
      input: writeTensor(dir, `data/${slug}/input.npy`, x, { recipe: 'synthetic hash of the index' }),
      expected,
      checks: s.checks,
      source: SOURCE,
    });
    await ref.dispose();
  }

  const summaries = [...models.values()].map((m) => {
    const s = summary(buildModel(m));
    return { model: m, rows: s.rows, totals: s.totals };
  });
  const weightDigests = [...models.values()].map((m) => {
    const spec = buildModel(m);
    const w = initModelWeights(spec);
    return {
      model: m,
      weights: [...w.entries()].flatMap(([layer, list]) =>
        list.map((t) => ({
          layer,
          name: t.name,
          shape: t.shape,
          trainable: t.trainable,
          sha256: sha(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
        })),
      ),
    };
  });
  const manifest = {
    schemaVersion: 1,
    about: 'synthetic fixtures for the runner tests (suites/helpers/synthetic-fixtures.ts); not Keras values',
    generator: {
      script: 'suites/helpers/synthetic-fixtures.ts',
      command: 'writeSyntheticFixtures()',
      versions: { tensorflow: 'n/a', keras: 'n/a', python: 'n/a', numpy: 'n/a' },
      settings: {},
      publishedValues: 'n/a',
    },
    cases,
    summaries,
    weightDigests,
  };
  const parsed = parseManifest(JSON.parse(JSON.stringify(manifest)), path.join(dir, 'manifest.json'));
  fs.writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return parsed;
}
