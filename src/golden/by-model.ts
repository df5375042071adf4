/**
 * Fixture cases grouped by the model they build (arguments and weights record): the runner's worker,
 * the mutant scorer and the suites build each model once and run its cases in turn.
 */
import { modelKey } from './load';
import type { FixtureCase } from './manifest';

/** What identifies the model a case needs built: its arguments, and its weights record when it has one. */
export function builtKeyOf(k: FixtureCase): string {
  return k.weights ? `${modelKey(k.model)} weights ${JSON.stringify(k.weights)}` : modelKey(k.model);
}

/** The cases by builtKeyOf, groups and cases in first-appearance order. */
export function casesByModel(cases: readonly FixtureCase[]): Map<string, FixtureCase[]> {
  const groups = new Map<string, FixtureCase[]>();
  for (const k of cases) {
    const key = builtKeyOf(k);
    const g = groups.get(key);
    if (g) g.push(k);
    else groups.set(key, [k]);
  }
  return groups;
}
