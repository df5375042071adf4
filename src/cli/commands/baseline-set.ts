/** `run --baseline-set NAME`: the fixtures dir of an imported revision (baselines/NAME), or undefined when not given. */
import { BaselineError, DEFAULT_BASELINES_DIR, baselineSetFixturesDir } from '../../notebook/revision-baseline';
import { UsageError } from '../args';

export function baselineSetFixtures(name: string | undefined, baselinesDir?: string): string | undefined {
  if (name === undefined) {
    if (baselinesDir !== undefined) throw new UsageError('--baselines-dir goes with --baseline-set NAME');
    return undefined;
  }
  try {
    return baselineSetFixturesDir(name, baselinesDir ?? DEFAULT_BASELINES_DIR);
  } catch (e) {
    if (e instanceof BaselineError) throw new UsageError(`--baseline-set: ${e.message}`);
    throw e;
  }
}
