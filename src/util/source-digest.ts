/**
 * The sha256 a cache keys its entries by, over the code that makes them: every source file of the
 * given folders (sorted, each with its folder's name), plus whole files such as package.json. A
 * cache whose producing code changed never reads an entry made by the old code.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

const SOURCE = /\.[cm]?[jt]s$/;

/**
 * sha256 over the sources of `dirs` (the file named `skip` excepted: the cache's own source, whose
 * edits do not change what it stores) and the `files` given, or null when one cannot be read or a
 * folder holds no source (then nothing is cached).
 */
export function sourceDigest(
  dirs: readonly string[],
  opts: { skip?: string; files?: readonly string[] } = {},
): string | null {
  try {
    const h = createHash('sha256');
    for (const dir of dirs) {
      const names = fs
        .readdirSync(dir)
        .filter((f) => SOURCE.test(f) && f !== opts.skip)
        .sort();
      if (names.length === 0) throw new Error(`no sources in ${dir}`);
      for (const f of names)
        h.update(`${path.basename(dir)}/${f}\0`)
          .update(fs.readFileSync(path.join(dir, f)))
          .update('\0');
    }
    for (const f of opts.files ?? []) h.update(fs.readFileSync(f));
    return h.digest('hex');
  } catch {
    return null;
  }
}
