/**
 * `--cases PATTERNS`: a comma-separated list; a pattern with `*` or `?` is a glob matched against
 * the whole case id, a pattern without them matches every id containing it. A case is selected
 * when any pattern matches. A list that selects nothing is a usage error naming some known ids.
 */
import { UsageError } from '../util/errors';

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function caseMatcher(patterns: string): (id: string) => boolean {
  const parts = patterns
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new UsageError('--cases needs at least one pattern');
  const tests = parts.map((p) =>
    /[*?]/.test(p) ? (id: string) => globToRegExp(p).test(id) : (id: string) => id.includes(p),
  );
  return (id) => tests.some((t) => t(id));
}

export function filterCases(ids: readonly string[], patterns: string | undefined): string[] {
  if (patterns === undefined) return [...ids];
  const match = caseMatcher(patterns);
  const out = ids.filter(match);
  if (out.length === 0) {
    const shown = ids.slice(0, 12).join(', ');
    throw new UsageError(
      `--cases '${patterns}' matches no case; known cases: ${shown}${ids.length > 12 ? `, ... (${ids.length} in all)` : ''}`,
    );
  }
  return out;
}

/**
 * Ids a glob pattern leaves out although they hold its literal parts in the same order: each literal
 * run between wildcards may have text around it, e.g. `resnet50/*` leaves out
 * `resnet50-float64/batch1/training` and `perturbed/resnet50/batch2/inference`. For `run --list`,
 * which says so (a plain pattern already matches anywhere in the id: nothing is near).
 */
export function nearMisses(ids: readonly string[], patterns: string | undefined): string[] {
  if (patterns === undefined) return [];
  const match = caseMatcher(patterns);
  const loose = patterns
    .split(',')
    .map((p) => p.trim())
    .filter((p) => /[*?]/.test(p))
    .map((p) => {
      const literal = (t: string) => t.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
      const body = p
        .split(/[*?]+/)
        .filter(Boolean)
        .map((t) =>
          t
            .split('/')
            .map((seg) => (seg ? `[^/]*${literal(seg)}[^/]*` : ''))
            .join('/'),
        )
        .join('.*');
      return new RegExp(`^(.*/)?${body}`);
    });
  return ids.filter((id) => !match(id) && loose.some((re) => re.test(id)));
}
