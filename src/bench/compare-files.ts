/**
 * Comparing two bench result files from the command line: `bench --compare a.json b.json` and
 * `compare a.json b.json` (two bench results) share the options, the reading and the summary.
 */
import * as fs from 'fs';
import { UsageError, str, type ParsedArgs } from '../cli/args';
import { DEFAULT_NOISE_FLOOR, type BenchComparison, type Normalize } from './compare';
import { parseNoiseProfile, type NoiseProfile } from '../calibration/noise-profile';
import { readBenchFile } from './read';
import { BenchReadError, type BenchReport } from './schema';

export interface BenchCompareOptions {
  floor: number;
  normalize: Normalize;
  /** --noise-profile, when given. */
  profileFile?: string;
}

/** `--noise-floor`, `--normalize` and `--noise-profile`; a bad value is a UsageError. */
export function benchCompareOptions(p: ParsedArgs): BenchCompareOptions {
  const floorText = str(p, 'noise-floor');
  const floor = floorText === undefined ? DEFAULT_NOISE_FLOOR : Number(floorText);
  if (!(Number.isFinite(floor) && floor >= 0)) throw new UsageError(`--noise-floor must be a number >= 0 (a fraction: 0.1 = 10%), got '${floorText}'`);
  const normalize = (str(p, 'normalize') ?? 'auto') as Normalize;
  if (!['auto', 'always', 'never'].includes(normalize)) throw new UsageError(`--normalize must be auto, always or never, got '${normalize}'`);
  return { floor, normalize, profileFile: str(p, 'noise-profile') };
}

/** Reads both bench results and the noise profile, if any; any problem is a BenchReadError naming the file. */
export function readBenchPair(aPath: string, bPath: string, profileFile: string | undefined): { a: BenchReport; b: BenchReport; profile?: NoiseProfile } {
  const a = readBenchFile(aPath);
  const b = readBenchFile(bPath);
  if (profileFile === undefined) return { a, b };
  let text: string;
  try {
    text = fs.readFileSync(profileFile, 'utf8');
  } catch (err) {
    throw new BenchReadError(`cannot read noise profile ${profileFile} (${(err as Error).message})`);
  }
  try {
    return { a, b, profile: parseNoiseProfile(text, profileFile) };
  } catch (err) {
    throw new BenchReadError((err as Error).message);
  }
}

/** The printed summary of a comparison: the count line, then one indented line per difference. */
export function benchComparisonText(c: BenchComparison, aPath: string, bPath: string, profileFile: string | undefined): string {
  const within = c.rows.filter((r) => r.verdict === 'within-noise').length;
  const normalized = c.rows.filter((r) => r.normalized).length;
  const head = `bench compare ${aPath} → ${bPath}: ${c.regressions} regression(s), ${c.improvements} improvement(s), `
    + `${within} within noise (floor ${(c.floor * 100).toFixed(0)}%${profileFile !== undefined ? `, noise profile ${profileFile}` : ''}; `
    + `${normalized} of ${c.rows.length} rows compared relative to the ceiling)\n`;
  return head + c.lines.map((l) => `  ${l}\n`).join('');
}
