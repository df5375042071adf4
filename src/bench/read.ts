/** Reading bench results from disk (for `bench --compare` and for `compare` when given bench files). */
import * as fs from 'fs';
import { BENCH_KIND, BenchReadError, parseBench, type BenchReport } from './schema';

export function readBenchFile(file: string): BenchReport {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new BenchReadError(`cannot read bench result ${file} (${(err as Error).message})`);
  }
  return parseBench(text, file);
}

/** Whether `file` is a JSON file holding a bench result (kind "resnet-conformance-bench"); false for anything else, including directories. */
export function isBenchFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { kind?: unknown } | null;
    return typeof raw === 'object' && raw !== null && raw.kind === BENCH_KIND;
  } catch {
    return false;
  }
}
