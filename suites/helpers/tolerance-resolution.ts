/**
 * Finds a tolerance resolved by a suite instead of by the one judge (src/golden/run-case.ts judgeCase,
 * judgeRun, caseRows): an import of the table's lookups (or of the table itself) from src/, or an
 * object literal keyed by a precision profile or a case class that holds an atol (a table of its own).
 * Comparator tests passing { atol, rtol } literals as test data are not keyed so, and are not found.
 */
import { CASE_CLASSES } from '../../src/compare/tolerances';
import { stripComments } from './import-graph';

/** The lookups of src/compare/tolerances/ and the tables they read: a suite judges through the judge instead. */
export const TOLERANCE_LOOKUPS = [
  'toleranceFor',
  'toleranceForName',
  'rowFor',
  'resolveTolerance',
  'withRevisionTolerance',
  'softmaxSumTolerance',
  'TOLERANCES',
  'ROWS_BY_PROFILE',
  'SOFTMAX_SUM_TOLERANCES',
  'FP64_REFERENCE',
  'FP32_CPU',
  'TF32_GPU',
  'WEBGL_F16',
] as const;

const PROFILES = ['fp64-reference', 'fp32-cpu', 'tf32-gpu', 'webgl-f16'];
const escape = (s: string) => s.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&');
const TABLE_KEY = new RegExp(`(['"\`]?)(${[...PROFILES, ...CASE_CLASSES].map(escape).join('|')})\\1\\s*:\\s*\\{`, 'g');

/** The text of the object literal whose `{` is at `open` (braces matched; strings are not special-cased). */
function objectAt(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(open, i + 1);
  }
  return text.slice(open);
}

/** What in one suite source resolves a tolerance itself, one line each (empty: nothing). */
export function toleranceResolutions(src: string): string[] {
  const text = stripComments(src);
  const found: string[] = [];
  const imports = /\bimport\s+(type\s+)?(\*\s+as\s+\w+|\{([^}]*)\})\s*from\s*(['"])([^'"]+)\4/g;
  for (const m of text.matchAll(imports)) {
    const [, typeOnly, clause, names, , spec] = m;
    if (typeOnly || !/(^|\/)src(\/|$)/.test(spec)) continue;
    if (clause.startsWith('*')) {
      if (/compare(\/tolerances)?(\/|$)/.test(spec)) found.push(`namespace import of ${spec}`);
      continue;
    }
    for (const raw of names.split(',')) {
      const name = raw.trim();
      if (!name || name.startsWith('type ')) continue;
      const imported = name.split(/\s+as\s+/)[0].trim();
      if ((TOLERANCE_LOOKUPS as readonly string[]).includes(imported)) found.push(`imports ${imported} from ${spec}`);
    }
  }
  for (const m of text.matchAll(/\brequire\s*\(\s*(['"])([^'"]*compare\/tolerances[^'"]*)\1\s*\)/g))
    found.push(`requires ${m[2]}`);
  for (const m of text.matchAll(TABLE_KEY)) {
    const body = objectAt(text, (m.index ?? 0) + m[0].length - 1);
    if (/\batol\b/.test(body)) found.push(`a tolerance table keyed by '${m[2]}'`);
  }
  return found;
}
