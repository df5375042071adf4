/**
 * The package's public entry (`require('resnet-conformance')`, `import type ... from
 * 'resnet-conformance'`): the library API (run, compare, readReport: docs/api.md), the report's
 * types, the adapter contract a runtime kept outside this repository implements for
 * `--adapter-module`, the registry, and the CLI's main. Nothing else of dist/ is public (package.json
 * `exports`). Loading this module loads no runtime (adapters load theirs in probe/build).
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
export type {
  AdapterReport,
  CaseResult,
  CaseStatus,
  ConformanceReport,
  ReportSummary,
  RuntimePackageState,
} from './report/schema';
export type { AdapterCommandOption, ReportComparison, RunApiOptions } from './cli/api';
export { ADAPTERS } from './adapters/registry';
export { main } from './cli/main';
/** The library API (docs/api.md): a run, a comparison of two reports, reading a report. */
export { compare, readReport, run } from './cli/api';
