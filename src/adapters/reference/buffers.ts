/**
 * Output buffers of the reference kernels. A fresh Float64Array costs a page fault per 4 KiB on first
 * write, which on the loaded benchmark VM made allocation a large part of a ResNet-50 forward pass;
 * ReferenceExecutor therefore recycles the buffers of layers whose outputs are no longer needed
 * (see executor.ts for when a buffer may be recycled). Outside an executor run every kernel gets a
 * new buffer, as before.
 */

/** Buffers shorter than this are always new (recycling them saves nothing measurable). */
const MIN_POOLED = 4096;

/** Released buffers by length, for reuse by later layers (and later runs) of one executor. */
export class Float64Pool {
  private readonly free = new Map<number, Float64Array[]>();

  take(length: number): Float64Array | undefined {
    return this.free.get(length)?.pop();
  }

  /** Hands `b` back; the caller guarantees nothing reads or writes it any more. */
  give(b: Float64Array): void {
    if (b.length < MIN_POOLED || b.byteOffset !== 0 || b.buffer.byteLength !== b.byteLength) return;
    const list = this.free.get(b.length);
    if (list) list.push(b);
    else this.free.set(b.length, [b]);
  }
}

let current: Float64Pool | undefined;

/**
 * A buffer for a kernel's output of `length` elements: recycled from the running executor's pool
 * when one is there, else new. `zeroed`: the kernel needs every element 0 first (it accumulates or
 * leaves parts unwritten); false only for kernels that write every element.
 */
export function outputBuffer(length: number, zeroed: boolean): Float64Array {
  const b = current?.take(length);
  if (!b) return new Float64Array(length);
  if (zeroed) b.fill(0);
  return b;
}

/** Runs `fn` with `pool` as the source of output buffers. */
export function withPool<T>(pool: Float64Pool | undefined, fn: () => T): T {
  const prev = current;
  current = pool;
  try {
    return fn();
  } finally {
    current = prev;
  }
}
