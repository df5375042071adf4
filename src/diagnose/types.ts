/**
 * The diagnosis of one adapter × model × input × BatchNorm mode, as a JSON document
 * (numbers that can be infinite are `null`, as in src/compare/metrics.ts).
 */
import type { PrecisionProfile } from '../adapters/types';
import type { LayerBudgetKind } from '../compare/layer-budgets';
import type { JsonNumber, JsonValue } from '../compare/metrics';
import type { LayerClassName, ModelName } from '../model/types';
import type { Arithmetic } from './formats';

export const DIAGNOSIS_SCHEMA = 'resnet-conformance/diagnosis';
export const DIAGNOSIS_VERSION = 1;

/** The adapter's output compared with the chained fp64 reference (errors accumulated from the input on). */
export interface CumulativeError {
  maxAbs: JsonNumber;
  maxRel: JsonNumber;
  /** float32 ULP distance of the values themselves (compareArrays). */
  maxUlp: JsonNumber;
  /** ‖actual − expected‖₂ / ‖expected‖₂ (0 when both are 0). The curve along depth. */
  relRms: JsonNumber;
}

/** The error a layer introduces: its output vs the layer re-evaluated in float64 on the adapter's own inputs. */
export interface LocalError {
  budgetKind: LayerBudgetKind;
  /** Budget in ULP(S) (the largest per-element budget for softmax). */
  budgetUlp: number;
  /** max_i |actual_i − exact_i| / ULP(S_i). */
  errorUlp: JsonNumber;
  /** max_i |actual_i − exact_i| / budget_i; > 1 leaves the budget. */
  ratio: JsonNumber;
  withinBudget: boolean;
  /** Elements outside their budget. */
  outside: number;
  maxAbs: JsonNumber;
  /** The element with the largest ratio. */
  worst: { index: number[]; actual: JsonValue; exact: JsonValue; scale: number; ulps: JsonNumber } | null;
}

export type PrecisionStatus =
  /** The best hypothesis is clearly closer than any other distinguishable one (≤ 0.3 of their gap). */
  | 'match'
  /** Closest to `best`, but not clearly (between 0.3 and 1 gap). */
  | 'ambiguous'
  /** Every hypothesis gives (nearly) the same output here: the layer cannot tell them apart. */
  | 'indistinguishable'
  /** Farther from every hypothesis than they are from each other: not explained by any arithmetic. */
  | 'unexplained'
  /** A layer that only moves/selects values and reproduced them exactly (no arithmetic to diagnose). */
  | 'exact'
  /** Not analysed (capture missing or shape mismatch). */
  | 'not-analysed';

export interface ArithmeticDistance {
  arithmetic: Arithmetic;
  /** RMS over elements of |actual − hypothesis| / ULP(S) (null: infinite, e.g. NaN where the hypothesis is finite). */
  rmsUlp: JsonNumber;
  maxUlp: JsonNumber;
}

export interface PrecisionVerdict {
  status: PrecisionStatus;
  best: Arithmetic | null;
  runnerUp: Arithmetic | null;
  /** RMS distance between the best and runner-up hypotheses themselves, ULP(S). */
  gapUlp: JsonNumber;
  distances: ArithmeticDistance[];
}

export interface LayerRow {
  /** Capture name: the layer name, or `<dense>:logits` for the matmul part of a softmax Dense. */
  name: string;
  layer: string;
  className: LayerClassName;
  part: 'output' | 'logits';
  block: string;
  role: string;
  shape: number[];
  /** Why the row could not be analysed (missing capture, wrong shape, missing input). */
  problem?: string;
  cumulative: CumulativeError | null;
  /** The ideal fp32 implementation's cumulative error (reference fp32 chained vs fp64), for context. */
  fp32Envelope: { relRms: JsonNumber; maxAbs: JsonNumber } | null;
  local: LocalError | null;
  precision: PrecisionVerdict;
}

export interface PrecisionException {
  arithmetic: Arithmetic;
  /** A role covered in every block it appears in (e.g. 'conv 3'), or null when listing layers. */
  role: string | null;
  blocks: number;
  layers: string[];
  text: string;
}

export interface PrecisionSummary {
  /** e.g. "TF32 in conv 3 of each block (16/16); fp32 elsewhere". */
  text: string;
  /** The arithmetic most layers match. */
  base: Arithmetic | null;
  exceptions: PrecisionException[];
  counts: Record<PrecisionStatus, number>;
}

export interface Diagnosis {
  schema: typeof DIAGNOSIS_SCHEMA;
  version: typeof DIAGNOSIS_VERSION;
  adapter: string;
  /** The budget column used (the adapter's precision profile). */
  profile: PrecisionProfile;
  model: ModelName;
  modelArgs: Record<string, unknown>;
  training: boolean;
  input: { shape: number[]; source: string };
  /** Hypotheses tested. */
  arithmetics: Arithmetic[];
  rows: LayerRow[];
  /** The first row (creation order) whose local error leaves its budget. */
  firstDiverging: {
    name: string;
    className: LayerClassName;
    role: string;
    block: string;
    errorUlp: JsonNumber;
    budgetUlp: number;
    ratio: JsonNumber;
  } | null;
  outOfBudget: string[];
  /** Rows no arithmetic explains although inside the budget (suspects). */
  unexplained: string[];
  notAnalysed: string[];
  precision: PrecisionSummary;
  /** Problems with the adapter's capture (names it did not return, errors it raised). */
  captureIssues: string[];
  /** Final output with capture vs without capture (capturing may disable fusions); null if not checked. */
  captureEffect: { maxAbs: JsonNumber; identical: boolean } | null;
  verdict: string;
  timingsMs: { adapterRun: number; reference: number; local: number; total: number };
}
