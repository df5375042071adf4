export { MUTANTS, mutantAdapterId, mutantTargets, selectMutants, type Mutant, type MutantCategory } from './bank';
export { MutantAdapter, mutantEntry } from './adapter';
export { renderMutationMarkdown, scoreLines } from './render';
export {
  runMutant,
  runMutation,
  summarizeMutation,
  MUTATION_SCHEMA,
  MUTATION_VERSION,
  type MutantOutcome,
  type MutationReport,
  type MutationSummary,
} from './score';
