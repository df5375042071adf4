/**
 * Atomic report output, one writer per folder. Each file is written to a temporary name in the same directory and renamed
 * into place (rename is atomic on POSIX file systems), so a reader never sees half a file. After all
 * files are in place, a completion marker (complete.json: run id + sha256 of every file) is written
 * last. A run starts by removing the marker and the report files of any earlier run in the same
 * directory, so an interrupted run leaves no report that looks complete. While a run or merge writes a
 * folder it holds a lock there (acquireOutDirLock): a second run with the same --out is refused
 * instead of overwriting the first run's files while both report success.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UsageError } from '../util/errors';
import { sha256, writeFileAtomic } from '../util/fs';

export const COMPLETE_MARKER = 'complete.json';
/** Held in a report folder while a run or merge writes it (acquireOutDirLock). */
export const OUT_DIR_LOCK = '.resnet-conformance.lock';

/** What the lock file records: who holds the folder. */
export interface OutDirLock {
  pid: number;
  host: string;
  runId: string;
  startedAt: string;
}

/** The folder is being written by another live run (the CLI exits 2 with this message). */
export class OutDirBusyError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'OutDirBusyError';
  }
}

/** Whether process `pid` exists on this machine (EPERM: it exists but belongs to another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the report folder `dir` for run `runId`: creates it and, exclusively (O_EXCL), its lock file
 * recording this process's pid, host, run id and start. When another run holds it, an
 * OutDirBusyError names that run and pid, and nothing in the folder is touched. A lock whose process is
 * gone (same host, pid not running: a run killed with SIGKILL, a machine crash) is stale: it is
 * removed (`note` says so) and taken. A lock from another host cannot be checked and is never taken
 * over: the message says to remove it by hand. Returns the release function (removes the lock if it
 * is still this run's).
 */
export function acquireOutDirLock(
  dir: string,
  runId: string,
  note: (line: string) => void = () => undefined,
): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, OUT_DIR_LOCK);
  const mine: OutDirLock = { pid: process.pid, host: os.hostname(), runId, startedAt: new Date().toISOString() };
  const text = `${JSON.stringify(mine)}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, text, { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8') === text) fs.rmSync(file, { force: true });
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let held: Partial<OutDirLock> = {};
    try {
      held = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<OutDirLock>;
    } catch {
      /* unreadable or half-written: judged below by what it holds (nothing) */
    }
    const who = `run ${held.runId ?? '(unknown)'} (pid ${held.pid ?? '?'} on ${held.host ?? '?'}, started ${held.startedAt ?? '?'})`;
    const sameHost = held.host === mine.host;
    if (typeof held.pid === 'number' && sameHost && !processAlive(held.pid)) {
      note(`removed a stale lock in ${dir}: ${who} is no longer running`);
      fs.rmSync(file, { force: true });
      continue;
    }
    if (typeof held.pid !== 'number' || !sameHost) {
      throw new OutDirBusyError(
        `${dir} is locked by ${who}, which cannot be checked from here; if no run is writing it, remove ${file}`,
      );
    }
    throw new OutDirBusyError(
      `${dir} is being written by ${who}: choose another --out, or wait for that run to finish`,
    );
  }
  throw new OutDirBusyError(`${dir}: could not take the lock ${file} (another run keeps taking it)`);
}
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
