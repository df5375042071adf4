/**
 * The package's public entry (`require('resnet-conformance')`, `import type ... from
 * 'resnet-conformance'`): the adapter contract a runtime kept outside this repository implements
 * for `--adapter-module`, the registry, and the CLI's main. Its declarations need no @types/node,
 * so a third party type-checks against them with any tsconfig. The external-program host
 * (createCommandAdapterEntry, CommandAdapterOptions; needs @types/node) is
 * `resnet-conformance/dist/adapters/external/command.js`. Loading
 * this module loads no runtime (adapters load theirs in probe/build).
 */
export type {
  Adapter,
  AdapterDescription,
  AdapterEntry,
  KernelProfile,
  PrecisionProfile,
  ProbeOptions,
  ProbeResult,
  RunOptions,
  RunResult,
} from './adapters/types';
export type { Boundary, LayerSpec, ModelName, ModelSpec, ModelWeights, ParamCount, WeightTensor } from './model/types';
export type { DType, Tensor } from './tensor';
export type { AdapterCommandSource, AdapterSources } from './adapters/pool';
export type { ExternalFaultKind } from './adapters/external/errors';
export { ADAPTERS } from './adapters/registry';
export { main } from './cli/main';
