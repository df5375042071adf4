/** One line of the table: t(...) a tolerance, d(...) an expected divergence (see ../index.ts). */
import type { CaseClass } from '../case-classes';
import type { ReasonKey } from '../reasons';
import type { TensorRole } from '../types';

export interface RowLine {
  caseClass: CaseClass;
  role: TensorRole;
  /** A tolerance: pass when |actual - expected| <= atol + rtol*|expected| everywhere. */
  tolerance?: { atol: number; rtol: number };
  /** An expected divergence, with its tight bound when it has its own (else the fp32-cpu row's). */
  divergence?: { tightBound?: { atol: number; rtol: number } };
  reason: ReasonKey;
}

/** A tolerance row: (case class, role, atol, rtol, reason key). */
export function t(caseClass: CaseClass, role: TensorRole, atol: number, rtol: number, reason: ReasonKey): RowLine {
  return { caseClass, role, tolerance: { atol, rtol }, reason };
}

/** An expected-divergence row: (case class, role, reason key, own tight bound?). */
export function d(
  caseClass: CaseClass,
  role: TensorRole,
  reason: ReasonKey,
  tightBound?: { atol: number; rtol: number },
): RowLine {
  return { caseClass, role, divergence: tightBound ? { tightBound } : {}, reason };
}
