/** `--noise-floor`, `--normalize` and `--noise-profile` of `bench --compare` and `compare` on two bench results. */
import { DEFAULT_NOISE_FLOOR, type Normalize } from '../../bench/compare';
import type { BenchCompareOptions } from '../../bench/compare-files';
import { str, UsageError, type ParsedArgs } from '../args';

/** The options as src/bench/compare-files.ts takes them; a bad value is a UsageError. */
export function benchCompareOptions(p: ParsedArgs): BenchCompareOptions {
  const floorText = str(p, 'noise-floor');
  const floor = floorText === undefined ? DEFAULT_NOISE_FLOOR : Number(floorText);
  if (!(Number.isFinite(floor) && floor >= 0))
    throw new UsageError(`--noise-floor must be a number >= 0 (a fraction: 0.1 = 10%), got '${floorText}'`);
  const normalize = (str(p, 'normalize') ?? 'auto') as Normalize;
  if (!['auto', 'always', 'never'].includes(normalize))
    throw new UsageError(`--normalize must be auto, always or never, got '${normalize}'`);
  return { floor, normalize, profileFile: str(p, 'noise-profile') };
}
