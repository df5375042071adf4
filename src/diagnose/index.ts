/**
 * Locating and explaining divergence: per-layer capture, error along depth, per-layer budgets,
 * the first diverging layer and the per-layer precision diagnosis. See docs/diagnose.md.
 */
export { diagnoseCase, diagnosisRows, captureNamesFor, fmtNum, DEFAULT_ARITHMETICS } from './diagnose';
export type { DiagnoseOptions } from './diagnose';
export { diagnoseModel } from './diagnose-model';
export type { DiagnoseModelOptions } from './diagnose-model';
export { defaultDiagnoseInput, DIAGNOSE_INPUT_SEED } from './default-input';
export { renderDiagnosisText, renderDiagnosisMarkdown, renderDiagnosesHtml, renderDiagnosisPage } from './render';
export { layerRoles, layersWithRole, roleText } from './roles';
export type { LayerRole } from './roles';
export { ARITHMETICS, ARITHMETIC_LABEL, isArithmetic, roundToBf16, roundToFp16, ulp32 } from './formats';
export type { Arithmetic } from './formats';
export { classifyLayer, summarizePrecision, distanceUlp, FLOOR_ULP, MATCH_FRACTION } from './precision';
export { LayerEvaluator } from './layer-eval';
export * from './types';
