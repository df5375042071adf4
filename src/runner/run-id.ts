/**
 * Run ids: the start time (UTC, to the second, so ids sort by time and read as dates) and a random
 * part, so that two runs started in the same second (CI matrix jobs, two terminals) never share an id
 * or a default report folder (reports/<run id>). A shard's id ends in -shard<i>of<n>.
 */
import { randomBytes } from 'crypto';
import { sha256 } from '../util/fs';

/** 20250131T120501Z */
export function runStamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** 20250131T120501Z-3fa9c1 or 20250131T120501Z-3fa9c1-shard2of4 (6 random hex digits: 16.7 M values). */
export function makeRunId(d: Date, shard: { index: number; count: number } | null): string {
  const id = `${runStamp(d)}-${randomBytes(3).toString('hex')}`;
  return shard && shard.count > 1 ? `${id}-shard${shard.index}of${shard.count}` : id;
}

/**
 * The id of a merge of several runs: merged-<start of the earliest part>-<8 hex digits of the sha256
 * of the parts' run ids, sorted>. The same parts in any order give the same id; it is no part's id.
 */
export function mergedRunId(parts: ReadonlyArray<{ runId: string; startedAt: string }>): string {
  const starts = parts.map((p) => Date.parse(p.startedAt)).filter((t) => Number.isFinite(t));
  const stamp = starts.length ? runStamp(new Date(Math.min(...starts))) : 'unknown-start';
  const digest = sha256(
    parts
      .map((p) => p.runId)
      .sort()
      .join('\n'),
  ).slice(0, 8);
  return `merged-${stamp}-${digest}`;
}
