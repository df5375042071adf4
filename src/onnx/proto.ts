/**
 * The subset of the ONNX protobuf schema (onnx/onnx.proto, proto2) this project writes and reads,
 * declared through protobufjs's reflection API. Only message/field names, field numbers, types
 * and the packed flags are taken from the ONNX specification; encoding and decoding are done by
 * protobufjs (no hand-rolled wire format). Field numbers were checked against the descriptors of
 * the Python `onnx` package (1.23) in the pinned environment.
 *
 * encodeModel does not hand the whole model to protobufjs at once: its writer copies a 94 MB
 * ResNet-50 several times over while growing its buffer (about 1.5 s under load, against one copy
 * for the parts below). A message's encoding is the concatenation of its fields' encodings in
 * field-number order (the protobuf encoding rules; protobufjs writes them that way), so the model
 * is assembled from protobufjs encodings of field subsets: the fields before the graph, the
 * graph's fields before the initializers, each initializer (its fields before raw_data, the raw
 * bytes under a tag and length written by protobufjs's Writer, its fields after), and so on. The
 * bytes are identical to protobufjs's encoding of the whole message (suites/onnx-export.test.ts,
 * encodeModelWhole).
 *
 * Messages are plain objects with camelCase field names (protobufjs's convention).
 */
import type * as protobuf from 'protobufjs';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  /** Little-endian element bytes (float32 or int64). */
  rawData: Uint8Array;
  docString?: string;
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain?: string;
  attribute: AttributeProto[];
  docString?: string;
}

export interface DimensionProto {
  dimValue?: number;
  dimParam?: string;
}

export interface ValueInfoProto {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: DimensionProto[] } } };
  docString?: string;
}

export interface GraphProto {
  node: NodeProto[];
  name: string;
  initializer: TensorProto[];
  docString?: string;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface OperatorSetIdProto {
  domain: string;
  version: number;
}
export interface StringStringEntryProto {
  key: string;
  value: string;
}

export interface ModelProto {
  irVersion: number;
  opsetImport: OperatorSetIdProto[];
  producerName: string;
  producerVersion: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph: GraphProto;
  metadataProps: StringStringEntryProto[];
}

type FieldDef = { type: string; id: number; rule?: 'repeated'; options?: { packed: boolean } };
const f = (type: string, id: number): FieldDef => ({ type, id });
const rep = (type: string, id: number, packed?: boolean): FieldDef =>
  packed === undefined ? { type, id, rule: 'repeated' } : { type, id, rule: 'repeated', options: { packed } };

/** Field numbers from the ONNX specification (onnx.proto, IR version 8 and later). */
const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: f('string', 1), value: f('string', 2) } },
        OperatorSetIdProto: { fields: { domain: f('string', 1), version: f('int64', 2) } },
        TensorShapeProto: {
          fields: { dim: rep('Dimension', 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: f('int64', 1), dimParam: f('string', 2), denotation: f('string', 3) },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: f('Tensor', 1), denotation: f('string', 6) },
          nested: {
            Tensor: { fields: { elemType: f('int32', 1), shape: f('TensorShapeProto', 2) } },
          },
        },
        ValueInfoProto: { fields: { name: f('string', 1), type: f('TypeProto', 2), docString: f('string', 3) } },
        TensorProto: {
          fields: {
            dims: rep('int64', 1, false),
            dataType: f('int32', 2),
            floatData: rep('float', 4, true),
            int32Data: rep('int32', 5, true),
            int64Data: rep('int64', 7, true),
            name: f('string', 8),
            rawData: f('bytes', 9),
            doubleData: rep('double', 10, true),
            docString: f('string', 12),
          },
        },
        AttributeProto: {
          fields: {
            name: f('string', 1),
            f: f('float', 2),
            i: f('int64', 3),
            s: f('bytes', 4),
            t: f('TensorProto', 5),
            floats: rep('float', 7, false),
            ints: rep('int64', 8, false),
            strings: rep('bytes', 9, false),
            docString: f('string', 13),
            type: f('int32', 20),
          },
        },
        NodeProto: {
          fields: {
            input: rep('string', 1),
            output: rep('string', 2),
            name: f('string', 3),
            opType: f('string', 4),
            attribute: rep('AttributeProto', 5),
            docString: f('string', 6),
            domain: f('string', 7),
          },
        },
        GraphProto: {
          fields: {
            node: rep('NodeProto', 1),
            name: f('string', 2),
            initializer: rep('TensorProto', 5),
            docString: f('string', 10),
            input: rep('ValueInfoProto', 11),
            output: rep('ValueInfoProto', 12),
            valueInfo: rep('ValueInfoProto', 13),
          },
        },
        ModelProto: {
          fields: {
            irVersion: f('int64', 1),
            producerName: f('string', 2),
            producerVersion: f('string', 3),
            domain: f('string', 4),
            modelVersion: f('int64', 5),
            docString: f('string', 6),
            graph: f('GraphProto', 7),
            opsetImport: rep('OperatorSetIdProto', 8),
            metadataProps: rep('StringStringEntryProto', 14),
          },
        },
      },
    },
  },
};

interface OnnxTypes {
  pb: typeof protobuf;
  model: protobuf.Type;
  graph: protobuf.Type;
  tensor: protobuf.Type;
}

let onnxTypes: OnnxTypes | null = null;

function types(): OnnxTypes {
  if (!onnxTypes) {
    // loaded on first use, so that importing the adapter registry does not load protobufjs
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pb = require('protobufjs') as typeof protobuf;
    const root = pb.Root.fromJSON(ONNX_SCHEMA as unknown as protobuf.INamespace);
    onnxTypes = {
      pb,
      model: root.lookupType('onnx.ModelProto'),
      graph: root.lookupType('onnx.GraphProto'),
      tensor: root.lookupType('onnx.TensorProto'),
    };
  }
  return onnxTypes;
}

function modelProtoType(): protobuf.Type {
  return types().model;
}

type Message = Record<string, unknown>;

/** protobufjs's encoding of the fields of `msg` whose number passes `keep` (the others left out). */
function encodeFields(type: protobuf.Type, msg: object, keep: (id: number) => boolean): Uint8Array {
  const part: Message = {};
  for (const f of type.fieldsArray) {
    if (keep(f.id) && Object.prototype.hasOwnProperty.call(msg, f.name)) part[f.name] = (msg as Message)[f.name];
  }
  return type.encode(part).finish();
}

/** Tag and length of a length-delimited field `id` of `length` bytes, written by protobufjs. */
function delimitedHeader(pb: typeof protobuf, id: number, length: number): Uint8Array {
  return pb.Writer.create()
    .uint32(((id << 3) | 2) >>> 0)
    .uint32(length)
    .finish();
}

/** Where encodeModel writes a model of `length` bytes: exactly that many bytes (default: a new Buffer). */
export type ModelBuffer = (length: number) => Uint8Array;

function concat(parts: Uint8Array[], alloc: ModelBuffer): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = alloc(n);
  if (out.length !== n) throw new Error(`encodeModel: the buffer given holds ${out.length} bytes, ${n} needed`);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The graph's initializer records: each one's raw_data is placed as is, not passed through protobufjs's writer. */
function initializerParts(t: OnnxTypes, initializers: TensorProto[]): Uint8Array[] {
  const initId = t.graph.fields.initializer.id;
  const rawId = t.tensor.fields.rawData.id;
  const parts: Uint8Array[] = [];
  for (const init of initializers) {
    const raw = init.rawData;
    // An absent or empty raw_data is left to protobufjs (its presence rules decide whether it is written).
    if (!(raw instanceof Uint8Array) || raw.length === 0) {
      parts.push(encodeFields(t.graph, { initializer: [init] }, (id) => id === initId));
      continue;
    }
    const head = encodeFields(t.tensor, init, (id) => id < rawId);
    const rawHead = delimitedHeader(t.pb, rawId, raw.length);
    const tail = encodeFields(t.tensor, init, (id) => id > rawId);
    const length = head.length + rawHead.length + raw.length + tail.length;
    parts.push(delimitedHeader(t.pb, initId, length), head, rawHead, raw, tail);
  }
  return parts;
}

/**
 * Serializes a ModelProto (validated against the schema first); the same bytes as encodeModelWhole.
 * `alloc` gives the memory to write into (e.g. a buffer reused between models, src/onnx/exporter.ts).
 */
export function encodeModel(model: ModelProto, alloc: ModelBuffer = (n) => Buffer.allocUnsafe(n)): Uint8Array {
  const t = types();
  checkModel(model);
  const graph = model.graph as GraphProto | undefined | null;
  if (graph === undefined || graph === null)
    return concat([t.model.encode(model as unknown as Message).finish()], alloc);
  const graphId = t.model.fields.graph.id;
  const initId = t.graph.fields.initializer.id;
  const graphParts = [
    encodeFields(t.graph, graph, (id) => id < initId),
    ...initializerParts(t, graph.initializer ?? []),
    encodeFields(t.graph, graph, (id) => id > initId),
  ];
  let graphLength = 0;
  for (const p of graphParts) graphLength += p.length;
  return concat(
    [
      encodeFields(t.model, model, (id) => id < graphId),
      delimitedHeader(t.pb, graphId, graphLength),
      ...graphParts,
      encodeFields(t.model, model, (id) => id > graphId),
    ],
    alloc,
  );
}

/** protobufjs's encoding of the whole message in one call: what encodeModel must equal (tests). */
export function encodeModelWhole(model: ModelProto): Uint8Array {
  checkModel(model);
  return modelProtoType()
    .encode(model as unknown as Message)
    .finish();
}

/** Throws when `model` does not match the ONNX schema. */
function checkModel(model: ModelProto): void {
  const err = modelProtoType().verify(model as unknown as Message);
  if (err) throw new Error(`ONNX ModelProto does not match the schema: ${err}`);
}

/** Parses ONNX bytes into plain objects (int64 as numbers, bytes as Uint8Array views). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = modelProtoType();
  const msg = type.decode(bytes);
  const obj = type.toObject(msg, { longs: Number, arrays: true, defaults: false });
  return obj as ModelProto;
}

/**
 * The graph initializers of serialized ONNX bytes, decoded as decodeModel would (raw_data as views
 * into `bytes`, nothing copied), without decoding the nodes and the rest of the model: for counting
 * parameters from the bytes a runtime is given.
 */
export function decodeInitializers(bytes: Uint8Array): TensorProto[] {
  const t = types();
  const graphId = t.model.fields.graph.id;
  const initId = t.graph.fields.initializer.id;
  const r = t.pb.Reader.create(bytes);
  const out: TensorProto[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 !== graphId || (tag & 7) !== 2) {
      r.skipType(tag & 7);
      continue;
    }
    // A repeated message field met twice merges (protobuf rules): initializers of both are kept.
    const end = r.uint32() + r.pos;
    if (end > r.len) throw new Error(`ONNX bytes: the graph runs past the end (${end} > ${r.len})`);
    while (r.pos < end) {
      const g = r.uint32();
      if (g >>> 3 === initId && (g & 7) === 2) {
        const msg = t.tensor.decode(r, r.uint32());
        out.push(t.tensor.toObject(msg, { longs: Number, arrays: true, defaults: false }) as TensorProto);
      } else r.skipType(g & 7);
    }
    if (r.pos !== end) throw new Error('ONNX bytes: a graph field overruns its length');
  }
  return out;
}
