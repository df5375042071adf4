/**
 * Why a Keras model file could not be imported:
 *  - unreadable: not a Keras model file, empty, truncated or corrupt (HDF5 / zip / JSON level);
 *  - architecture: the stored model is not the notebook's ResNet-50 or one of its blocks
 *    (unknown layer, different layer attributes or wiring);
 *  - weights: the stored weights do not fit the architecture (missing, extra, wrong shape or type).
 * The message names the file and, where there is one, the layer.
 */
export type ModelImportErrorKind = 'unreadable' | 'architecture' | 'weights';

export class ModelImportError extends Error {
  constructor(
    readonly kind: ModelImportErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ModelImportError';
  }
}
