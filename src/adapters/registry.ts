import { ReferenceAdapter } from './reference';
import type { Adapter, AdapterEntry } from './types';

/**
 * The one list of adapters. Adding a runtime = one adapter module + one line here.
 * Adapter modules must not load their runtime package at import time (only in probe/build),
 * so that a missing runtime makes the adapter "unavailable", never the whole harness fail.
 */
export const ADAPTERS: readonly AdapterEntry[] = [
  { id: 'reference', summary: 'pure TypeScript oracle, float64 throughout', profile: 'fp64-reference', outOfTheBox: true, create: () => new ReferenceAdapter({ id: 'reference', precision: 'fp64' }) },
  { id: 'reference-fp32', summary: 'TypeScript reference, every layer output rounded to float32', profile: 'fp32-cpu', outOfTheBox: true, create: () => new ReferenceAdapter({ id: 'reference-fp32', precision: 'fp32' }) },
  { id: 'reference-tf32', summary: 'TypeScript reference emulating TF32 conv/dense operands (GPU emulator)', profile: 'tf32-gpu', outOfTheBox: true, create: () => new ReferenceAdapter({ id: 'reference-tf32', precision: 'tf32' }) },
];

export function adapterIds(): string[] {
  return ADAPTERS.map((a) => a.id);
}

export class UnknownAdapterError extends Error {
  constructor(id: string) {
    super(`unknown adapter '${id}'; known adapters: ${adapterIds().join(', ')}`);
    this.name = 'UnknownAdapterError';
  }
}

export function getAdapterEntry(id: string): AdapterEntry {
  const e = ADAPTERS.find((a) => a.id === id);
  if (!e) throw new UnknownAdapterError(id);
  return e;
}

export function createAdapter(id: string): Adapter {
  return getAdapterEntry(id).create();
}
