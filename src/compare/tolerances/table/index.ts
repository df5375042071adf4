/**
 * The table assembled from its per-profile files: TOLERANCES[case class][role][profile] = row, each
 * row's reason the text of its key (./reasons.ts). A (class, role, profile) given twice is an error
 * at load time.
 */
import type { PrecisionProfile } from '../../../adapters/types';
import { CASE_CLASSES, type CaseClass } from '../case-classes';
import { REASONS } from '../reasons';
import type { CompleteProfile, TensorRole, ToleranceRow } from '../types';
import { FP32_CPU } from './fp32-cpu';
import { FP64_REFERENCE } from './fp64-reference';
import type { RowLine } from './row';
import { TF32_GPU } from './tf32-gpu';
import { WEBGL_F16 } from './webgl-f16';

export const ROWS_BY_PROFILE: Readonly<Record<PrecisionProfile, readonly RowLine[]>> = {
  'fp64-reference': FP64_REFERENCE,
  'fp32-cpu': FP32_CPU,
  'tf32-gpu': TF32_GPU,
  'webgl-f16': WEBGL_F16,
};

type ProfileRows = Readonly<Record<CompleteProfile, ToleranceRow> & Partial<Record<'webgl-f16', ToleranceRow>>>;
export type ToleranceTable = Readonly<Record<CaseClass, Readonly<Partial<Record<TensorRole, ProfileRows>>>>>;

function rowOf(line: RowLine): ToleranceRow {
  const reason = REASONS[line.reason];
  if (line.tolerance) return { ...line.tolerance, reason };
  const tightBound = line.divergence?.tightBound;
  return { expectedDivergence: tightBound ? { reason, tightBound } : { reason } };
}

function assemble(): ToleranceTable {
  const table = Object.fromEntries(CASE_CLASSES.map((c) => [c, {}])) as Record<
    CaseClass,
    Partial<Record<TensorRole, Partial<Record<PrecisionProfile, ToleranceRow>>>>
  >;
  for (const [profile, lines] of Object.entries(ROWS_BY_PROFILE) as [PrecisionProfile, readonly RowLine[]][]) {
    for (const line of lines) {
      const byProfile = (table[line.caseClass][line.role] ??= {});
      if (byProfile[profile])
        throw new Error(`tolerance table: ${line.caseClass} x ${line.role} x ${profile} is given twice`);
      byProfile[profile] = rowOf(line);
    }
  }
  return table as ToleranceTable;
}

export const TOLERANCES: ToleranceTable = assemble();
