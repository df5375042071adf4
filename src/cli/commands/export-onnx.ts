/**
 * `export-onnx`: writes a notebook model with its initial Keras weights as a standard ONNX file
 * (opset 17, NHWC input `input` with a dynamic batch dimension, output `output`), so the exact
 * graph the harness runs can be run by any other ONNX consumer.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initModelWeights } from '../../init';
import { BATCH_DIM_PARAM, exportOnnx, ONNX_IR_VERSION, ONNX_OPSET, onnxParamCount } from '../../onnx';
import { buildModel, type ModelArgs } from '../../model/model-args';
import type { ModelSpec } from '../../model/types';
import { bool, parseArgs, required, str, usageLines, UsageError } from '../args';
import { modelArgsFromFlags } from '../model-options';
import { EXPORT_ONNX_SPEC } from '../specs';

interface ExportPlan {
  modelArgs: ModelArgs;
  training: boolean;
  capture: string[];
  out: string;
}

function plan(argv: string[]): ExportPlan {
  const p = parseArgs(argv, EXPORT_ONNX_SPEC.flags);
  if (p.positional.length > 0) throw new UsageError(`unexpected argument '${p.positional[0]}' (options start with --)`);
  const modelArgs = modelArgsFromFlags(p);
  const captureText = str(p, 'capture');
  const capture =
    captureText === undefined
      ? []
      : captureText
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
  if (captureText !== undefined && capture.length === 0)
    throw new UsageError('--capture needs at least one layer name (e.g. activation_2 or dense:logits)');
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
    if (err instanceof UsageError) return fail(`${err.message}\n${usageLines(EXPORT_ONNX_SPEC)}`);
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
    `  parameters in initializers: ${params.total} (trainable ${params.trainable}, non-trainable ${params.nonTrainable}` +
      `${params.movingStatisticsPresent ? '' : '; the training graph does not read the BatchNormalization moving statistics and does not store them'})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
