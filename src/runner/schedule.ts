/**
 * Order in which adapter workers start. With 2 lanes and one adapter much slower than the rest
 * (tfjs-cpu on ResNet-50), starting the slowest first shortens the run (longest-processing-time
 * first). Durations come from the newest complete report in the run's parent folder (e.g. reports/);
 * without one (a fresh clone), from TYPICAL_DURATIONS_MS below. Adapters with neither start first,
 * in registry order. The order never changes the report (results are sorted), only the wall time.
 */
import * as fs from 'fs';
import * as path from 'path';
import { COMPLETE_MARKER, REPORT_FILES } from '../report/write';

/**
 * Typical durations of the default run's adapters, measured on the 2-core development machine
 * (run 20261128T045507Z, default fixtures, --jobs 2). Only the order matters; update when an
 * adapter gets much faster or slower.
 */
export const TYPICAL_DURATIONS_MS: Readonly<Record<string, number>> = {
  'tfjs-cpu': 28_300,
  'onnxruntime-cpu': 10_200,
  'reference-tf32': 9_100,
  'reference-fp32': 8_000,
  reference: 8_000,
  'onnxruntime-cpu-noopt': 7_200,
  'tfjs-wasm': 2_700,
};

/** Adapter durations (ms) of the newest complete run directory under `dir`, or an empty map. */
export function historicalDurations(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const runs = fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, COMPLETE_MARKER)))
      .map((d) => ({ name: d.name, mtime: fs.statSync(path.join(dir, d.name, COMPLETE_MARKER)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const r of runs.slice(0, 5)) {
      const report = JSON.parse(fs.readFileSync(path.join(dir, r.name, REPORT_FILES.json), 'utf8')) as {
        adapters?: Array<{ id?: unknown; durationMs?: unknown }>;
      };
      for (const a of report.adapters ?? []) {
        if (typeof a.id === 'string' && typeof a.durationMs === 'number' && !out.has(a.id)) out.set(a.id, a.durationMs);
      }
    }
  } catch {
    /* no readable history */
  }
  if (out.size === 0) for (const [id, ms] of Object.entries(TYPICAL_DURATIONS_MS)) out.set(id, ms);
  return out;
}

/** Stable sort: unknown durations first (registry order kept), then known ones, longest first. */
export function orderByHistory<T extends { entry: { id: string } }>(jobs: T[], durations: Map<string, number>): T[] {
  if (durations.size === 0) return [...jobs];
  return jobs
    .map((j, i) => ({ j, i, d: durations.get(j.entry.id) }))
    .sort((a, b) => {
      if (a.d === undefined || b.d === undefined)
        return a.d === undefined && b.d === undefined ? a.i - b.i : a.d === undefined ? -1 : 1;
      return b.d - a.d || a.i - b.i;
    })
    .map((x) => x.j);
}
