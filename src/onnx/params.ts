/**
 * Parameter count of an exported ONNX model, read from its initializers and mapped back to
 * Keras's accounting:
 *
 *   `<layer>/kernel`, `<layer>/bias`, `<layer>/gamma`, `<layer>/beta`   trainable
 *   `<layer>/moving_mean`, `<layer>/moving_variance`                     non-trainable
 *   `const/...` (Pad pads, Unsqueeze axes, BN epsilon)                   not parameters: ignored
 *
 * Any other initializer name is an error (the mapping would be guesswork). The element count of
 * each initializer is checked against its raw data. Only an inference-mode export holds the moving
 * statistics (a training-mode graph does not read them), so only it gives Keras's full count;
 * for a training-mode model `movingStatisticsPresent` is false.
 */
import type { ModelSpec, ParamCount } from '../model/types';
import { CONST_PREFIX } from './onnx-graph';
import { DataType, decodeInitializers, type TensorProto } from './proto';

const TRAINABLE = new Set(['kernel', 'bias', 'gamma', 'beta']);
const NON_TRAINABLE = new Set(['moving_mean', 'moving_variance']);

export interface OnnxParamCount extends ParamCount {
  /** Number of initializers counted as parameters / ignored as helper constants. */
  parameterInitializers: number;
  helperConstants: number;
  movingStatisticsPresent: boolean;
}

const BYTES: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.INT64]: 8 };

/** `model`: a decoded ModelProto, or just its initializers (decodeInitializers). */
export function onnxParamCount(model: { graph: { initializer?: TensorProto[] } }): OnnxParamCount {
  const out: OnnxParamCount = {
    total: 0,
    trainable: 0,
    nonTrainable: 0,
    parameterInitializers: 0,
    helperConstants: 0,
    movingStatisticsPresent: false,
  };
  for (const t of model.graph.initializer ?? []) {
    const dims = (t.dims ?? []).map(Number);
    const n = dims.reduce((p, d) => p * d, 1);
    const width = BYTES[t.dataType];
    if (width === undefined) throw new Error(`initializer '${t.name}' has unsupported data type ${t.dataType}`);
    const bytes = t.rawData?.length ?? 0;
    if (bytes !== n * width) {
      throw new Error(
        `initializer '${t.name}': ${bytes} bytes of raw data for dims [${dims.join(',')}] (${n * width} expected)`,
      );
    }
    if (t.name.startsWith(CONST_PREFIX)) {
      out.helperConstants++;
      continue;
    }
    const slash = t.name.lastIndexOf('/');
    const weight = slash >= 0 ? t.name.slice(slash + 1) : '';
    if (t.dataType !== DataType.FLOAT) throw new Error(`parameter initializer '${t.name}' is not float32`);
    if (TRAINABLE.has(weight)) out.trainable += n;
    else if (NON_TRAINABLE.has(weight)) {
      out.nonTrainable += n;
      out.movingStatisticsPresent = true;
    } else
      throw new Error(
        `initializer '${t.name}' does not map to a Keras weight (expected <layer>/kernel|bias|gamma|beta|moving_mean|moving_variance or ${CONST_PREFIX}*)`,
      );
    out.parameterInitializers++;
  }
  out.total = out.trainable + out.nonTrainable;
  return out;
}

/**
 * Keras's parameter count of `spec` from the serialized inference-mode model (the one that holds
 * every Keras weight), read from the initializers of the bytes a runtime is given (without copying
 * their data). Throws when the model lacks the BatchNormalization moving statistics.
 */
export function inferenceModelParamCount(who: string, spec: ModelSpec, bytes: Uint8Array): ParamCount {
  const c = onnxParamCount({ graph: { initializer: decodeInitializers(bytes) } });
  if (!c.movingStatisticsPresent && spec.layers.some((l) => l.className === 'BatchNormalization')) {
    throw new Error(`${who}: the inference-mode ONNX model lacks the BatchNormalization moving statistics`);
  }
  return { total: c.total, trainable: c.trainable, nonTrainable: c.nonTrainable };
}
