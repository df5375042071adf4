/**
 * Import a saved Keras model (the notebook's `tf.keras.models.load_model('resnet50.h5')`) so that
 * every adapter can run it:
 *
 *  - `.h5` legacy HDF5, Keras 2 layout (tf.keras 2.x, the notebook's era) and Keras 3 layout;
 *  - `.keras` Keras 3 archive (zip: config.json, metadata.json, model.weights.h5).
 *
 * The format is recognised from the content (zip or HDF5 signature), not the file name. The stored
 * config must be the notebook's ResNet-50 or one of its blocks (src/import/architecture.ts), and
 * every weight, BatchNorm moving mean/variance included, is mapped onto the spec
 * (src/import/weights.ts). Errors are ModelImportError naming the file and the layer.
 */
import * as fs from 'fs';
import { unzipSync } from 'fflate';
import type { ModelSpec, ModelWeights } from '../model/types';
import { matchArchitecture } from './architecture';
import { ModelImportError } from './errors';
import { hasHdf5Signature, H5File } from './h5';
import { parseModelConfig, type KerasDialect } from './keras-config';
import { mapWeights, readArchiveWeights, readLegacyH5Weights, type StoredWeight } from './weights';

export { ModelImportError, type ModelImportErrorKind } from './errors';
export { weightsDigest, type WeightsDigest, type TensorDigest } from './digest';

export type KerasFileFormat = 'keras2-h5' | 'keras3-h5' | 'keras-archive';

export const FORMAT_DESCRIPTIONS: Readonly<Record<KerasFileFormat, string>> = {
  'keras2-h5': 'legacy HDF5, Keras 2 (tf.keras) layout',
  'keras3-h5': 'legacy HDF5, Keras 3 layout',
  'keras-archive': 'Keras 3 .keras archive',
};

export interface ImportedModel {
  /** The notebook model the file holds (layer names: the spec's fresh-session names). */
  spec: ModelSpec;
  /** The stored weights, keyed by spec layer name, in Keras order. */
  weights: ModelWeights;
  format: KerasFileFormat;
  /** keras_version recorded in the file ('' when absent). */
  kerasVersion: string;
  /** Spec layer name -> layer name in the file (differs when the model was built in a used session). */
  layerNames: Map<string, string>;
  notes: string[];
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

function unreadable(message: string): never {
  throw new ModelImportError('unreadable', message);
}

function wrap(label: string, err: unknown): never {
  if (err instanceof ModelImportError) throw err;
  throw new ModelImportError(
    'unreadable',
    (err as Error).message.startsWith(label) ? (err as Error).message : `${label}: ${(err as Error).message}`,
  );
}

function dialectFormat(d: KerasDialect, kerasVersion: string): KerasFileFormat {
  if (kerasVersion.startsWith('2.') || kerasVersion.startsWith('1.')) return 'keras2-h5';
  if (kerasVersion.startsWith('3.')) return 'keras3-h5';
  return d === 'keras2' ? 'keras2-h5' : 'keras3-h5';
}

async function importLegacyH5(bytes: Uint8Array, label: string): Promise<ImportedModel> {
  let f: H5File;
  try {
    f = await H5File.open(bytes, label);
  } catch (err) {
    return wrap(label, err);
  }
  try {
    let configText: string | undefined;
    let kerasVersion = '';
    try {
      configText = f.stringAttr('/', 'model_config');
      kerasVersion = f.stringAttr('/', 'keras_version') ?? f.stringAttr('/model_weights', 'keras_version') ?? '';
    } catch (err) {
      return wrap(label, err);
    }
    if (configText === undefined) {
      const weightsOnly = f.attrNames('/').includes('layer_names') || f.kind('/layers') === 'group';
      unreadable(
        weightsOnly
          ? `${label}: a weights-only file (model.save_weights) without the model config; save the whole model with model.save()`
          : `${label}: an HDF5 file without a Keras model_config attribute (not a model saved by Keras model.save())`,
      );
    }
    const graph = parseModelConfig(configText, label);
    const match = matchArchitecture(graph, label);
    if (f.kind('/model_weights') !== 'group') {
      throw new ModelImportError('weights', `${label}: no model_weights group (the model was saved without weights?)`);
    }
    let stored: Map<string, StoredWeight[]>;
    try {
      stored = readLegacyH5Weights(f, '/model_weights');
    } catch (err) {
      // Structural problems are ModelImportError('weights'); anything else is the HDF5 data itself.
      if (err instanceof ModelImportError) throw err;
      throw new ModelImportError('unreadable', (err as Error).message);
    }
    const weights = mapWeights(match.spec, match.toFile, stored, label);
    return {
      spec: match.spec,
      weights,
      format: dialectFormat(graph.dialect, kerasVersion),
      kerasVersion,
      layerNames: match.toFile,
      notes: match.notes,
    };
  } finally {
    f.close();
  }
}

async function importArchive(bytes: Uint8Array, label: string): Promise<ImportedModel> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: (e) => ['config.json', 'metadata.json', 'model.weights.h5'].includes(e.name) });
  } catch (err) {
    return unreadable(
      `${label}: cannot read the .keras archive (truncated or corrupt zip?): ${(err as Error).message}`,
    );
  }
  for (const need of ['config.json', 'model.weights.h5']) {
    if (!files[need]) unreadable(`${label}: the .keras archive has no ${need}`);
  }
  let kerasVersion = '';
  if (files['metadata.json']) {
    try {
      const meta = JSON.parse(Buffer.from(files['metadata.json']).toString('utf8')) as { keras_version?: unknown };
      if (typeof meta.keras_version === 'string') kerasVersion = meta.keras_version;
    } catch (err) {
      unreadable(`${label}: metadata.json is not valid JSON: ${(err as Error).message}`);
    }
  }
  const graph = parseModelConfig(Buffer.from(files['config.json']).toString('utf8'), `${label} (config.json)`);
  const match = matchArchitecture(graph, label);
  const weightsLabel = `${label} (model.weights.h5)`;
  let f: H5File;
  try {
    f = await H5File.open(files['model.weights.h5'], weightsLabel);
  } catch (err) {
    return wrap(weightsLabel, err);
  }
  try {
    let stored: Map<string, StoredWeight[]>;
    try {
      stored = readArchiveWeights(
        f,
        graph.layers.map((l) => l.name),
      );
    } catch (err) {
      if (err instanceof ModelImportError) throw err;
      throw new ModelImportError('unreadable', (err as Error).message);
    }
    const weights = mapWeights(match.spec, match.toFile, stored, weightsLabel);
    return {
      spec: match.spec,
      weights,
      format: 'keras-archive',
      kerasVersion,
      layerNames: match.toFile,
      notes: match.notes,
    };
  } finally {
    f.close();
  }
}

/** Imports a model from bytes; `label` names it in messages (usually the path). */
export async function importKerasModelBytes(bytes: Uint8Array, label: string): Promise<ImportedModel> {
  if (bytes.length === 0) unreadable(`${label}: the file is empty`);
  if (ZIP_MAGIC.every((b, i) => bytes[i] === b)) return importArchive(bytes, label);
  if (hasHdf5Signature(bytes)) return importLegacyH5(bytes, label);
  return unreadable(`${label}: not a Keras model file (neither a .keras zip archive nor an HDF5 .h5 file)`);
}

/** Imports a model file (.h5 or .keras). */
export async function importKerasModel(file: string): Promise<ImportedModel> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    return unreadable(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return importKerasModelBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}
