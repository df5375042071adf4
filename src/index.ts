/**
 * The package's public entry (`require('resnet-conformance')`, `import type ... from
 * 'resnet-conformance'`): the adapter contract a runtime kept outside this repository implements
 * for `--adapter-module`, the external-program adapter host, and the CLI's main. Everything else is
 * internal. Loading this module loads no runtime (adapters load theirs in probe/build).
 */
export type {
  Adapter, AdapterDescription, AdapterEntry, KernelProfile, PrecisionProfile, ProbeOptions, ProbeResult, RunOptions, RunResult,
} from './adapters/types';
export type {
  Boundary, LayerSpec, ModelName, ModelSpec, ModelWeights, ParamCount, WeightTensor,
} from './spec/types';
export type { DType, Tensor } from './tensor';
export type { AdapterCommandSource, AdapterSources } from './adapters/modules';
export {
  CommandAdapter, createCommandAdapterEntry, resolveCommandAdapterEntry, ExternalAdapterError, externalFaultStatus, PROTOCOL_VERSION,
  type CommandAdapterOptions, type ExternalFaultKind,
} from './adapters/external/command';
export { ADAPTERS } from './adapters/registry';
export { main } from './cli/main';
