/**
 * A small accumulator for ONNX graph parts: nodes with typed attributes, float32 initializers and
 * shared int64/float helper constants. Names are checked for uniqueness so that a mistake in the
 * exporter shows up as an error here rather than as an invalid model.
 */
import * as os from 'node:os';
import { AttributeType, DataType, type AttributeProto, type NodeProto, type TensorProto } from './proto';

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

/** Prefix of helper constants (pads, axes, epsilon...): not model parameters. */
export const CONST_PREFIX = 'const/';

function assertLittleEndian(): void {
  if (os.endianness() !== 'LE') {
    throw new Error('ONNX export: raw_data is little-endian; this host is big-endian and is not supported');
  }
}

function attribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'number') {
    if (!Number.isInteger(v))
      throw new Error(`ONNX attribute '${name}': integer expected, got ${v} (use { float } for floats)`);
    return { name, type: AttributeType.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: Buffer.from(v, 'utf8') };
  if (Array.isArray(v)) {
    if (v.some((x) => !Number.isInteger(x)))
      throw new Error(`ONNX attribute '${name}': integers expected, got [${v.join(',')}]`);
    return { name, type: AttributeType.INTS, ints: [...v] };
  }
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  return { name, type: AttributeType.FLOATS, floats: [...v.floats] };
}

export class OnnxGraph {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly nodeNames = new Set<string>();
  private readonly tensorNames = new Set<string>();

  /** Registers a tensor name produced by the graph (input, node output or initializer). */
  private claim(name: string): void {
    if (this.tensorNames.has(name)) throw new Error(`ONNX export: tensor name '${name}' is produced twice`);
    this.tensorNames.add(name);
  }

  hasTensor(name: string): boolean {
    return this.tensorNames.has(name);
  }

  declareInput(name: string): string {
    this.claim(name);
    return name;
  }

  /** Adds a node; returns its (single) output name. */
  node(opType: string, inputs: string[], output: string, attrs: Record<string, AttrValue> = {}, doc?: string): string {
    for (const i of inputs) {
      if (!this.tensorNames.has(i))
        throw new Error(`ONNX export: node ${opType} '${output}' reads undefined tensor '${i}'`);
    }
    this.claim(output);
    let name = output;
    for (let k = 1; this.nodeNames.has(name); k++) name = `${output}#${k}`;
    this.nodeNames.add(name);
    this.nodes.push({
      input: inputs,
      output: [output],
      name,
      opType,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      ...(doc ? { docString: doc } : {}),
    });
    return output;
  }

  /**
   * A float32 initializer: a copy of `data` is stored, or `data` itself with `owned` (an array made
   * for the export that nobody writes to, e.g. a transposed kernel, which the exports of one model
   * may share: no second 94 MB for ResNet-50).
   */
  floatInitializer(name: string, dims: number[], data: Float32Array, doc?: string, owned = false): string {
    assertLittleEndian();
    const n = dims.reduce((p, d) => p * d, 1);
    if (data.length !== n) {
      throw new Error(
        `ONNX export: initializer '${name}' has ${data.length} values for dims [${dims.join(',')}] (${n})`,
      );
    }
    this.claim(name);
    const copy = owned ? data : new Float32Array(data);
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: DataType.FLOAT,
      rawData: new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength),
      ...(doc ? { docString: doc } : {}),
    });
    return name;
  }

  /** A shared helper constant (int64), named `const/<key>`; created once. */
  int64Constant(key: string, values: number[]): string {
    const name = `${CONST_PREFIX}${key}`;
    if (this.tensorNames.has(name)) return name;
    assertLittleEndian();
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.claim(name);
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: DataType.INT64,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** A shared float32 scalar helper constant (rank 0), named `const/<key>`; created once. */
  floatScalarConstant(key: string, value: number): string {
    const name = `${CONST_PREFIX}${key}`;
    if (this.tensorNames.has(name)) return name;
    assertLittleEndian();
    const data = new Float32Array([value]);
    this.claim(name);
    this.initializers.push({
      name,
      dims: [],
      dataType: DataType.FLOAT,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }
}
