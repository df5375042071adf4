/**
 * Argument parsing and usage text, both driven by each command's flag table (src/cli/specs.ts), so
 * that `--help` lists exactly what the parser accepts.
 */

import { UsageError } from '../util/errors';

export { UsageError };

/** One flag of a command. */
export interface Flag {
  name: string;
  /** Placeholder of the value as usage shows it (`a,b|all`); absent for a boolean flag. */
  value?: string;
  /** One line for `--help`. */
  help: string;
  /** May be given more than once (every value is kept, see `list`). */
  repeatable?: boolean;
  /** Shown without brackets in the synopsis (the command checks it). */
  required?: boolean;
}

/** A variant of a command that shares its flag table (bench --compare, compare on bench results). */
export interface CommandMode {
  /** Words after the command name, e.g. `--compare a.json b.json`. */
  head?: string;
  /** The names of the flags of the table this mode takes, in synopsis order. */
  flags: string[];
  /** Shown after the flags, e.g. `[-- generator args]`. */
  tail?: string;
}

export interface CommandSpec {
  /** As typed: `run`, or `fixtures verify` for a subcommand. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Positional operands, shown before the flags. */
  operands?: string;
  flags: Flag[];
  /** Usage variants sharing `flags`; without modes the synopsis shows every flag. */
  modes?: CommandMode[];
  /** Shown after the flags (without modes). */
  tail?: string;
  /** Subcommands, each with its own table (`fixtures verify` ...). */
  subcommands?: CommandSpec[];
}

export interface ParsedArgs {
  positional: string[];
  /** The last value of each flag given (true for a boolean flag). */
  flags: Map<string, string | true>;
  /** Every value of each repeatable flag given, in order. */
  lists: Map<string, string[]>;
}

/**
 * Parses `--name value`, `--name=value` and boolean `--name` against a flag table. A flag not in the
 * table is a UsageError naming it and listing the table's.
 */
export function parseArgs(argv: string[], table: readonly Flag[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const flag = table.find((f) => f.name === name);
    if (!flag)
      throw new UsageError(`unknown option --${name} (expected one of ${table.map((k) => `--${k.name}`).join(', ')})`);
    if (flag.value === undefined) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    flags.set(name, value);
    if (flag.repeatable) lists.set(name, [...(lists.get(name) ?? []), value]);
  }
  return { positional, flags, lists };
}

export function str(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** Every value of a repeatable flag ([] when absent). */
export function list(p: ParsedArgs, name: string): string[] {
  return p.lists.get(name) ?? [];
}

export function required(p: ParsedArgs, name: string): string {
  const v = str(p, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

export function int(p: ParsedArgs, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  return n;
}

export function intList(p: ParsedArgs, name: string): number[] | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const parts = v.split(',').map((s) => Number(s.trim()));
  if (parts.length === 0 || parts.some((n) => !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be comma-separated integers, got '${v}'`);
  }
  return parts;
}

export function bool(p: ParsedArgs, name: string): boolean {
  return p.flags.get(name) === true;
}

/* ---- usage text ---- */

function flagText(f: Flag): string {
  const core = f.value === undefined ? `--${f.name}` : `--${f.name} ${f.value}`;
  if (f.repeatable) return f.required ? `${core} [--${f.name} ...]` : `[${core} ...]`;
  return f.required ? core : `[${core}]`;
}

function flagOf(spec: CommandSpec, name: string): Flag {
  const f = spec.flags.find((x) => x.name === name);
  if (!f) throw new Error(`usage of ${spec.name}: a mode names --${name}, which is not in its flag table`);
  return f;
}

/** The synopsis lines of a command (one per mode or subcommand), without the program name. */
export function synopsis(spec: CommandSpec): string[] {
  if (spec.subcommands) return spec.subcommands.flatMap(synopsis);
  const line = (parts: (string | undefined)[]): string => parts.filter((x) => x !== undefined && x !== '').join(' ');
  if (spec.modes) {
    return spec.modes.map((m) =>
      line([
        spec.name,
        m.head,
        spec.operands && !m.head ? spec.operands : undefined,
        ...m.flags.map((n) => flagText(flagOf(spec, n))),
        m.tail,
      ]),
    );
  }
  return [line([spec.name, spec.operands, ...spec.flags.map(flagText), spec.tail])];
}

/** `usage: resnet-conformance ...` lines, as printed after a usage error. */
export function usageLines(spec: CommandSpec, program = 'resnet-conformance'): string {
  return synopsis(spec)
    .map((s, i) => `${i === 0 ? 'usage: ' : '       '}${program} ${s}`)
    .join('\n');
}

function optionLines(spec: CommandSpec): string[] {
  if (spec.flags.length === 0) return [];
  const w = Math.max(
    ...spec.flags.map((f) => (f.value === undefined ? f.name.length + 2 : f.name.length + 3 + f.value.length)),
  );
  return spec.flags.map((f) => {
    const left = f.value === undefined ? `--${f.name}` : `--${f.name} ${f.value}`;
    return `  ${left.padEnd(w)}  ${f.help}${f.repeatable ? ' (repeatable)' : ''}`;
  });
}

/** `resnet-conformance CMD --help`: synopsis, then every flag with its description. */
export function commandHelp(spec: CommandSpec, program = 'resnet-conformance'): string {
  const out = [
    `${program} ${spec.name}: ${spec.summary}`,
    '',
    'Usage:',
    ...synopsis(spec).map((s) => `  ${program} ${s}`),
  ];
  const parts = spec.subcommands ?? [spec];
  for (const s of parts) {
    const opts = optionLines(s);
    if (opts.length === 0) continue;
    out.push('', spec.subcommands ? `Options of ${s.name}:` : 'Options:', ...opts);
  }
  return out.join('\n');
}
