/**
 * A minimal WebAssembly binary writer: just the sections, instructions and encodings the float64
 * SIMD kernel of ./simd-kernel.ts needs (there is no wasm toolchain in the project and the kernel is
 * small enough to emit directly). Encodings follow the WebAssembly core specification (binary
 * format, chapter 5) and the fixed-width SIMD proposal's opcode table.
 */

/** Unsigned LEB128. */
export function uleb(v: number): number[] {
  if (!Number.isInteger(v) || v < 0) throw new Error(`uleb: ${v} is not a non-negative integer`);
  const out: number[] = [];
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(v: number): number[] {
  if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new Error(`sleb: ${v} is not an int32`);
  const out: number[] = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

export const I32 = 0x7f;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof V128;

/** Instruction bytes of one function body. Memory arguments take (alignLog2, offset). */
export class Code {
  readonly bytes: number[] = [];
  private op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  private simd(code: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(code), ...imm);
  }
  get(i: number): this {
    return this.op(0x20, ...uleb(i));
  }
  set(i: number): this {
    return this.op(0x21, ...uleb(i));
  }
  tee(i: number): this {
    return this.op(0x22, ...uleb(i));
  }
  i32(v: number): this {
    return this.op(0x41, ...sleb(v));
  }
  add(): this {
    return this.op(0x6a);
  }
  sub(): this {
    return this.op(0x6b);
  }
  mul(): this {
    return this.op(0x6c);
  }
  ltU(): this {
    return this.op(0x49);
  }
  ne(): this {
    return this.op(0x47);
  }
  or(): this {
    return this.op(0x72);
  }
  eqz(): this {
    return this.op(0x45);
  }
  /** i32.load with a byte offset immediate. */
  load(offset = 0): this {
    return this.op(0x28, 2, ...uleb(offset));
  }
  /** block/loop with an empty result type; end() closes either. */
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  end(): this {
    return this.op(0x0b);
  }
  brIf(depth: number): this {
    return this.op(0x0d, ...uleb(depth));
  }
  /** v128.load (alignment hint 8 bytes: the buffers are float64-aligned). */
  vload(offset = 0): this {
    return this.simd(0x00, 3, ...uleb(offset));
  }
  /** v128.load64_splat: one float64 from memory in both lanes. */
  vload64Splat(offset = 0): this {
    return this.simd(0x0a, 3, ...uleb(offset));
  }
  vstore(offset = 0): this {
    return this.simd(0x0b, 3, ...uleb(offset));
  }
  /** v128.const of sixteen zero bytes (+0.0 in both float64 lanes). */
  vzero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  /** f64x2.add: each lane rounded separately, no fusion with a preceding multiply. */
  f64x2Add(): this {
    return this.simd(0xf0);
  }
  f64x2Mul(): this {
    return this.simd(0xf2);
  }
}

export interface FuncDef {
  params: ValType[];
  /** Extra locals, in order after the parameters. */
  locals: ValType[];
  body: Code;
  exportName: string;
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function str(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

/**
 * A module importing one shared memory as `env.memory` (min/max in 64 KiB pages) and exporting
 * `funcs`, each with no results.
 */
export function wasmModule(funcs: FuncDef[], memory: { min: number; max: number }): Uint8Array {
  const types = vec(funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0]));
  const imports = vec([[...str('env'), ...str('memory'), 0x02, 0x03, ...uleb(memory.min), ...uleb(memory.max)]]);
  const functions = vec(funcs.map((_, i) => uleb(i)));
  const exports = vec(funcs.map((f, i) => [...str(f.exportName), 0x00, ...uleb(i)]));
  const bodies = funcs.map((f) => {
    // Locals as runs of one type.
    const runs: number[][] = [];
    for (const t of f.locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const body = [...vec(runs.map(([n, t]) => [...uleb(n), t])), ...f.body.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, functions),
    ...section(7, exports),
    ...section(10, vec(bodies)),
  ]);
}
