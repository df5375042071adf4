/**
 * The notebook's published values and the way its tests compare them: `resume` as a flat list,
 * numpy.allclose element by element, nested published arrays flattened.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isClose } from '../../src/compare/metrics';
import { resume } from '../../src/golden/notebook-resume';
import type { Tensor } from '../../src/tensor';

export { notebookX } from '../../src/tensor/sample-inputs';

const PUBLISHED_FILE = path.join(__dirname, '..', '..', 'fixtures', 'published', 'notebook-published.json');

/** `versions` of fixtures/published/notebook-published.json (stateless-cpu, gpu-tf32, ...). */
export function publishedVersions(): Record<string, any> {
  return JSON.parse(fs.readFileSync(PUBLISHED_FILE, 'utf8')).versions;
}

/** The notebook's `A[:, (0,-1), :, :].mean(axis=3)`, shape (N, 2, W), flattened row-major (index b*2W + row*W + col). */
export function resumeValues(t: Tensor): number[] {
  return Array.from(resume(t).data);
}

/** A published nested array (up to 5-D), flattened row-major. */
export const flat = (a: unknown): number[] => (a as unknown[]).flat(4) as number[];

/**
 * numpy.allclose(actual, desired, rtol, atol) element by element, by the product's pass rule
 * (src/compare/metrics.ts isClose): the failing indices and the worst absolute error.
 */
export function allclose(
  actual: ArrayLike<number>,
  desired: ArrayLike<number>,
  rtol: number,
  atol: number,
): { ok: boolean; worstAbs: number; bad: number[] } {
  if (actual.length !== desired.length) throw new Error(`allclose: lengths ${actual.length} vs ${desired.length}`);
  let worstAbs = 0;
  const bad: number[] = [];
  for (let i = 0; i < actual.length; i++) {
    if (!isClose(actual[i], desired[i], atol, rtol)) bad.push(i);
    const d = Math.abs(actual[i] - desired[i]);
    if (!(d <= worstAbs)) worstAbs = d;
  }
  return { ok: bad.length === 0, worstAbs, bad };
}
