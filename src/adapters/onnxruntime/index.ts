export { OnnxRuntimeAdapter } from './adapter';
export type { OnnxRuntimeOptions, GraphOptimizationLevel } from './adapter';
export { checkCudaRequirements, CUDA_INSTALL_FIX, CUDA_PROVIDER_LIBS, CUDA_RUNTIME_LIBS } from './cuda-probe';
export type { CudaRequirement } from './cuda-probe';
export { loadOrt, tryLoadOrt, ortBinaryDir } from './load';
