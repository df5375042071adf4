import { allclose, compareArrays, compareTensors, float32Ulp, isClose, unravelIndex } from '../src/compare';
import { neededToleranceText } from '../src/compare/metrics';
import { Tensor } from '../src/tensor';

const f32 = (xs: number[]) => new Float32Array(xs);
const f64 = (xs: number[]) => new Float64Array(xs);

/** Next float32 above x (x finite, not FLT_MAX). */
function nextUp32(x: number): number {
  const f = new Float32Array([x]);
  const u = new Int32Array(f.buffer);
  if (x === 0) u[0] = 1;
  else u[0] += x > 0 ? 1 : -1;
  return f[0];
}

describe('float32Ulp', () => {
  test('adjacent, equal and distant values', () => {
    expect(float32Ulp(1, nextUp32(1))).toBe(1);
    expect(float32Ulp(nextUp32(1), 1)).toBe(1);
    expect(float32Ulp(1, 1)).toBe(0);
    expect(float32Ulp(1, 2)).toBe(2 ** 23);
    expect(float32Ulp(-1, nextUp32(-1))).toBe(1);
  });

  test('-0 and +0 are 0 apart; crossing zero counts both sides', () => {
    expect(float32Ulp(-0, 0)).toBe(0);
    const tiny = Math.fround(1e-45); // smallest positive subnormal
    expect(float32Ulp(tiny, -tiny)).toBe(2);
    expect(float32Ulp(tiny, 0)).toBe(1);
    expect(float32Ulp(-tiny, -0)).toBe(1);
  });

  test('float64 input is rounded to float32 first; Inf sits one step past FLT_MAX; NaN gives NaN', () => {
    expect(float32Ulp(1, 1 + 1e-12)).toBe(0);
    expect(float32Ulp(Math.fround(3.4028235e38), Infinity)).toBe(1);
    expect(float32Ulp(NaN, 1)).toBeNaN();
  });
});

describe('isClose / allclose follow numpy.isclose', () => {
  test('tolerance is relative to expected (asymmetric)', () => {
    expect(isClose(1, 2, 0, 0.5)).toBe(true); // |1-2| = 1 <= 0.5*2
    expect(isClose(2, 1, 0, 0.5)).toBe(false); // |2-1| = 1 >  0.5*1
  });

  test('numpy defaults rtol 1e-5, atol 1e-8', () => {
    expect(allclose(1e-9, 0)).toBe(true);
    expect(allclose(1e-7, 0)).toBe(false);
    expect(allclose(100000, 100001)).toBe(true);
    expect(allclose(100000, 100002)).toBe(false);
  });

  test('special values', () => {
    expect(isClose(Infinity, Infinity)).toBe(true);
    expect(isClose(Infinity, -Infinity)).toBe(false);
    expect(isClose(Infinity, 1e308, 1e300, 1)).toBe(false);
    expect(isClose(NaN, NaN)).toBe(false);
    expect(isClose(NaN, NaN, 0, 0, true)).toBe(true);
    expect(isClose(-0, 0, 0, 0)).toBe(true);
  });

  test('arrays; length mismatch and number-vs-array throw', () => {
    expect(allclose([1, 2, 3], [1, 2, 3.00001])).toBe(true);
    expect(allclose([1, 2, 3], [1, 2, 3.001])).toBe(false);
    expect(() => allclose([1, 2], [1])).toThrow(/length mismatch/);
    expect(() => allclose(1, [1])).toThrow(/no broadcasting/);
  });
});

describe('compareArrays', () => {
  test('a one-ULP difference is detected with zero tolerance and its ULP distance measured', () => {
    const e = f32([1, 2, 3]);
    const a = f32([1, nextUp32(2), 3]);
    const strict = compareArrays(a, e, { atol: 0, rtol: 0 });
    expect(strict.pass).toBe(false);
    expect(strict.mismatches).toBe(1);
    expect(strict.maxUlp).toBe(1);
    expect(strict.maxAbs).toBe(2 ** -22);
    expect(strict.worst).toMatchObject({
      flatIndex: 1,
      index: [1],
      actual: nextUp32(2),
      expected: 2,
      ulp: 1,
      fails: true,
    });
    expect(strict.tolerance).toEqual({ atol: 0, rtol: 0, nanEqual: false });
  });

  test('maxUlp is no tolerance criterion: a tolerance that gives one is rejected, naming it', () => {
    const e = f32([1, 2, 3]);
    const a = f32([1, nextUp32(2), 3]);
    expect(() => compareArrays(a, e, { atol: 0, rtol: 0, maxUlp: 1 } as never)).toThrow(
      /maxUlp is no tolerance criterion/,
    );
  });

  test('tolerance is relative to expected, as numpy.isclose', () => {
    expect(compareArrays(f64([1]), f64([2]), { atol: 0, rtol: 0.5 }).pass).toBe(true);
    expect(compareArrays(f64([2]), f64([1]), { atol: 0, rtol: 0.5 }).pass).toBe(false);
  });

  test('per-element verdicts agree with isClose over a grid of pairs', () => {
    const vals = [0, -0, 1e-9, -1e-9, 1, 1.00001, 1.0001, 1.5, -1, 2, 1e6, 1e6 + 5, 1e6 + 20, Infinity, -Infinity, NaN];
    for (const [atol, rtol] of [
      [1e-8, 1e-5],
      [0, 1e-4],
      [1e-3, 0],
      [0, 0.4],
    ]) {
      const disagreements: string[] = [];
      for (const x of vals) {
        for (const y of vals) {
          if (compareArrays(f64([x]), f64([y]), { atol, rtol }).pass !== isClose(x, y, atol, rtol))
            disagreements.push(`${x} vs ${y}`);
        }
      }
      expect(disagreements).toEqual([]);
    }
    // Sanity: the grid contains both verdicts.
    expect(isClose(1e6 + 5, 1e6)).toBe(true);
    expect(isClose(1e6 + 20, 1e6)).toBe(false);
  });

  test('allclose admits near-zero values that are many ULPs apart (the ULP distance is only reported)', () => {
    const r = compareArrays(f32([1e-30]), f32([-1e-30]), { atol: 1e-8, rtol: 0 });
    expect(r.maxUlp).toBeGreaterThan(1e8);
    expect(r.pass).toBe(true);
  });

  test('NaN in actual is a mismatch with error NaN, counted separately; the finite elements are measured apart', () => {
    const r = compareArrays(f32([1, NaN, 3]), f32([1, 2, 3]), { atol: 1e-3, rtol: 1e-3 });
    expect(r.pass).toBe(false);
    expect(r.mismatches).toBe(1);
    expect(r.nanActual).toBe(1);
    expect(r.nanExpected).toBe(0);
    expect(r.maxAbs).toBe('NaN');
    expect(r.maxRel).toBe('NaN');
    expect(r.maxUlp).toBe('NaN');
    expect(r.finite).toEqual({ n: 2, maxAbs: 0, maxRel: 0, maxUlp: 0 });
    expect(r.worst).toMatchObject({ flatIndex: 1, actual: 'NaN', expected: 2, absErr: 'NaN', fails: true });
  });

  test('NaN vs NaN fails by default, passes with nanEqual', () => {
    const a = f64([NaN, 1]);
    const e = f64([NaN, 1]);
    const r = compareArrays(a, e, { atol: 0, rtol: 0 });
    expect(r.pass).toBe(false);
    expect(r.nanActual).toBe(1);
    expect(r.nanExpected).toBe(1);
    const q = compareArrays(a, e, { atol: 0, rtol: 0, nanEqual: true });
    expect(q.pass).toBe(true);
    expect(q.maxAbs).toBe(0);
    expect(q.nanActual).toBe(1); // still reported
    // NaN only in expected still fails with nanEqual.
    expect(compareArrays(f64([1]), f64([NaN]), { atol: 1, rtol: 1, nanEqual: true }).pass).toBe(false);
  });

  test('infinities: equal infinities pass, other pairs fail and count as infMismatch', () => {
    const ok = compareArrays(f32([Infinity, -Infinity]), f32([Infinity, -Infinity]), { atol: 0, rtol: 0 });
    expect(ok.pass).toBe(true);
    expect(ok.maxAbs).toBe(0);
    expect(ok.infMismatch).toBe(0);

    const bad = compareArrays(f32([Infinity, 1, -Infinity, 5]), f32([1e38, Infinity, Infinity, 5]), {
      atol: 1e30,
      rtol: 1,
    });
    expect(bad.mismatches).toBe(3);
    expect(bad.infMismatch).toBe(3);
    expect(bad.maxAbs).toBe('Infinity');
    expect(bad.finite).toEqual({ n: 1, maxAbs: 0, maxRel: 0, maxUlp: 0 });
    expect(bad.worst).toMatchObject({ flatIndex: 0, actual: 'Infinity', absErr: 'Infinity', ulp: 'Infinity' });
  });

  test('-0.0 equals +0.0 with zero tolerance', () => {
    const r = compareArrays(f32([-0, 0]), f32([0, -0]), { atol: 0, rtol: 0 });
    expect(r.pass).toBe(true);
    expect(r.maxAbs).toBe(0);
    expect(r.maxUlp).toBe(0);
  });

  test('maxRel leaves out zero expected values and counts them', () => {
    const r = compareArrays(f64([1e-9, 2.2, 4]), f64([0, 2, 4]), { atol: 1, rtol: 0 });
    expect(r.relSkippedZeros).toBe(1);
    expect(r.maxRel).toBeCloseTo(0.1, 12);
    expect(r.maxAbs).toBeCloseTo(0.2, 12);
    expect(r.pass).toBe(true);
    expect(r.worst).toMatchObject({ flatIndex: 1, fails: false });
  });

  test('worst is the failing element with the largest error, with its multi-index', () => {
    const shape = [2, 3, 4];
    const e = new Float64Array(24).fill(1);
    e[5] = 1e6; // large value: error 1 is within rtol
    const a = Float64Array.from(e);
    a[5] += 1;
    a[17] += 0.5; // fails
    a[20] += 0.25; // fails, smaller
    const r = compareArrays(a, e, { atol: 0, rtol: 1e-5 }, shape);
    expect(r.mismatches).toBe(2);
    expect(r.mismatchPct).toBeCloseTo((100 * 2) / 24, 12);
    expect(r.maxAbs).toBe(1);
    expect(r.worst).toMatchObject({
      flatIndex: 17,
      index: [1, 1, 1],
      actual: 1.5,
      expected: 1,
      absErr: 0.5,
      relErr: 0.5,
      fails: true,
    });
    expect(unravelIndex(23, shape)).toEqual([1, 2, 3]);
  });

  test('result survives JSON round trip (nulls for non-finite metrics)', () => {
    const r = compareArrays(f32([NaN, Infinity, 1]), f32([1, 2, 1]), { atol: 0, rtol: 0 });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  test('empty input passes with zero metrics', () => {
    const r = compareArrays(f32([]), f32([]), { atol: 0, rtol: 0 }, [0, 3]);
    expect(r).toMatchObject({ pass: true, n: 0, mismatches: 0, mismatchPct: 0, maxAbs: 0, worst: null });
  });

  test('bad arguments throw clear errors', () => {
    expect(() => compareArrays(f32([1]), f32([1, 2]), { atol: 0, rtol: 0 })).toThrow(
      /length mismatch \(actual 1, expected 2\)/,
    );
    expect(() => compareArrays(f32([1, 2]), f32([1, 2]), { atol: 0, rtol: 0 }, [3])).toThrow(/shape \[3\]/);
    expect(() => compareArrays(f32([1]), f32([1]), { atol: -1, rtol: 0 })).toThrow(/atol/);
    expect(() => compareArrays(f32([1]), f32([1]), { atol: 0, rtol: NaN })).toThrow(/rtol/);
    expect(() => compareArrays(f32([1]), f32([1]), { atol: 0, rtol: 0, maxUlp: 1.5 } as never)).toThrow(/maxUlp/);
  });
});

describe('needed tolerance (the smallest atol that passes at the row rtol)', () => {
  // Planted errors: element 2 is off by 3e-3 at expected 10, element 4 by 5e-4 at expected 0.
  const expected = f64([1, -2, 10, 0.5, 0]);
  const planted = f64([1, -2, 10 + 3e-3, 0.5, 5e-4]);

  test('is max(|a - e| - rtol*|e|) over the elements, and passes exactly at that atol and fails just below', () => {
    const rtol = 1e-4;
    const r = compareArrays(planted, expected, { atol: 0, rtol });
    // element 2 needs 3e-3 - 1e-4*10 = 2e-3; element 4 needs 5e-4
    expect(r.neededAtol).toBeCloseTo(2e-3, 12);
    const need = r.neededAtol as number;
    expect(compareArrays(planted, expected, { atol: need * (1 + 1e-9), rtol }).pass).toBe(true);
    expect(compareArrays(planted, expected, { atol: need * 0.999, rtol }).pass).toBe(false);
    expect(neededToleranceText(r.neededAtol, rtol)).toBe('needs atol 2.000e-3 at rtol 1.000e-4');
  });

  test('depends on the rtol; 0 when rtol alone passes; the same whether or not the tolerance passes', () => {
    expect(compareArrays(planted, expected, { atol: 0, rtol: 0 }).neededAtol).toBeCloseTo(3e-3, 12);
    // at rtol 1e-3, element 2 is within rtol alone (3e-3 <= 1e-2): only the one at 0 needs atol
    expect(compareArrays(planted, expected, { atol: 1, rtol: 1e-3 }).neededAtol).toBeCloseTo(5e-4, 12);
    expect(compareArrays(f64([1, 2]), f64([1, 2 + 1e-6]), { atol: 0, rtol: 1e-5 }).neededAtol).toBe(0);
  });

  test('NaN or Inf makes it unsatisfiable and says so; equal infinities and nanEqual NaNs need nothing', () => {
    const nan = compareArrays(f64([1, NaN]), f64([1, 2]), { atol: 1, rtol: 1 });
    expect(nan.neededAtol).toBe('Infinity');
    expect(neededToleranceText(nan.neededAtol, 1e-5)).toBe('no atol passes at rtol 1.000e-5 (NaN/Inf)');
    expect(compareArrays(f64([Infinity]), f64([3]), { atol: 0, rtol: 0 }).neededAtol).toBe('Infinity');
    expect(
      compareArrays(f64([Infinity, NaN]), f64([Infinity, NaN]), { atol: 0, rtol: 0, nanEqual: true }).neededAtol,
    ).toBe(0);
    const z = (shape: number[]): Tensor => ({ shape, data: f32([0, 0, 0, 0, 0, 0]) });
    expect(compareTensors(z([2, 3]), z([3, 2]), { atol: 1, rtol: 0 }).neededAtol).toBeNull();
  });
});

describe('compareTensors', () => {
  const t = (shape: number[], data: number[]): Tensor => ({ shape, data: f32(data) });

  test('shape mismatch is reported, not thrown, even with equal element counts', () => {
    const r = compareTensors(t([2, 3], [1, 2, 3, 4, 5, 6]), t([3, 2], [1, 2, 3, 4, 5, 6]), { atol: 1, rtol: 1 });
    expect(r.pass).toBe(false);
    expect(r.shapeMismatch).toEqual({ actual: [2, 3], expected: [3, 2] });
    expect(r.mismatches).toBe(6);
    expect(r.maxAbs).toBeNull();
    const s = compareTensors(t([], [1]), t([1], [1]), { atol: 0, rtol: 0 });
    expect(s.shapeMismatch).toEqual({ actual: [], expected: [1] });
  });

  test('same shapes compare values; float32 actual vs float64 expected', () => {
    const r = compareTensors(t([2], [1, 2]), { shape: [2], data: f64([1, 2.1]) }, { atol: 0, rtol: 0.1 });
    expect(r.shapeMismatch).toBeUndefined();
    expect(r.pass).toBe(true);
    expect(r.worst?.index).toEqual([1]);
  });
});

describe('notebook numbers (identity_block resume, training=False)', () => {
  // Copied from the deeplearning.ai ResNet notebook (public_tests.py assertion values,
  // the notebook's printed output, and a GPU/TF32 revision's public_tests.py values),
  // as collected in the project's notebook-published reference: versions.stateless-cpu
  // and versions.gpu-tf32, identity_block. The notebook checks np.allclose(..., atol=1e-5).
  const shape = [3, 2, 4];
  const publicTests = [
    [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ],
    [
      [192.71236, 192.71236, 192.71236, 96.85619],
      [96.85619, 96.85619, 96.85619, 48.9281],
    ],
    [
      [578.1371, 578.1371, 578.1371, 290.56854],
      [290.56854, 290.56854, 290.56854, 146.78427],
    ],
  ].flat(2);
  const printed = [
    [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ],
    [
      [192.71236, 192.71236, 192.71236, 96.85618],
      [96.85618, 96.85618, 96.85618, 48.9281],
    ],
    [
      [578.13715, 578.13715, 578.13715, 290.56854],
      [290.56854, 290.56854, 290.56854, 146.78427],
    ],
  ].flat(2);
  const gpuTf32 = [
    [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ],
    [
      [192.6542, 192.6542, 192.6542, 96.8271],
      [96.8271, 96.8271, 96.8271, 48.91355],
    ],
    [
      [578.21246, 578.21246, 578.21246, 290.60623],
      [290.60623, 290.60623, 290.60623, 146.80312],
    ],
  ].flat(2);
  const tol = { atol: 1e-5, rtol: 1e-5 };

  test('printed float32 output passes against the public_tests values', () => {
    const r = compareArrays(f32(printed), f64(publicTests), tol, shape);
    expect(r.pass).toBe(true);
    // numpy: np.abs(np.float32(printed) - publicTests).max() = 4.599609371780389e-05
    expect(r.maxAbs).toBeCloseTo(4.599609371780389e-5, 15);
    expect(r.relSkippedZeros).toBe(8);
  });

  test('GPU/TF32 values fail against the CPU values, as numpy.isclose says', () => {
    const r = compareArrays(f32(gpuTf32), f64(publicTests), tol, shape);
    expect(r.pass).toBe(false);
    // numpy: (~np.isclose(np.float32(gpu), cpu, atol=1e-5)).sum() = 16, max abs err 0.0753633789062178 at (2, 0, 0)
    expect(r.mismatches).toBe(16);
    expect(r.maxAbs).toBeCloseTo(0.0753633789062178, 12);
    expect(r.worst).toMatchObject({ flatIndex: 16, index: [2, 0, 0], expected: 578.1371, fails: true });
    expect(r.worst?.actual).toBe(Math.fround(578.21246));
  });
});
