/**
 * The JSON Schema of report.json (schema/report.schema.json, shipped in the package for other
 * tools) and a validator for the part of JSON Schema 2020-12 that file uses: type, const, enum,
 * properties, required, additionalProperties, items, minItems, anyOf, minimum, maximum, minLength,
 * pattern and local $ref (#/$defs/...). A keyword outside that set is an error, not silently
 * ignored, so the schema cannot grow a rule this validator would skip.
 */
import * as fs from 'fs';
import * as path from 'path';

/** schema/report.schema.json at the package root (two folders up from src/report/ and dist/report/). */
export const REPORT_SCHEMA_FILE = path.join(__dirname, '..', '..', 'schema', 'report.schema.json');

type Schema = Record<string, unknown> | boolean;

const ANNOTATIONS = new Set(['$schema', '$id', '$defs', 'title', 'description', '$comment']);
const KNOWN = new Set([
  'type',
  'const',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'anyOf',
  'minimum',
  'maximum',
  'minLength',
  'pattern',
  '$ref',
]);

function truncateJson(v: unknown): string {
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

/**
 * Errors of `value` against `schema` ("<JSON pointer>: what is wrong"), empty when it is valid.
 * `root` resolves $ref; at most `limit` errors are collected.
 */
export function validateJsonSchema(
  schema: Schema,
  value: unknown,
  root: Schema = schema,
  limit = 50,
  base = '',
): string[] {
  const errors: string[] = [];
  const visit = (s: Schema, v: unknown, at: string): void => {
    if (errors.length >= limit) return;
    if (s === true) return;
    if (s === false) {
      errors.push(`${at || '/'}: not allowed here`);
      return;
    }
    for (const k of Object.keys(s)) {
      if (!KNOWN.has(k) && !ANNOTATIONS.has(k))
        throw new Error(`JSON Schema keyword '${k}' at ${at || '/'} is not supported`);
    }
    if (typeof s.$ref === 'string') {
      const m = /^#\/\$defs\/([^/]+)$/.exec(s.$ref);
      const defs = typeof root === 'object' ? (root.$defs as Record<string, Schema> | undefined) : undefined;
      if (!m || !defs || !(m[1] in defs)) throw new Error(`unresolvable $ref '${s.$ref}' at ${at || '/'}`);
      visit(defs[m[1]], v, at);
    }
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((t) => typeMatches(v, t))) {
        errors.push(`${at || '/'}: expected ${types.join(' or ')}, got ${typeOf(v)}`);
        return;
      }
    }
    if ('const' in s && JSON.stringify(v) !== JSON.stringify(s.const))
      errors.push(`${at || '/'}: expected ${JSON.stringify(s.const)}, got ${JSON.stringify(v)}`);
    if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v)))
      errors.push(
        `${at || '/'}: ${JSON.stringify(v)} is not one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`,
      );
    if (Array.isArray(s.anyOf)) {
      const tries = (s.anyOf as Schema[]).map((sub) => validateJsonSchema(sub, v, root, limit, at));
      if (!tries.some((e) => e.length === 0)) {
        // The forms of the value's own type (e.g. the object form of "object or null"): their errors say more.
        const wrongType = new RegExp(`^${(at || '/').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: expected [a-z ]+, got `);
        const near = tries.filter((e) => !(e.length === 1 && wrongType.test(e[0])));
        if (near.length === 1) errors.push(...near[0]);
        else errors.push(`${at || '/'}: ${truncateJson(v)} matches none of the allowed forms`);
      }
    }
    if (typeof v === 'number') {
      if (typeof s.minimum === 'number' && v < s.minimum) errors.push(`${at || '/'}: ${v} < minimum ${s.minimum}`);
      if (typeof s.maximum === 'number' && v > s.maximum) errors.push(`${at || '/'}: ${v} > maximum ${s.maximum}`);
    }
    if (typeof v === 'string') {
      if (typeof s.minLength === 'number' && v.length < s.minLength)
        errors.push(`${at || '/'}: shorter than ${s.minLength}`);
      if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v))
        errors.push(`${at || '/'}: ${JSON.stringify(v)} does not match ${s.pattern}`);
    }
    if (Array.isArray(v)) {
      if (typeof s.minItems === 'number' && v.length < s.minItems)
        errors.push(`${at || '/'}: ${v.length} items, at least ${s.minItems} required`);
      if (s.items !== undefined) v.forEach((item, i) => visit(s.items as Schema, item, `${at}/${i}`));
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const props = (s.properties ?? {}) as Record<string, Schema>;
      for (const r of (s.required ?? []) as string[]) if (!(r in o)) errors.push(`${at || '/'}: missing '${r}'`);
      for (const [k, val] of Object.entries(o)) {
        const p = `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (k in props) visit(props[k], val, p);
        else if (s.additionalProperties !== undefined) visit(s.additionalProperties as Schema, val, p);
      }
    }
  };
  visit(schema, value, base);
  return errors;
}

let cached: Schema | undefined;

/** The shipped schema of report.json. */
export function reportJsonSchema(): Schema {
  cached ??= JSON.parse(fs.readFileSync(REPORT_SCHEMA_FILE, 'utf8')) as Schema;
  return cached;
}

/** Errors of a report (as parsed from report.json) against the shipped schema; empty when it conforms. */
export function validateReportJson(report: unknown): string[] {
  return validateJsonSchema(reportJsonSchema(), report);
}
