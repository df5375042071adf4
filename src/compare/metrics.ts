/**
 * Element-wise comparison of an actual output against an expected one.
 *
 * Pass rule for one element (a = actual, e = expected):
 *   pass  :=  |a − e| ≤ atol + rtol·|e|          (numpy.isclose: asymmetric,
 *                                                 tolerance relative to expected)
 * The float32 ULP distance is measured and reported (maxUlp, worst.ulp) but is
 * no criterion: no tolerance row needed one, and ULP counts explode near zero
 * (every float32 between −1e-30 and 1e-30 is a "ULP").
 *
 * Arithmetic is done in float64 on the values as stored. (NumPy 2 computes
 * isclose in float32 when *both* arrays are float32; results can then differ
 * only for elements within a float32 rounding of the tolerance boundary. The
 * notebook compares float32 outputs against float64 literals, i.e. in float64,
 * as here.)
 *
 * Special values:
 *   −0.0 vs +0.0 : equal (abs error 0, 0 ULP apart).
 *   NaN          : NaN vs NaN passes only with nanEqual: true (default false, as
 *                  numpy.allclose). Any other pair with a NaN fails with error NaN.
 *                  NaNs are counted separately in nanActual / nanExpected.
 *   ±Inf         : +Inf vs +Inf (and −Inf vs −Inf) pass with error 0; Inf vs
 *                  finite or vs the opposite Inf fails with infinite error and is
 *                  counted in infMismatch.
 *   Infinite errors make maxAbs / maxRel / maxUlp infinite; NaN errors make them NaN.
 *
 * Metrics:
 *   maxAbs  max |a − e| over all elements.
 *   maxRel  max |a − e| / |e| over elements whose expected value is not zero;
 *           elements with e == ±0 are left out (their relative error is
 *           undefined; maxAbs covers them) and counted in relSkippedZeros.
 *           0 when no element qualifies.
 *   maxUlp  max float32Ulp(a, e): distance in float32 units in the last place
 *           between Math.fround(a) and Math.fround(e), also for float64 data.
 *           (float64 values beyond the float32 range round to ±Inf first.)
 *   neededAtol  the smallest atol that would pass at the comparison's rtol:
 *           max over elements of |a − e| − rtol·|e|, at least 0 (0: rtol alone passes).
 *           'Infinity' when no atol can pass (a NaN/Inf element that is not close);
 *           null when shapes differ. As Polygraphy reports the tolerance an output
 *           would have needed; tolerance reasons need not quote it by hand.
 *   worst   the failing element with the largest abs error (the first one on
 *           ties, so the first NaN/Inf failure if any); if nothing fails, the
 *           element with the largest abs error; null when n = 0.
 *
 *   NaN errors   a pair with a NaN that is not close (see above) has error NaN:
 *           maxAbs, maxRel and maxUlp are NaN when any such pair exists (as
 *           numpy.max(abs(a - e)) is), else Infinity when an error is infinite.
 *   finite  present when some element is NaN or ±Inf on either side: n, maxAbs,
 *           maxRel and maxUlp over the elements where both values are finite,
 *           so a few NaNs do not hide how far the rest is off.
 *
 * JSON: the result is a plain object. JSON cannot hold NaN or ±Infinity, so a
 * non-finite metric (maxAbs, maxRel, maxUlp, worst.absErr, worst.relErr,
 * worst.ulp, finite.*) is written as the string 'NaN' or 'Infinity'; null
 * means "not measured" (shapes differ; relErr where expected is 0). The values
 * worst.actual / worst.expected are numbers, or the strings 'NaN',
 * 'Infinity', '-Infinity' so that the kind of special value is not lost.
 */
import { Tensor, sizeOf } from '../tensor';
import { formatNumber } from '../util/format';

export type FloatArray = Float32Array | Float64Array;

export interface Tolerance {
  atol: number;
  rtol: number;
  /** Treat NaN vs NaN as equal (numpy equal_nan). Default false. */
  nanEqual?: boolean;
}

/** A JSON-safe number: null stands for NaN or ±Infinity. */
export type JsonNumber = number | null;
/**
 * A JSON-safe error metric: a finite number, 'NaN' or 'Infinity' (an error is never negative), or
 * null when nothing was measured (shapes differ). Reports before schema 3 wrote null for NaN/Inf too.
 */
export type MetricNumber = number | 'NaN' | 'Infinity' | null;
/** A value from the data: a finite number, or 'NaN' / 'Infinity' / '-Infinity'. */
export type JsonValue = number | 'NaN' | 'Infinity' | '-Infinity';

export interface WorstElement {
  flatIndex: number;
  /** Row-major multi-index into the shape. */
  index: number[];
  actual: JsonValue;
  expected: JsonValue;
  absErr: MetricNumber;
  /** null when expected is 0. */
  relErr: MetricNumber;
  ulp: MetricNumber;
  /** Whether this element fails the pass rule. */
  fails: boolean;
}

export interface CompareResult {
  pass: boolean;
  n: number;
  /** Elements failing the pass rule. */
  mismatches: number;
  mismatchPct: number;
  maxAbs: MetricNumber;
  maxRel: MetricNumber;
  maxUlp: MetricNumber;
  /** The error over the elements where both values are finite; present only when some are not. */
  finite?: FiniteMetrics;
  worst: WorstElement | null;
  nanActual: number;
  nanExpected: number;
  /** Elements where at least one side is ±Inf and the two are not equal (NaN pairs not included). */
  infMismatch: number;
  /** Elements left out of maxRel because expected is ±0. */
  relSkippedZeros: number;
  /**
   * The smallest atol that passes every element at tolerance.rtol (max of |a − e| − rtol·|e|, at
   * least 0); 'Infinity' when none can (a NaN/Inf element that is not close); null when shapes differ.
   */
  neededAtol: MetricNumber;
  tolerance: { atol: number; rtol: number; nanEqual: boolean };
  /** Present (and pass = false) when compareTensors got different shapes. */
  shapeMismatch?: { actual: number[]; expected: number[] };
}

/** Error metrics over the elements whose actual and expected values are both finite. */
export interface FiniteMetrics {
  n: number;
  maxAbs: MetricNumber;
  maxRel: MetricNumber;
  maxUlp: MetricNumber;
}

/** "; over the 35 finite elements: maxAbs 0.5, maxRel 0.2, maxUlp 3" (empty when every element is finite). */
export function finiteMetricsText(f: FiniteMetrics | undefined): string {
  if (!f) return '';
  return `; over the ${f.n} finite elements: maxAbs ${formatNumber(f.maxAbs, 3)}, maxRel ${formatNumber(f.maxRel, 3)}, maxUlp ${formatNumber(f.maxUlp, 3)}`;
}

/**
 * The tolerance a comparison would have needed, as Polygraphy reports it: "needs atol 2.3e-08 at rtol 1e-5"
 * (0: rtol alone passes), "no atol passes at rtol 1e-5 (NaN/Inf)", or '' when not measured.
 */
export function neededToleranceText(neededAtol: MetricNumber | undefined, rtol: number): string {
  if (neededAtol === null || neededAtol === undefined) return '';
  if (neededAtol === 'NaN' || neededAtol === 'Infinity')
    return `no atol passes at rtol ${formatNumber(rtol, 3)} (NaN/Inf)`;
  return `needs atol ${formatNumber(neededAtol, 3)} at rtol ${formatNumber(rtol, 3)}`;
}

/** A metric as a number for arithmetic and ranking: 'NaN' -> NaN, 'Infinity' and null (unknown) -> Infinity. */
export function metricValue(x: MetricNumber | undefined): number {
  if (x === 'NaN') return NaN;
  if (x === 'Infinity' || x === null || x === undefined) return Infinity;
  return x;
}

/** A metric for ranking (worst first): NaN and unknown rank as infinite. */
export function metricRank(x: MetricNumber | undefined): number {
  const v = metricValue(x);
  return v === v ? v : Infinity;
}

// ---------------------------------------------------------------------------
// Scalar helpers
// ---------------------------------------------------------------------------

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Maps float32 bits to an integer that is monotonic in the float value; −0 and +0 both map to 0. */
function orderedFromBits(bits: number): number {
  return bits & 0x80000000 ? -(bits & 0x7fffffff) : bits;
}

function orderedFloat32(x: number): number {
  f32Scratch[0] = x;
  return orderedFromBits(u32Scratch[0]);
}

/**
 * Distance between Math.fround(a) and Math.fround(b) in float32 units in the
 * last place: the number of representable float32 values stepped over, so
 * −0/+0 are 0 apart, the smallest positive and negative subnormals are 2
 * apart, and FLT_MAX and +Inf are 1 apart. NaN if either argument is NaN.
 */
export function float32Ulp(a: number, b: number): number {
  if (a !== a || b !== b) return NaN;
  return Math.abs(orderedFloat32(a) - orderedFloat32(b));
}

/**
 * numpy.isclose for one pair: |a − e| ≤ atol + rtol·|e|, equal infinities are
 * close, NaN is close to NaN only when nanEqual.
 */
export function isClose(a: number, e: number, atol = 1e-8, rtol = 1e-5, nanEqual = false): boolean {
  if (a !== a || e !== e) return nanEqual && a !== a && e !== e;
  if (a === e) return true;
  if (!Number.isFinite(a) || !Number.isFinite(e)) return false;
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

/**
 * numpy.allclose: true when every pair isClose. Defaults as NumPy
 * (atol 1e-8, rtol 1e-5). Accepts numbers or equal-length arrays.
 */
export function allclose(
  actual: number | ArrayLike<number>,
  expected: number | ArrayLike<number>,
  atol = 1e-8,
  rtol = 1e-5,
  nanEqual = false,
): boolean {
  if (typeof actual === 'number' && typeof expected === 'number')
    return isClose(actual, expected, atol, rtol, nanEqual);
  if (typeof actual === 'number' || typeof expected === 'number') {
    throw new Error('allclose: pass two numbers or two arrays of equal length (no broadcasting)');
  }
  if (actual.length !== expected.length) {
    throw new Error(`allclose: length mismatch (actual ${actual.length}, expected ${expected.length})`);
  }
  for (let i = 0; i < actual.length; i++) if (!isClose(actual[i], expected[i], atol, rtol, nanEqual)) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Array comparison
// ---------------------------------------------------------------------------

/** The error of one pair as reported: NaN for a NaN pair that is not close (ranked as infinite). */
function pairErr(a: number, e: number, ranked: number): number {
  return (a !== a || e !== e) && ranked !== 0 ? NaN : ranked;
}

/** The ULP distance the comparison uses for one pair (NaN/Inf rules applied). */
function pairUlp(a: number, e: number, nanEqual: boolean): number {
  if (a !== a || e !== e) return nanEqual && a !== a && e !== e ? 0 : NaN;
  if (a === e) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(e)) return Infinity;
  return float32Ulp(a, e);
}

/** A metric as JSON can hold it: NaN and Infinity become strings (an error is never -Infinity). */
export function metricOf(x: number): MetricNumber {
  if (x !== x) return 'NaN';
  if (x === Infinity || x === -Infinity) return 'Infinity';
  return x;
}

function jsonVal(x: number): JsonValue {
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x;
}

/** Row-major multi-index of a flat index. */
export function unravelIndex(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  let r = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const s = shape[d];
    idx[d] = s > 0 ? r % s : 0;
    r = s > 0 ? Math.floor(r / s) : 0;
  }
  return idx;
}

function checkTolerance(tol: Tolerance): void {
  if (typeof tol !== 'object' || tol === null) throw new Error('compare: tolerance must be an object {atol, rtol}');
  if (!(Number.isFinite(tol.atol) && tol.atol >= 0))
    throw new Error(`compare: atol must be a finite number >= 0 (got ${tol.atol})`);
  if (!(Number.isFinite(tol.rtol) && tol.rtol >= 0))
    throw new Error(`compare: rtol must be a finite number >= 0 (got ${tol.rtol})`);
  if ('maxUlp' in tol)
    throw new Error(
      'compare: maxUlp is no tolerance criterion (the ULP distance is only measured); give atol and rtol',
    );
}

/** Bits of the data as float32: a view when the data already is float32, else rounded copies. */
function float32Bits(x: FloatArray): Uint32Array {
  if (x instanceof Float32Array) return new Uint32Array(x.buffer, x.byteOffset, x.length);
  return new Uint32Array(Float32Array.from(x).buffer);
}

/**
 * Compares two equal-length arrays element by element (see the header comment
 * for the rules). `shape` is used for the multi-index of the worst element;
 * it defaults to 1-D. Throws on a length mismatch or a bad tolerance.
 */
export function compareArrays(
  actual: FloatArray,
  expected: FloatArray,
  tol: Tolerance,
  shape: readonly number[] = [expected.length],
): CompareResult {
  checkTolerance(tol);
  const n = expected.length;
  if (actual.length !== n) throw new Error(`compare: length mismatch (actual ${actual.length}, expected ${n})`);
  if (sizeOf(shape) !== n) throw new Error(`compare: shape [${shape.join(', ')}] does not hold ${n} elements`);

  const { atol, rtol } = tol;
  const nanEqual = tol.nanEqual ?? false;
  const aBits = float32Bits(actual);
  const eBits = float32Bits(expected);

  let mismatches = 0;
  let nanActual = 0;
  let nanExpected = 0;
  let infMismatch = 0;
  let relSkippedZeros = 0;
  let maxAbs = 0;
  let maxRel = 0;
  let maxUlp = 0;
  let neededAtol = 0;
  let nanError = false;
  let finiteN = 0;
  let finiteAbs = 0;
  let finiteRel = 0;
  let finiteUlp = 0;
  let worstFail = -1;
  let worstFailErr = -1;
  let worstAll = -1;
  let worstAllErr = -1;

  for (let i = 0; i < n; i++) {
    const a = actual[i];
    const e = expected[i];
    let err: number;
    let ulp: number;
    let close: boolean;
    if (a !== a || e !== e) {
      if (a !== a) nanActual++;
      if (e !== e) nanExpected++;
      close = nanEqual && a !== a && e !== e;
      // Ranked as infinite (so the first NaN failure is the worst element); reported as NaN.
      err = close ? 0 : Infinity;
      ulp = err;
      if (!close) {
        nanError = true;
        neededAtol = Infinity;
      }
    } else if (a === e) {
      close = true; // covers −0 vs +0 and equal infinities
      err = 0;
      ulp = 0;
      if (e === 0) relSkippedZeros++;
      if (a - a === 0) finiteN++;
    } else {
      err = a - e;
      if (err < 0) err = -err;
      // a - a is NaN exactly when a is ±Inf here (NaN was handled above); no Number.* lookups in the hot loop.
      const bothFinite = a - a === 0 && e - e === 0;
      let rel = 0;
      if (err === Infinity) {
        // One side is ±Inf, or (float64 data only) the difference overflows.
        if (!bothFinite) infMismatch++;
        close = false;
        neededAtol = Infinity;
        rel = Infinity;
        maxRel = Infinity;
      } else {
        const ae = e < 0 ? -e : e;
        close = err <= atol + rtol * ae;
        const need = err - rtol * ae;
        if (need > neededAtol) neededAtol = need;
        if (ae === 0) relSkippedZeros++;
        else {
          rel = err / ae;
          if (rel > maxRel) maxRel = rel;
        }
      }
      const ua = aBits[i];
      const ue = eBits[i];
      ulp = orderedFromBits(ua) - orderedFromBits(ue);
      if (ulp < 0) ulp = -ulp;
      if (!bothFinite) ulp = Infinity;
      else {
        finiteN++;
        if (err > finiteAbs) finiteAbs = err;
        if (rel > finiteRel) finiteRel = rel;
        if (ulp > finiteUlp) finiteUlp = ulp;
      }
    }
    if (err > maxAbs) maxAbs = err;
    if (ulp > maxUlp) maxUlp = ulp;
    if (err > worstAllErr) {
      worstAllErr = err;
      worstAll = i;
    }
    if (!close) {
      mismatches++;
      if (err > worstFailErr) {
        worstFailErr = err;
        worstFail = i;
      }
    }
  }

  const wi = worstFail >= 0 ? worstFail : worstAll;
  let worst: WorstElement | null = null;
  if (wi >= 0) {
    const a = actual[wi];
    const e = expected[wi];
    const err = wi === worstFail ? worstFailErr : worstAllErr;
    worst = {
      flatIndex: wi,
      index: unravelIndex(wi, shape),
      actual: jsonVal(a),
      expected: jsonVal(e),
      absErr: metricOf(pairErr(a, e, err)),
      relErr: e !== 0 ? metricOf(pairErr(a, e, err) / Math.abs(e)) : null,
      ulp: metricOf(pairUlp(a, e, nanEqual)),
      fails: wi === worstFail,
    };
  }

  const nanOr = (x: number): MetricNumber => (nanError ? 'NaN' : metricOf(x));
  return {
    pass: mismatches === 0,
    n,
    mismatches,
    mismatchPct: n === 0 ? 0 : (100 * mismatches) / n,
    maxAbs: nanOr(maxAbs),
    maxRel: nanOr(maxRel),
    maxUlp: nanOr(maxUlp),
    ...(finiteN < n
      ? {
          finite: {
            n: finiteN,
            maxAbs: metricOf(finiteAbs),
            maxRel: metricOf(finiteRel),
            maxUlp: metricOf(finiteUlp),
          },
        }
      : {}),
    worst,
    nanActual,
    nanExpected,
    infMismatch,
    relSkippedZeros,
    neededAtol: metricOf(neededAtol),
    tolerance: { atol, rtol, nanEqual },
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Compares two tensors. Different shapes (even with the same element count,
 * e.g. [2,3] vs [3,2], or [] vs [1]) do not throw: the result has
 * shapeMismatch set, pass = false, every expected element counted as a
 * mismatch and all error metrics null.
 */
export function compareTensors(actual: Tensor, expected: Tensor, tol: Tolerance): CompareResult {
  checkTolerance(tol);
  if (!sameShape(actual.shape, expected.shape)) {
    const n = sizeOf(expected.shape);
    return {
      pass: false,
      n,
      mismatches: n,
      mismatchPct: 100,
      maxAbs: null,
      maxRel: null,
      maxUlp: null,
      worst: null,
      nanActual: 0,
      nanExpected: 0,
      infMismatch: 0,
      relSkippedZeros: 0,
      neededAtol: null,
      tolerance: { atol: tol.atol, rtol: tol.rtol, nanEqual: tol.nanEqual ?? false },
      shapeMismatch: { actual: [...actual.shape], expected: [...expected.shape] },
    };
  }
  return compareArrays(actual.data, expected.data, tol, expected.shape);
}
