/**
 * The lookup: which row of the table judges a tensor of (case class, role) on an adapter of a profile,
 * with the adapter's known defects and an imported revision's own tolerance applied (resolveTolerance,
 * the one tolerance resolution of the product; src/golden/run-case.ts judges by what it returns).
 */
import { CASE_CLASS_ROLES, CASE_CLASSES, REVISION_CASE_CLASSES, isCaseClass, type CaseClass } from './case-classes';
import { SOFTMAX_SUM_TOLERANCES } from './check-allowances';
import { defectReason, knownDefectFor } from './known-defects';
import { TOLERANCES } from './table';
import {
  LOSSY_PROFILES,
  PRECISION_PROFILES,
  TENSOR_ROLES,
  isExpectedDivergence,
  type TensorRole,
  type ToleranceEntry,
  type ToleranceRow,
} from './types';
import type { PrecisionProfile } from '../../adapters/types';

export function softmaxSumTolerance(profile: string): ToleranceEntry {
  const t = (SOFTMAX_SUM_TOLERANCES as Readonly<Record<string, ToleranceEntry>>)[profile];
  if (!t) throw noRow(`the softmax-rows-sum-to-1 check x precision profile '${profile}'`);
  return t;
}

/** A row of the table: which case class and which tensor role. */
export interface ToleranceKey {
  caseClass: CaseClass;
  role: TensorRole;
}

const ROLE_SUFFIXES: readonly TensorRole[] = ['logits', 'activations'];

/**
 * The row a fixtures/manifest.json class name stands for (also the caseClass of report schema 1):
 * '<class>-logits' and '<class>-activations' name those roles of <class>; a bare case class names the
 * role of its output. Undefined for a name that is not in the table.
 */
export function parseClassName(name: string): ToleranceKey | undefined {
  if (isCaseClass(name)) return { caseClass: name, role: CASE_CLASS_ROLES[name][0] };
  for (const role of ROLE_SUFFIXES) {
    const cls = name.endsWith(`-${role}`) ? name.slice(0, -role.length - 1) : undefined;
    if (cls !== undefined && isCaseClass(cls) && CASE_CLASS_ROLES[cls].includes(role)) return { caseClass: cls, role };
  }
  return undefined;
}

/** Every class name parseClassName accepts, for error messages. */
export function knownClassNames(): string[] {
  return CASE_CLASSES.flatMap((c) => CASE_CLASS_ROLES[c].map((r, i) => (i === 0 ? c : `${c}-${r}`)));
}

function noRow(what: string): Error {
  return new Error(
    `no tolerance for ${what} in src/compare/tolerances/ (case classes: ${CASE_CLASSES.join(', ')}; ` +
      `roles: ${TENSOR_ROLES.join(', ')}; profiles: ${PRECISION_PROFILES.join(', ')}; lossy profiles, measured classes only: ${LOSSY_PROFILES.join(', ')})`,
  );
}

/** The table row for a case class, a tensor role and a precision profile; throws naming all three when there is none. */
export function rowFor(caseClass: string, role: string, profile: string): ToleranceRow {
  const byRole = isCaseClass(caseClass) ? TOLERANCES[caseClass] : undefined;
  const byProfile =
    byRole && (TENSOR_ROLES as readonly string[]).includes(role) ? byRole[role as TensorRole] : undefined;
  const known = [...PRECISION_PROFILES, ...LOSSY_PROFILES] as readonly string[];
  const row = byProfile && known.includes(profile) ? byProfile[profile as PrecisionProfile] : undefined;
  if (!row) throw noRow(`case class '${caseClass}' x role '${role}' x precision profile '${profile}'`);
  return row;
}

/**
 * The tolerance row for a case class, a tensor role and a precision profile; throws when there is
 * none, or when the row is an expected divergence (judge those through resolveTolerance).
 */
export function toleranceFor(caseClass: string, role: string, profile: string): ToleranceEntry {
  const row = rowFor(caseClass, role, profile);
  if (isExpectedDivergence(row)) {
    throw new Error(
      `${caseClass} x ${role} x ${profile} is an expected divergence in src/compare/tolerances/, not a tolerance ` +
        `(${row.expectedDivergence.reason})`,
    );
  }
  return row;
}

/** toleranceFor by a manifest-style class name ('resnet50-training-logits', 'pretrained-block-inference', ...). */
export function toleranceForName(name: string, profile: string): ToleranceEntry {
  const key = parseClassName(name);
  if (!key) throw noRow(`case class '${name}' (known names: ${knownClassNames().join(', ')})`);
  return toleranceFor(key.caseClass, key.role, profile);
}

/**
 * A row as applied to a comparison (the report's AppliedTolerance). kind 'tolerance': atol/rtol are
 * the pass rule. kind 'expected-divergence': atol/rtol are the tight bound the tensors must not all
 * meet (tightBoundFrom says where it comes from), and reason is the divergence's.
 */
export interface ResolvedTolerance {
  caseClass: string;
  role: string;
  profile: string;
  kind: 'tolerance' | 'expected-divergence';
  atol: number;
  rtol: number;
  tightBoundFrom?: string;
  reason: string;
  /** Set when the row is a KNOWN_DEFECTS entry: the adapter whose defect it is. */
  knownDefect?: string;
}

/**
 * The row applied to a tensor of (case class, role) for an adapter of a profile. With `at` (the adapter
 * and the case), a KNOWN_DEFECTS entry for them turns a tolerance row into an expected divergence whose
 * tight bound is that row itself.
 */
export function resolveTolerance(
  caseClass: string,
  role: string,
  profile: string,
  at?: { adapter: string; caseId: string },
  own?: { atol: number; rtol: number; from: string },
): ResolvedTolerance {
  const r = resolveTableRow(caseClass, role, profile, at);
  return own ? withRevisionTolerance(r, own) : r;
}

/**
 * One verdict for an imported revision (issue 24): explain and `run --baseline-set` judge a check by the
 * same tolerance, the revision's own. It replaces the table row where the adapter computes what explain's
 * configuration computes: the fp64-reference and fp32-cpu profiles on notebook-* classes (configurations
 * without TF32), and the tight bound of the expected-divergence rows of revision-tf32-* classes there (a
 * CPU adapter within the file's own tolerance of TF32 values is an unexpected match). The tf32-gpu and
 * webgl-f16 rows stay: those adapters compute something else (TF32 in every convolution where the
 * revision had it in some, float16 textures), and their rows state the measured reason.
 */
export function withRevisionTolerance(
  r: ResolvedTolerance,
  own: { atol: number; rtol: number; from: string },
): ResolvedTolerance {
  if (!(REVISION_CASE_CLASSES as readonly string[]).includes(r.caseClass)) return r;
  if (r.profile !== 'fp64-reference' && r.profile !== 'fp32-cpu') return r;
  if (r.kind === 'tolerance')
    return { ...r, atol: own.atol, rtol: own.rtol, reason: `the revision's own tolerance: ${own.from}` };
  return { ...r, atol: own.atol, rtol: own.rtol, tightBoundFrom: `the revision's own tolerance: ${own.from}` };
}

function resolveTableRow(
  caseClass: string,
  role: string,
  profile: string,
  at?: { adapter: string; caseId: string },
): ResolvedTolerance {
  const row = rowFor(caseClass, role, profile);
  const defect = at ? knownDefectFor(at.adapter, at.caseId) : undefined;
  if (defect && at && !isExpectedDivergence(row))
    return {
      caseClass,
      role,
      profile,
      kind: 'expected-divergence',
      atol: row.atol,
      rtol: row.rtol,
      tightBoundFrom: `the ${profile} row of ${caseClass} x ${role}`,
      reason: defectReason(defect, at.adapter),
      knownDefect: at.adapter,
    };
  if (!isExpectedDivergence(row))
    return { caseClass, role, profile, kind: 'tolerance', atol: row.atol, rtol: row.rtol, reason: row.reason };
  const own = row.expectedDivergence.tightBound;
  const bound = own ?? toleranceFor(caseClass, role, 'fp32-cpu');
  return {
    caseClass,
    role,
    profile,
    kind: 'expected-divergence',
    atol: bound.atol,
    rtol: bound.rtol,
    tightBoundFrom: own ? "the row's own tightBound" : `the fp32-cpu row of ${caseClass} x ${role}`,
    reason: row.expectedDivergence.reason,
  };
}
