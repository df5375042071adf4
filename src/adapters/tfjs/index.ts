/** TensorFlow.js adapters (tfjs-cpu, tfjs-wasm, tfjs-node, tfjs-node-gpu, tfjs-node-gpu-no-tf32). Loads no tfjs package at import. */
export { TfjsAdapter } from './adapter';
export { TFJS_BACKENDS, tfjsBackend, wasmBinaryFor } from './backends';
export type { TfjsBackendDef } from './backends';
export { buildLayersModel, countParams, layerOutputShapes, layerSummary, loadWeights } from './layers-model';
export type { TfjsLayerSummary } from './layers-model';
export { nodeInstallState, PROVISION_STAMP, TFJS_NODE_VERSION } from './node-install';
export type { ProvisionStamp, TfjsNodePackage } from './node-install';
