/**
 * The smallest model an ONNX Runtime probe can run: y = Relu(x), x of shape [2]. Running it proves
 * that the runtime and its execution provider load, without exporting a real model.
 */
import { ONNX_OPSET } from './export';
import { encodeModel } from './proto';

/** Input of the probe model and the output it must give. */
export const PROBE_INPUT = [-1, 2] as const;
export const PROBE_OUTPUT = [0, 2] as const;

export function probeModelBytes(): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'resnet-conformance probe',
    producerVersion: '0',
    graph: {
      name: 'probe',
      node: [{ input: ['x'], output: ['y'], name: 'relu', opType: 'Relu', attribute: [] }],
      initializer: [],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
    },
    metadataProps: [],
  });
}

/** Throws unless `y` is what the probe model gives for PROBE_INPUT. */
export function checkProbeOutput(y: ArrayLike<number>): void {
  if (y.length !== PROBE_OUTPUT.length || PROBE_OUTPUT.some((v, i) => y[i] !== v)) {
    throw new Error(`probe model returned [${Array.from(y).join(', ')}], expected [${PROBE_OUTPUT.join(', ')}]`);
  }
}
