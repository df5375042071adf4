/** FLOPs of a matrix product, counted by the convention of src/bench/flops.ts (the ceiling's and the model's figures compare). */

/** FLOPs of an n×k by k×m matrix product by the bench's convention (2 per multiply-add). */
export function matmulFlops(n: number, k: number, m: number): number {
  for (const [name, v] of [
    ['n', n],
    ['k', k],
    ['m', m],
  ] as const) {
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`matmulFlops: ${name} must be a positive integer, got ${v}`);
  }
  return 2 * n * k * m;
}
