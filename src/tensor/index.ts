/** A dense NHWC (or any layout) tensor: row-major data with its shape. */
export type DType = 'float32' | 'float64';

export interface Tensor {
  shape: number[];
  data: Float32Array | Float64Array;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function dtypeOf(t: Tensor): DType {
  return t.data instanceof Float64Array ? 'float64' : 'float32';
}

export function tensor(shape: number[], data: Float32Array | Float64Array): Tensor {
  const n = sizeOf(shape);
  if (data.length !== n) {
    throw new Error(`tensor: data length ${data.length} does not match shape [${shape.join(',')}] (${n} elements)`);
  }
  return { shape: [...shape], data };
}

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}]`;
}
