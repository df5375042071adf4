/** Comparison of actual vs expected outputs: allclose / ULP metrics (see ./metrics for the rules). */
export { allclose, compareArrays, compareTensors, float32Ulp, isClose, unravelIndex } from './metrics';
export type { CompareResult, FloatArray, JsonNumber, JsonValue, Tolerance, WorstElement } from './metrics';
