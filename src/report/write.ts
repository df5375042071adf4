/**
 * Atomic report output. Each file is written to a temporary name in the same directory and renamed
 * into place (rename is atomic on POSIX file systems), so a reader never sees half a file. After all
 * files are in place, a completion marker (complete.json: run id + sha256 of every file) is written
 * last. A run starts by removing the marker and the report files of any earlier run in the same
 * directory, so an interrupted run leaves no report that looks complete.
 */
import * as fs from 'fs';
import * as path from 'path';
import { sha256, writeFileAtomic } from '../util/fs';

export const COMPLETE_MARKER = 'complete.json';
export const REPORT_FILES = { json: 'report.json', md: 'report.md', html: 'report.html', junit: 'junit.xml' } as const;

export interface CompletionMarker {
  runId: string;
  schemaVersion: number;
  files: Record<string, string>;
}

/** Removes the marker and the files of an earlier run in `dir` (call before running). */
export function prepareOutDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(path.join(dir, COMPLETE_MARKER), { force: true });
  for (const f of Object.values(REPORT_FILES)) fs.rmSync(path.join(dir, f), { force: true });
}

/** Writes every file atomically, then the completion marker. */
export function writeReportDir(dir: string, runId: string, schemaVersion: number, files: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(path.join(dir, COMPLETE_MARKER), { force: true });
  const digests: Record<string, string> = {};
  for (const [name, content] of Object.entries(files)) {
    writeFileAtomic(path.join(dir, name), content);
    digests[name] = sha256(content);
  }
  const marker: CompletionMarker = { runId, schemaVersion, files: digests };
  writeFileAtomic(path.join(dir, COMPLETE_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
}

/**
 * When `file` sits next to a completion marker, checks that the marker lists it with the same digest.
 * Returns a problem description, or null when consistent (or when there is no marker to check).
 */
export function checkAgainstMarker(file: string, content: string): string | null {
  const markerFile = path.join(path.dirname(file), COMPLETE_MARKER);
  if (!fs.existsSync(markerFile)) return null;
  let marker: CompletionMarker;
  try {
    marker = JSON.parse(fs.readFileSync(markerFile, 'utf8')) as CompletionMarker;
  } catch (err) {
    return `${markerFile} is not valid JSON (${(err as Error).message})`;
  }
  const want = marker.files?.[path.basename(file)];
  if (want === undefined) return null;
  if (want !== sha256(content))
    return `${file} does not match the digest in ${markerFile} (modified or half-written after the run completed)`;
  return null;
}
