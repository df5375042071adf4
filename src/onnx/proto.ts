/**
 * The subset of the ONNX protobuf schema (onnx/onnx.proto, proto2) this project writes and reads,
 * declared through protobufjs's reflection API. Only message/field names, field numbers, types
 * and the packed flags are taken from the ONNX specification; encoding and decoding are done by
 * protobufjs (no hand-rolled wire format). Field numbers were checked against the descriptors of
 * the Python `onnx` package (1.23) in the pinned environment.
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

let modelType: protobuf.Type | null = null;

function modelProtoType(): protobuf.Type {
  if (!modelType) {
    // loaded on first use, so that importing the adapter registry does not load protobufjs
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pb = require('protobufjs') as typeof protobuf;
    const root = pb.Root.fromJSON(ONNX_SCHEMA as unknown as protobuf.INamespace);
    modelType = root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/** Serializes a ModelProto (validated against the schema first). */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelProtoType();
  const err = type.verify(model as unknown as Record<string, unknown>);
  if (err) throw new Error(`ONNX ModelProto does not match the schema: ${err}`);
  return type.encode(model as unknown as Record<string, unknown>).finish();
}

/** Parses ONNX bytes into plain objects (int64 as numbers, bytes as Uint8Array views). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = modelProtoType();
  const msg = type.decode(bytes);
  const obj = type.toObject(msg, { longs: Number, arrays: true, defaults: false });
  return obj as ModelProto;
}
