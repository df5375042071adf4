/**
 * `export-onnx`: writes a notebook model with its initial Keras weights as a standard ONNX file
 * (opset 17, NHWC input `input` with a dynamic batch dimension, output `output`), so the exact
 * graph the harness runs can be run by any other ONNX consumer.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initModelWeights } from '../../init';
import { BATCH_DIM_PARAM, exportOnnx, ONNX_IR_VERSION, ONNX_OPSET, onnxParamCount } from '../../onnx';
import { MODEL_NAMES, buildModel, type ModelArgs } from '../../spec/model-args';
import type { ModelName, ModelSpec } from '../../spec/types';
import { bool, int, intList, parseArgs, required, str, UsageError } from '../args';

export const EXPORT_ONNX_USAGE =
  'resnet-conformance export-onnx --model resnet50|identity_block|convolutional_block [--f N] [--filters a,b,c] [--s N] '
  + '[--initializer glorot_uniform|random_uniform|constant:V] [--input-shape h,w,c] [--classes N] [--training] '
  + '[--capture layer,layer,...] --out model.onnx';

const VALUE_FLAGS = ['model', 'f', 'filters', 's', 'initializer', 'input-shape', 'classes', 'capture', 'out'];

interface ExportPlan {
  modelArgs: ModelArgs;
  training: boolean;
  capture: string[];
  out: string;
}

function plan(argv: string[]): ExportPlan {
  const p = parseArgs(argv, VALUE_FLAGS, ['training']);
  if (p.positional.length > 0) throw new UsageError(`unexpected argument '${p.positional[0]}' (options start with --)`);
  const model = required(p, 'model');
  if (!(MODEL_NAMES as readonly string[]).includes(model)) {
    throw new UsageError(`--model must be one of ${MODEL_NAMES.join(', ')}, got '${model}'`);
  }
  const modelArgs: ModelArgs = { model: model as ModelName };
  const inputShape = intList(p, 'input-shape');
  if (inputShape !== undefined) {
    if (inputShape.length !== 3 || inputShape.some((d) => d <= 0)) {
      throw new UsageError(`--input-shape must be h,w,c (three positive integers), got '${str(p, 'input-shape')}'`);
    }
    modelArgs.inputShape = inputShape;
  }
  const filters = intList(p, 'filters');
  if (filters !== undefined) {
    if (filters.length !== 3) throw new UsageError(`--filters must be three integers a,b,c, got '${str(p, 'filters')}'`);
    modelArgs.filters = filters;
  }
  const f = int(p, 'f');
  const s = int(p, 's');
  const classes = int(p, 'classes');
  const initializer = str(p, 'initializer');
  if (f !== undefined) modelArgs.f = f;
  if (s !== undefined) modelArgs.s = s;
  if (classes !== undefined) modelArgs.classes = classes;
  if (initializer !== undefined) modelArgs.initializer = initializer;
  const captureText = str(p, 'capture');
  const capture = captureText === undefined ? [] : captureText.split(',').map((x) => x.trim()).filter(Boolean);
  if (captureText !== undefined && capture.length === 0) throw new UsageError('--capture needs at least one layer name (e.g. activation_2 or dense:logits)');
  const out = required(p, 'out');
  return { modelArgs, training: bool(p, 'training'), capture, out };
}

export async function exportOnnxCommand(args: string[]): Promise<number> {
  const fail = (message: string): number => {
    process.stderr.write(`resnet-conformance export-onnx: ${message}\n`);
    return 2;
  };
  let pl: ExportPlan;
  let spec: ModelSpec;
  try {
    pl = plan(args);
    try {
      spec = buildModel(pl.modelArgs);
    } catch (err) {
      throw new UsageError(`cannot build --model ${pl.modelArgs.model}: ${(err as Error).message}`);
    }
  } catch (err) {
    if (err instanceof UsageError) return fail(`${err.message}\nusage: ${EXPORT_ONNX_USAGE}`);
    throw err;
  }
  let exported: ReturnType<typeof exportOnnx>;
  try {
    exported = exportOnnx(spec, initModelWeights(spec), { training: pl.training, capture: pl.capture });
  } catch (err) {
    const msg = (err as Error).message;
    return fail(/capture/.test(msg) ? `--capture: ${msg}` : msg);
  }
  const dir = path.dirname(path.resolve(pl.out));
  if (!fs.existsSync(dir)) return fail(`--out: directory ${dir} does not exist`);
  const tmp = path.join(dir, `.${path.basename(pl.out)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, exported.bytes);
    fs.renameSync(tmp, pl.out);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    return fail(`--out: cannot write ${pl.out}: ${(err as Error).message}`);
  }
  const params = onnxParamCount(exported.proto);
  const inShape = spec.layers.find((l) => l.name === spec.input)!.outputShape;
  const outShape = spec.layers.find((l) => l.name === spec.output)!.outputShape;
  const lines = [
    `wrote ${pl.out}: ${spec.model} ${JSON.stringify(spec.args)}, ${exported.bytes.length} bytes, ONNX IR ${ONNX_IR_VERSION}, opset ${ONNX_OPSET}`,
    `  BatchNormalization: ${pl.training ? 'training (batch statistics, decomposed into ReduceMean/Sub/Mul/Add/Sqrt/Div)' : 'inference (moving statistics)'}`,
    `  input  '${exported.inputName}' float32 [${[BATCH_DIM_PARAM, ...inShape].join(', ')}] (NHWC)`,
    `  output '${exported.outputName}' float32 [${[BATCH_DIM_PARAM, ...outShape].join(', ')}]`,
    ...Object.entries(exported.captureOutputs).map(([c, o]) => `  output '${o}' (capture of ${c})`),
    `  parameters in initializers: ${params.total} (trainable ${params.trainable}, non-trainable ${params.nonTrainable}`
      + `${params.movingStatisticsPresent ? '' : '; the training graph does not read the BatchNormalization moving statistics and does not store them'})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
