/**
 * `forward`: one forward pass of a notebook model on a .npy batch, through any registered adapter,
 * with the notebook's initial weights; writes the output as .npy.
 */
import { ReferenceAdapter, isReferencePrecision, type ReferencePrecision } from '../../adapters/reference';
import { createAdapter, getAdapterEntry } from '../../adapters/registry';
import type { Adapter } from '../../adapters/types';
import { initModelWeights } from '../../init';
import { readNpy, writeNpy, pyShapeRepr } from '../../npy';
import { MODEL_NAMES, buildModel, type ModelArgs } from '../../spec/model-args';
import type { ModelName, ModelSpec } from '../../spec/types';
import type { Tensor } from '../../tensor';
import { bool, int, intList, parseArgs, required, str, UsageError } from '../args';

export const FORWARD_USAGE =
  'resnet-conformance forward --model resnet50|identity_block|convolutional_block [--f N] [--filters a,b,c] [--s N] '
  + '[--initializer glorot_uniform|random_uniform|constant:V] [--input-shape h,w,c] [--classes N] --input x.npy '
  + '[--training] --adapter ID [--precision fp64|fp32|tf32] [--tf32-layers names] --out y.npy';

const VALUE_FLAGS = ['model', 'f', 'filters', 's', 'initializer', 'input-shape', 'classes', 'input', 'adapter', 'precision', 'tf32-layers', 'out'];

interface ForwardPlan {
  modelArgs: ModelArgs;
  inputFile: string;
  outFile: string;
  training: boolean;
  adapterId: string;
  precision?: ReferencePrecision;
  tf32Layers?: string[];
}

function plan(argv: string[]): ForwardPlan {
  const p = parseArgs(argv, VALUE_FLAGS, ['training']);
  if (p.positional.length > 0) throw new UsageError(`unexpected argument '${p.positional[0]}' (options start with --)`);
  const model = required(p, 'model');
  if (!(MODEL_NAMES as readonly string[]).includes(model)) {
    throw new UsageError(`--model must be one of ${MODEL_NAMES.join(', ')}, got '${model}'`);
  }
  const adapterId = required(p, 'adapter');
  try {
    getAdapterEntry(adapterId);
  } catch (err) {
    throw new UsageError(`--adapter: ${(err as Error).message}`);
  }
  const precisionText = str(p, 'precision');
  const tf32Text = str(p, 'tf32-layers');
  if ((precisionText !== undefined || tf32Text !== undefined) && adapterId !== 'reference') {
    throw new UsageError(`--precision and --tf32-layers apply only to --adapter reference (got --adapter ${adapterId})`);
  }
  if (precisionText !== undefined && !isReferencePrecision(precisionText)) {
    throw new UsageError(`--precision must be fp64, fp32 or tf32, got '${precisionText}'`);
  }
  let tf32Layers: string[] | undefined;
  if (tf32Text !== undefined) {
    if (precisionText !== 'tf32') throw new UsageError('--tf32-layers needs --precision tf32');
    tf32Layers = tf32Text.split(',').map((s) => s.trim()).filter(Boolean);
    if (tf32Layers.length === 0) throw new UsageError('--tf32-layers needs at least one layer name (e.g. conv2d_2)');
  }
  const inputShape = intList(p, 'input-shape');
  if (inputShape !== undefined && (inputShape.length !== 3 || inputShape.some((d) => d <= 0))) {
    throw new UsageError(`--input-shape must be h,w,c (three positive integers), got '${str(p, 'input-shape')}'`);
  }
  const filters = intList(p, 'filters');
  if (filters !== undefined && filters.length !== 3) {
    throw new UsageError(`--filters must be three integers a,b,c, got '${str(p, 'filters')}'`);
  }
  const modelArgs: ModelArgs = { model: model as ModelName };
  const f = int(p, 'f');
  const s = int(p, 's');
  const classes = int(p, 'classes');
  const initializer = str(p, 'initializer');
  if (f !== undefined) modelArgs.f = f;
  if (filters !== undefined) modelArgs.filters = filters;
  if (s !== undefined) modelArgs.s = s;
  if (classes !== undefined) modelArgs.classes = classes;
  if (initializer !== undefined) modelArgs.initializer = initializer;
  if (inputShape !== undefined) modelArgs.inputShape = inputShape;
  return {
    modelArgs,
    inputFile: required(p, 'input'),
    outFile: required(p, 'out'),
    training: bool(p, 'training'),
    adapterId,
    precision: precisionText as ReferencePrecision | undefined,
    tf32Layers,
  };
}

/** The model for the input: --input-shape if given, otherwise the .npy's H,W,C (blocks take any input size). */
function modelFor(pl: ForwardPlan, input: Tensor): ModelSpec {
  if (input.shape.length !== 4) {
    throw new UsageError(`--input ${pl.inputFile} has shape ${pyShapeRepr(input.shape)}; expected a 4-D NHWC batch (N, h, w, c)`);
  }
  const args: ModelArgs = { ...pl.modelArgs };
  if (args.inputShape === undefined) args.inputShape = input.shape.slice(1);
  try {
    return buildModel(args);
  } catch (err) {
    throw new UsageError(`cannot build --model ${args.model} for input ${pyShapeRepr(input.shape)}: ${(err as Error).message}`);
  }
}

function makeAdapter(pl: ForwardPlan): Adapter {
  if (pl.adapterId === 'reference' && (pl.precision !== undefined || pl.tf32Layers !== undefined)) {
    return new ReferenceAdapter({ precision: pl.precision ?? 'fp64', tf32Layers: pl.tf32Layers });
  }
  return createAdapter(pl.adapterId);
}

export async function forwardCommand(args: string[]): Promise<number> {
  const fail = (message: string): number => {
    process.stderr.write(`resnet-conformance forward: ${message}\n`);
    return 2;
  };
  let pl: ForwardPlan;
  let input: Tensor;
  let spec: ModelSpec;
  try {
    pl = plan(args);
    try {
      input = readNpy(pl.inputFile);
    } catch (err) {
      throw new UsageError(`--input: ${(err as Error).message}`);
    }
    spec = modelFor(pl, input);
  } catch (err) {
    if (err instanceof UsageError) return fail(`${err.message}\nusage: ${FORWARD_USAGE}`);
    throw err;
  }

  const adapter = makeAdapter(pl);
  try {
    const probe = await adapter.probe();
    if (!probe.available) {
      return fail(`adapter '${adapter.id}' is unavailable here: ${probe.reason ?? 'no reason given'}\nfix: ${probe.fix ?? 'see README.md (adapters)'}`);
    }
    try {
      await adapter.build(spec, initModelWeights(spec));
    } catch (err) {
      return fail(`adapter '${adapter.id}' could not build ${spec.model}: ${(err as Error).message}`);
    }
    let output: Tensor;
    try {
      output = (await adapter.run(input, { training: pl.training })).output;
    } catch (err) {
      return fail(`adapter '${adapter.id}' could not run ${spec.model} on --input ${pl.inputFile}: ${(err as Error).message}`);
    }
    try {
      writeNpy(pl.outFile, output);
    } catch (err) {
      return fail(`--out: ${(err as Error).message}`);
    }
    const d = await adapter.describe();
    const dtype = output.data instanceof Float64Array ? 'float64' : 'float32';
    process.stdout.write(`wrote ${pl.outFile}: ${spec.model} output ${pyShapeRepr(output.shape)} ${dtype} `
      + `(adapter ${adapter.id}, ${d.precision}, training=${pl.training ? 'True' : 'False'})\n`);
    return 0;
  } finally {
    await adapter.dispose().catch(() => undefined);
  }
}
