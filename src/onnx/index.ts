export {
  buildOnnxModel,
  exportOnnx,
  convKernelToOihw,
  onnxPads,
  ONNX_OPSET,
  ONNX_IR_VERSION,
  ONNX_INPUT_NAME,
  ONNX_OUTPUT_NAME,
  CAPTURE_PREFIX,
  BATCH_DIM_PARAM,
} from './export';
export type { OnnxExportOptions, OnnxModel } from './export';
export { onnxParamCount, inferenceModelParamCount } from './params';
export { OnnxExporter, OihwKernelMemo, ReusedModelBuffer } from './exporter';
export type { OnnxBytes } from './exporter';
export type { OnnxParamCount } from './params';
export { encodeModel, encodeModelWhole, decodeModel, decodeInitializers, DataType, AttributeType } from './proto';
export type { ModelProto, GraphProto, NodeProto, TensorProto, AttributeProto, ValueInfoProto } from './proto';
export { CONST_PREFIX } from './onnx-graph';
