/**
 * Weight digests, to prove an import holds exactly the values Keras saved.
 *
 *   tensor digest   = sha256 of the tensor's float32 little-endian bytes (row-major)
 *   combined digest = sha256 of the lines "<layer>/<weight>:<tensor digest>\n", layers sorted by
 *                     name, weights in Keras order within a layer
 * (fixtures/generate/pretrained.py computes the same from the Keras model, see weight_digest()).
 */
import { createHash } from 'crypto';
import { endianness } from 'os';
import type { ModelWeights } from '../model/types';

export interface TensorDigest {
  layer: string;
  name: string;
  shape: number[];
  sha256: string;
}

export interface WeightsDigest {
  combined: string;
  tensors: TensorDigest[];
}

/** The float32 little-endian bytes of `data` (a view, no copy, on little-endian hosts). */
export function f32LittleEndian(data: Float32Array): Buffer {
  if (endianness() === 'LE') return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const b = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) b.writeFloatLE(data[i], i * 4);
  return b;
}

export function weightsDigest(weights: ModelWeights): WeightsDigest {
  const tensors: TensorDigest[] = [];
  for (const [layer, ws] of weights) {
    for (const w of ws) {
      tensors.push({
        layer,
        name: w.name,
        shape: [...w.shape],
        sha256: createHash('sha256').update(f32LittleEndian(w.data)).digest('hex'),
      });
    }
  }
  const layers = [...new Set(tensors.map((t) => t.layer))].sort();
  const lines = layers.flatMap((l) =>
    tensors.filter((t) => t.layer === l).map((t) => `${t.layer}/${t.name}:${t.sha256}\n`),
  );
  return { combined: createHash('sha256').update(lines.join(''), 'utf8').digest('hex'), tensors };
}
