/** `run --baseline-set NAME`: the fixtures dir of an imported revision (baselines/NAME), or undefined when not given. */
import { BaselineError, baselineSetFixturesDir } from '../../notebook/baseline';
import { UsageError } from '../args';

export function baselineSetFixtures(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  try {
    return baselineSetFixturesDir(name);
  } catch (e) {
    if (e instanceof BaselineError) throw new UsageError(`--baseline-set: ${e.message}`);
    throw e;
  }
}
