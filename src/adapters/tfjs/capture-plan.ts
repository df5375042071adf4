/**
 * Which outputs a tfjs-layers run must return for a list of captures (spec layer names, or
 * '<dense>:logits' for a softmax Dense layer's pre-activation), as one tfjs model sharing the built
 * model's layers. Shared by the in-process tfjs adapters and the browser page (src/adapters/browser/page).
 */
import { LOGITS_SUFFIX } from '../../model/builders';
import type { DenseSpec, ModelSpec } from '../../model/types';
import type { Tf } from './tf-loader';

type LayersModel = import('@tensorflow/tfjs').LayersModel;
type SymbolicTensor = import('@tensorflow/tfjs').SymbolicTensor;

/** What one run returns besides the model output, in the order of the capture model's extra outputs. */
export interface CapturePlan {
  model: LayersModel;
  /** Layer whose output is each extra output of `model` (after the final output). */
  extraLayers: string[];
  /** `dense:logits` captures: computed from the Dense layer's input, model output number `inputIndex`. */
  logits: { name: string; dense: string; inputIndex: number }[];
  /** Model output number (0 = the final output) holding each captured layer. */
  layerIndex: Map<string, number>;
}

/**
 * The plan for `capture` on `model` (built from `spec`, `outputs`: symbolic output of every spec layer).
 * `label` prefixes errors (the adapter id); `serial` makes the capture model's name unique.
 */
export function buildCapturePlan(
  tf: Pick<Tf, 'model'>,
  spec: ModelSpec,
  model: LayersModel,
  outputs: Map<string, SymbolicTensor>,
  capture: readonly string[],
  label: string,
  serial: number,
): CapturePlan {
  const extra: SymbolicTensor[] = [];
  const extraLayers: string[] = [];
  const logits: CapturePlan['logits'] = [];
  const layerIndex = new Map<string, number>();
  /** Output number of `layer` in the capture model (0: the model output itself, which tfjs will not list twice). */
  const want = (layer: string): number => {
    if (layer === spec.output) return 0;
    let i = extraLayers.indexOf(layer);
    if (i < 0) {
      const t = outputs.get(layer);
      if (!t) throw new Error(`${label}: cannot capture '${layer}': not a layer of ${spec.model}`);
      i = extra.length;
      extra.push(t);
      extraLayers.push(layer);
    }
    return 1 + i;
  };
  for (const name of capture) {
    if (name.endsWith(LOGITS_SUFFIX)) {
      const dense = name.slice(0, -LOGITS_SUFFIX.length);
      const l = spec.layers.find((x) => x.name === dense);
      if (!l || l.className !== 'Dense' || (l as DenseSpec).activation !== 'softmax') {
        throw new Error(
          `${label}: cannot capture '${name}': '${dense}' is not a Dense layer with softmax activation in ${spec.model}`,
        );
      }
      logits.push({ name, dense, inputIndex: want(l.inbound[0]) });
    } else {
      if (!outputs.has(name)) {
        const some = spec.layers
          .map((x) => x.name)
          .slice(0, 8)
          .join(', ');
        throw new Error(
          `${label}: cannot capture '${name}': not a layer of ${spec.model} (layers: ${some}, ...; or '<dense>${LOGITS_SUFFIX}')`,
        );
      }
      layerIndex.set(name, want(name));
    }
  }
  // Capture models share the layers (and weights) of `model`; they are never disposed on their own,
  // because disposing one would dispose the shared layers' weights.
  const captureModel =
    extra.length === 0
      ? model
      : tf.model({
          inputs: model.inputs,
          outputs: [model.outputs[0], ...extra],
          name: `${spec.model}_capture_${serial}`,
        });
  return { model: captureModel, extraLayers, logits, layerIndex };
}
