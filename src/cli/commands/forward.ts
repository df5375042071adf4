/**
 * `forward`: one forward pass of a notebook model on a .npy batch, through any registered adapter,
 * with the notebook's initial weights; writes the output as .npy.
 */
import { ReferenceAdapter, type ReferencePrecision } from '../../adapters/reference';
import { adapterForThisProcess } from '../../adapters/isolated';
import type { AdapterSelection } from '../../adapters/select';
import type { Adapter, AdapterEntry } from '../../adapters/types';
import { adapterFaultStatus } from '../../adapters/faults';
import { initModelWeights } from '../../init';
import { readNpy, writeNpy, pyShapeRepr } from '../../tensor/npy';
import { buildModel, type ModelArgs } from '../../model/model-args';
import type { ModelSpec } from '../../model/types';
import type { Tensor } from '../../tensor';
import { bool, parseArgs, required, usageLines, UsageError } from '../args';
import { adapterChoiceFromFlags, modelArgsFromFlags } from '../model-options';
import { FORWARD_SPEC } from '../specs';

interface ForwardPlan {
  modelArgs: ModelArgs;
  inputFile: string;
  outFile: string;
  training: boolean;
  adapterId: string;
  entry: AdapterEntry;
  /** The --adapter-module files (an isolated adapter's child loads them). */
  modules: string[];
  precision?: ReferencePrecision;
  tf32Layers?: string[];
}

/** `--adapter` / `--adapter-module` as `forward` resolves them (through selectOneAdapter). */
export async function adapterSelection(argv: string[]): Promise<AdapterSelection> {
  return (await adapterChoiceFromFlags(parseArgs(argv, FORWARD_SPEC.flags), 'forward')).selection;
}

async function plan(argv: string[]): Promise<ForwardPlan> {
  const p = parseArgs(argv, FORWARD_SPEC.flags);
  if (p.positional.length > 0) throw new UsageError(`unexpected argument '${p.positional[0]}' (options start with --)`);
  const modelArgs = modelArgsFromFlags(p);
  const { adapterId, entry, precision, tf32Layers, selection } = await adapterChoiceFromFlags(p, 'forward');
  return {
    modelArgs,
    inputFile: required(p, 'input'),
    outFile: required(p, 'out'),
    training: bool(p, 'training'),
    adapterId,
    entry,
    modules: selection.modules,
    precision,
    tf32Layers,
  };
}

/** The model for the input: --input-shape if given, otherwise the .npy's H,W,C (blocks take any input size). */
function modelFor(pl: ForwardPlan, input: Tensor): ModelSpec {
  if (input.shape.length !== 4) {
    throw new UsageError(
      `--input ${pl.inputFile} has shape ${pyShapeRepr(input.shape)}; expected a 4-D NHWC batch (N, h, w, c)`,
    );
  }
  const args: ModelArgs = { ...pl.modelArgs };
  if (args.inputShape === undefined) args.inputShape = input.shape.slice(1);
  try {
    return buildModel(args);
  } catch (err) {
    throw new UsageError(
      `cannot build --model ${args.model} for input ${pyShapeRepr(input.shape)}: ${(err as Error).message}`,
    );
  }
}

function makeAdapter(pl: ForwardPlan): Adapter {
  if (pl.adapterId === 'reference' && (pl.precision !== undefined || pl.tf32Layers !== undefined)) {
    return new ReferenceAdapter({ precision: pl.precision ?? 'fp64', tf32Layers: pl.tf32Layers });
  }
  return adapterForThisProcess(pl.entry, pl.modules);
}

/** A crash of the adapter's runtime (in its child process): said with its cause; exit 1 (docs/running.md, exit codes). */
function crashed(id: string, what: string, err: unknown): number {
  process.stderr.write(
    `resnet-conformance forward: adapter '${id}' crashed while ${what}: ${(err as Error).message}\n`,
  );
  return 1;
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
    pl = await plan(args);
    try {
      input = readNpy(pl.inputFile);
    } catch (err) {
      throw new UsageError(`--input: ${(err as Error).message}`);
    }
    spec = modelFor(pl, input);
  } catch (err) {
    if (err instanceof UsageError) return fail(`${err.message}\n${usageLines(FORWARD_SPEC)}`);
    throw err;
  }

  const adapter = makeAdapter(pl);
  try {
    const probe = await adapter.probe({ dedicatedProcess: true });
    if (probe.knownCrash) {
      process.stderr.write(`resnet-conformance forward: adapter '${adapter.id}' not run: ${probe.reason}\n`);
      return 1;
    }
    if (!probe.available) {
      return fail(
        `adapter '${adapter.id}' is unavailable here: ${probe.reason ?? 'no reason given'}\nfix: ${probe.fix ?? 'see README.md (adapters)'}`,
      );
    }
    try {
      await adapter.build(spec, initModelWeights(spec));
    } catch (err) {
      if (adapterFaultStatus(err) === 'crashed') return crashed(adapter.id, `building ${spec.model}`, err);
      return fail(`adapter '${adapter.id}' could not build ${spec.model}: ${(err as Error).message}`);
    }
    let output: Tensor;
    try {
      output = (await adapter.run(input, { training: pl.training })).output;
    } catch (err) {
      if (adapterFaultStatus(err) === 'crashed') return crashed(adapter.id, `running ${spec.model}`, err);
      return fail(
        `adapter '${adapter.id}' could not run ${spec.model} on --input ${pl.inputFile}: ${(err as Error).message}`,
      );
    }
    try {
      writeNpy(pl.outFile, output);
    } catch (err) {
      return fail(`--out: ${(err as Error).message}`);
    }
    const d = await adapter.describe();
    const dtype = output.data instanceof Float64Array ? 'float64' : 'float32';
    process.stdout.write(
      `wrote ${pl.outFile}: ${spec.model} output ${pyShapeRepr(output.shape)} ${dtype} ` +
        `(adapter ${adapter.id}, ${d.precision}, training=${pl.training ? 'True' : 'False'})\n`,
    );
    return 0;
  } finally {
    await adapter.dispose().catch(() => undefined);
  }
}
