/**
 * Order in which adapter workers start. With 2 lanes and one adapter much slower than the rest
 * (tfjs-cpu on ResNet-50), starting the slowest first shortens the run (longest-processing-time
 * first; a process group, one worker, by the sum of its adapters). Durations come from the newest
 * complete report in the run's parent folder (e.g. reports/); without one (a fresh clone), from the
 * registry entries' typicalDurationMs. Adapters with neither start first, in registry order. The
 * order never changes the report (results are sorted), only the wall time.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ADAPTERS } from '../adapters/registry';
import type { AdapterEntry } from '../adapters/types';
import { COMPLETE_MARKER, REPORT_FILES } from '../report/write';

/**
 * The registry's typical durations (AdapterEntry.typicalDurationMs): the order for a run without
 * history. Only the order matters.
 */
export function typicalDurations(entries: readonly AdapterEntry[] = ADAPTERS): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of entries) if (e.typicalDurationMs !== undefined) out.set(e.id, e.typicalDurationMs);
  return out;
}

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
  return out.size === 0 ? typicalDurations() : out;
}

/**
 * Longest first, by unit of work: jobs with the same `unitOf` key (adapters of one process group,
 * which run in one worker one after the other: src/runner/orchestrator.ts workerUnits) are ordered
 * by their summed duration and kept together, where their first job stands when nothing is known.
 * Stable: units with an unknown duration (any of its jobs unknown) first, in the given order, then
 * known ones, longest first.
 */
export function orderByHistory<T extends { entry: { id: string } }>(
  jobs: T[],
  durations: Map<string, number>,
  unitOf: (job: T) => string | undefined = () => undefined,
): T[] {
  if (durations.size === 0) return [...jobs];
  const units: Array<{ jobs: T[]; i: number; d: number | undefined }> = [];
  const byKey = new Map<string, (typeof units)[number]>();
  jobs.forEach((j, i) => {
    const key = unitOf(j);
    const d = durations.get(j.entry.id);
    const have = key === undefined ? undefined : byKey.get(key);
    if (have) {
      have.jobs.push(j);
      have.d = have.d === undefined || d === undefined ? undefined : have.d + d;
      return;
    }
    const u = { jobs: [j], i, d };
    units.push(u);
    if (key !== undefined) byKey.set(key, u);
  });
  return units
    .sort((a, b) => {
      if (a.d === undefined || b.d === undefined)
        return a.d === undefined && b.d === undefined ? a.i - b.i : a.d === undefined ? -1 : 1;
      return b.d - a.d || a.i - b.i;
    })
    .flatMap((u) => u.jobs);
}
