/**
 * The one check every adapter makes of a run's input against the built model: NHWC, batch first,
 * batch >= 1, the model's input shape, and as many values as the shape holds. Each adapter throws
 * its own error type with the text returned here (prefixed with its id).
 */
import type { ModelSpec } from '../model/types';
import { formatShape, sizeOf, type Tensor } from '../tensor';

/** What is wrong with `input` for `spec` (null: nothing). */
export function inputProblem(spec: ModelSpec, input: Tensor): string | null {
  const inputShape = spec.layers.find((l) => l.name === spec.input)!.outputShape;
  const shape = input.shape;
  if (
    shape.length !== inputShape.length + 1 ||
    !Number.isInteger(shape[0]) ||
    !(shape[0] >= 1) ||
    inputShape.some((d, i) => shape[i + 1] !== d)
  ) {
    return `input shape ${formatShape(shape)} does not match the model input: expected ${formatShape([null, ...inputShape])} (NHWC, N >= 1)`;
  }
  if (input.data.length !== sizeOf(shape)) {
    return `input data has ${input.data.length} values but shape ${formatShape(shape)} needs ${sizeOf(shape)}`;
  }
  return null;
}

/** Throws `${id}: <problem>` when the input does not fit the model. */
export function checkInput(id: string, spec: ModelSpec, input: Tensor): void {
  const problem = inputProblem(spec, input);
  if (problem) throw new Error(`${id}: ${problem}`);
}
