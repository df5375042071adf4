/**
 * Records, shared by the adapter workers of one run, that a cache file was read and its content
 * digest recomputed and found right. Every worker of a default run reads the same weight-cache entry
 * and four ONNX Runtime adapters the same ONNX export entries (94 MB each for ResNet-50); with a
 * record, only the first reader of a file in a run recomputes its digest, the others still read the
 * bytes but only compare the file's stamp.
 *
 * A record is trusted only while the file is in the state it was checked in: the stamp is the
 * device, inode, size, modification time and status-change time (ctime, nanoseconds) of the open
 * descriptor the bytes were read through, taken before and after the read. Any write, truncation,
 * rename over the file or utimes() changes the ctime (which no system call sets back), so a file
 * changed after the check is checked again. Records are made only for files whose last change is
 * older than STABLE_MS, so that a filesystem with coarse timestamps cannot hide a change made within
 * the same timestamp tick as the check.
 *
 * Records live in a directory that the run's orchestrator creates for that run alone and removes at
 * its end (VERIFIED_DIR_ENV); without it (a process outside a run, the tests' direct calls) nothing
 * is recorded or trusted and every read recomputes the digest. So a damaged file is never trusted
 * across runs on the strength of an old check.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from './fs';

/** Set by the run's orchestrator for its workers: the run's directory of records. */
export const VERIFIED_DIR_ENV = 'RESNET_CONFORMANCE_VERIFIED_DIR';
/** A file changed more recently than this is not recorded (coarse filesystem timestamps). */
export const STABLE_MS = 2_000;

export interface StampedRead {
  bytes: Buffer;
  /** device:inode:size:mtime(ns):ctime(ns) of the descriptor read through. */
  stamp: string;
  /** When the file last changed (the later of mtime and ctime), ms since the epoch. */
  changedMs: number;
}

function stampOf(st: fs.BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** `file`'s stamp now (as StampedRead.stamp), or null when it cannot be read: a different stamp means a changed file. */
export function fileStamp(file: string): string | null {
  try {
    return stampOf(fs.statSync(file, { bigint: true }));
  } catch {
    return null;
  }
}

/**
 * `file`'s whole content, read through one descriptor (one copy, no intermediate buffers), with its
 * stamp; null when it cannot be read or changed while being read.
 */
export function readStamped(file: string): StampedRead | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const before = fs.fstatSync(fd, { bigint: true });
    const size = Number(before.size);
    const bytes = Buffer.allocUnsafe(size);
    for (let off = 0; off < size;) {
      const n = fs.readSync(fd, bytes, off, size - off, off);
      if (n === 0) return null; // shrank while read
      off += n;
    }
    const after = fs.fstatSync(fd, { bigint: true });
    const stamp = stampOf(before);
    if (stampOf(after) !== stamp) return null;
    const changedNs = before.mtimeNs > before.ctimeNs ? before.mtimeNs : before.ctimeNs;
    return { bytes, stamp, changedMs: Number(changedNs / 1_000_000n) };
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

function recordFile(dir: string, file: string): string {
  return path.join(dir, `${createHash('sha256').update(path.resolve(file)).digest('hex').slice(0, 40)}.json`);
}

function runDir(env: NodeJS.ProcessEnv): string | null {
  const d = env[VERIFIED_DIR_ENV];
  return d && path.isAbsolute(d) ? d : null;
}

/** Whether a process of this run checked `file` in exactly the state `read` was read in and found `digest`. */
export function verifiedInRun(
  file: string,
  read: Pick<StampedRead, 'stamp'>,
  digest: string,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const dir = runDir(env);
  if (!dir) return false;
  try {
    const r = JSON.parse(fs.readFileSync(recordFile(dir, file), 'utf8')) as Record<string, unknown>;
    return r.file === path.resolve(file) && r.stamp === read.stamp && r.digest === digest;
  } catch {
    return false;
  }
}

/**
 * Records that `file`, in the state `read` was read in, has content digest `digest` (the caller has
 * just recomputed it from `read.bytes`). Best effort; nothing outside a run.
 */
export function recordVerified(
  file: string,
  read: Pick<StampedRead, 'stamp' | 'changedMs'>,
  digest: string,
  env: NodeJS.ProcessEnv = process.env,
  now: number = Date.now(),
): void {
  const dir = runDir(env);
  if (!dir || now - read.changedMs < STABLE_MS) return;
  try {
    writeFileAtomic(recordFile(dir, file), JSON.stringify({ file: path.resolve(file), stamp: read.stamp, digest }));
  } catch {
    /* a record that cannot be written only costs the next reader a digest */
  }
}
