/**
 * The bank as an adapter module (docs/adapters.md: adapters from a module), so that any command can run a
 * mutant with the full report: `resnet-conformance run --adapter-module src/mutants/adapters.ts
 * --adapters mutant-conv-bias-dropped`.
 */
import type { AdapterEntry } from '../adapters/types';
import { mutantEntry } from './adapter';
import { MUTANTS } from './bank';

export const adapters: AdapterEntry[] = MUTANTS.map(mutantEntry);
