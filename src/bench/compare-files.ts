/**
 * Comparing two bench result files from the command line: `bench --compare a.json b.json` and
 * `compare a.json b.json` (two bench results) share the options, the reading and the summary. The
 * options come parsed (src/cli/commands/bench-compare-options.ts).
 */
import * as fs from 'fs';
import type { BenchComparison, Normalize } from './compare';
import { parseNoiseProfile, type NoiseProfile } from '../calibration/noise-profile';
import { readBenchFile } from './read';
import { BenchReadError, type BenchReport } from './schema';

export interface BenchCompareOptions {
  floor: number;
  normalize: Normalize;
  /** --noise-profile, when given. */
  profileFile?: string;
}

/** Reads both bench results and the noise profile, if any; any problem is a BenchReadError naming the file. */
export function readBenchPair(
  aPath: string,
  bPath: string,
  profileFile: string | undefined,
): { a: BenchReport; b: BenchReport; profile?: NoiseProfile } {
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
export function benchComparisonText(
  c: BenchComparison,
  aPath: string,
  bPath: string,
  profileFile: string | undefined,
): string {
  const within = c.rows.filter((r) => r.verdict === 'within-noise').length;
  const normalized = c.rows.filter((r) => r.normalized).length;
  const head =
    `bench compare ${aPath} → ${bPath}: ${c.regressions} regression(s), ${c.improvements} improvement(s), ` +
    `${within} within noise (floor ${(c.floor * 100).toFixed(0)}%${profileFile !== undefined ? `, noise profile ${profileFile}` : ''}; ` +
    `${normalized} of ${c.rows.length} rows compared relative to the ceiling)\n`;
  return head + c.lines.map((l) => `  ${l}\n`).join('');
}
