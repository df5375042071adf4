/**
 * The selections a test applies to a block output before comparing (`A[:, (0,-1), :, :].mean(axis=3)`,
 * `A[0]`, `resume[1]`, `np.around(x, 5)`), on shapes and on data, as numpy does them.
 */
import type { Tensor } from '../tensor';

export type SelectAxis =
  { all: true } | { take: number[] } | { index: number } | { slice: [number | null, number | null, number | null] };
export type ViewStep =
  { op: 'select'; axes: SelectAxis[] } | { op: 'mean'; axis: number } | { op: 'round'; decimals: number };

/** Text of the steps in numpy notation (`A[:, (0,-1), :, :].mean(axis=3)`; plain `A` when none). */
export function viewText(steps: readonly ViewStep[], base = 'A'): string {
  let s = base;
  for (const st of steps) {
    if (st.op === 'select') {
      s += `[${st.axes.map((a) => ('all' in a ? ':' : 'take' in a ? `(${a.take.join(',')})` : 'index' in a ? String(a.index) : a.slice.map((v) => (v === null ? '' : String(v))).join(':'))).join(', ')}]`;
    } else if (st.op === 'mean') s += `.mean(axis=${st.axis})`;
    else s = `np.around(${s}, ${st.decimals})`;
  }
  return s;
}

/** The notebook's resume, `A[:, (0,-1), :, :].mean(axis=3)`, as steps. */
export function isResume(steps: readonly ViewStep[]): boolean {
  return (
    steps.length === 2 &&
    steps[0].op === 'select' &&
    steps[0].axes.length === 4 &&
    'all' in steps[0].axes[0] &&
    'take' in steps[0].axes[1] &&
    steps[0].axes[1].take.join(',') === '0,-1' &&
    'all' in steps[0].axes[2] &&
    'all' in steps[0].axes[3] &&
    steps[1].op === 'mean' &&
    steps[1].axis === 3
  );
}

function norm(i: number, d: number, what: string): number {
  const j = i < 0 ? i + d : i;
  if (!Number.isInteger(j) || j < 0 || j >= d)
    throw new Error(`${what}: index ${i} is out of bounds for a dimension of size ${d}`);
  return j;
}

function sliceIndices(sl: [number | null, number | null, number | null], d: number): number[] {
  const step = sl[2] ?? 1;
  if (step === 0) throw new Error('slice step cannot be zero');
  const clamp = (v: number | null, dflt: number) =>
    v === null ? dflt : v < 0 ? Math.max(v + d, step > 0 ? 0 : -1) : Math.min(v, step > 0 ? d : d - 1);
  const lo = clamp(sl[0], step > 0 ? 0 : d - 1);
  const hi = clamp(sl[1], step > 0 ? d : -1);
  const out: number[] = [];
  for (let i = lo; step > 0 ? i < hi : i > hi; i += step) out.push(i);
  return out;
}

/** Applies the steps to a row-major tensor (float64 result); `what` names the check in errors. */
export function applyView(t: Tensor, steps: readonly ViewStep[], what: string): Tensor {
  let shape = [...t.shape];
  let data = Float64Array.from(t.data as ArrayLike<number>);
  for (const st of steps) {
    if (st.op === 'round') {
      const k = 10 ** st.decimals;
      data = data.map((v) => {
        const x = v * k;
        const r = Math.round(x);
        return (Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r) / k;
      });
      continue;
    }
    if (st.op === 'mean') {
      const ax = st.axis < 0 ? st.axis + shape.length : st.axis;
      if (ax < 0 || ax >= shape.length) throw new Error(`${what}: mean(axis=${st.axis}) of a ${shape.length}-d array`);
      const outer = shape.slice(0, ax).reduce((p, d) => p * d, 1);
      const dim = shape[ax];
      const inner = shape.slice(ax + 1).reduce((p, d) => p * d, 1);
      const out = new Float64Array(outer * inner);
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          let s = 0;
          for (let k = 0; k < dim; k++) s += data[(o * dim + k) * inner + i];
          out[o * inner + i] = s / dim;
        }
      shape = [...shape.slice(0, ax), ...shape.slice(ax + 1)];
      data = out;
      continue;
    }
    if (st.axes.length > shape.length)
      throw new Error(`${what}: ${st.axes.length} indices for a ${shape.length}-d array`);
    const picks: number[][] = shape.map((d, i) => {
      const a = st.axes[i];
      if (!a || 'all' in a) return Array.from({ length: d }, (_, k) => k);
      if ('take' in a) return a.take.map((v) => norm(v, d, what));
      if ('index' in a) return [norm(a.index, d, what)];
      return sliceIndices(a.slice, d);
    });
    const keep = shape.map((_, i) => !(st.axes[i] && 'index' in st.axes[i]));
    const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1));
    const outShape = picks.map((p) => p.length);
    const n = outShape.reduce((p, d) => p * d, 1);
    const out = new Float64Array(n);
    const idx = new Array(shape.length).fill(0);
    for (let k = 0; k < n; k++) {
      let off = 0;
      for (let i = 0; i < shape.length; i++) off += picks[i][idx[i]] * strides[i];
      out[k] = data[off];
      for (let i = shape.length - 1; i >= 0; i--) {
        if (++idx[i] < outShape[i]) break;
        idx[i] = 0;
      }
    }
    shape = outShape.filter((_, i) => keep[i]);
    data = out;
  }
  return { shape, data };
}

/** Shape after the steps, without data (numpy's rules; same errors as applyView). */
export function viewShape(shape: readonly number[], steps: readonly ViewStep[], what: string): number[] {
  const n = shape.reduce((p, d) => p * d, 1);
  if (n > 1 << 22) throw new Error(`${what}: output too large to check`);
  return applyView({ shape: [...shape], data: new Float64Array(n) }, steps, what).shape;
}
