/** The model- and adapter-selection options shared by forward, export-onnx and diagnose. */
import { isReferencePrecision, type ReferencePrecision } from '../adapters/reference';
import { adapterPool } from '../adapters/pool';
import { selectOneAdapter, type AdapterSelection } from '../adapters/select';
import type { AdapterEntry } from '../adapters/types';
import { MODEL_NAMES, type ModelArgs } from '../model/model-args';
import type { ModelName } from '../model/types';
import { adapterSourcesFromFlags } from './adapter-sources';
import { int, intList, required, str, UsageError, type ParsedArgs } from './args';

/** `--model` and its arguments as ModelArgs; omitted ones keep the notebook defaults. */
export function modelArgsFromFlags(p: ParsedArgs): ModelArgs {
  const model = required(p, 'model');
  if (!(MODEL_NAMES as readonly string[]).includes(model)) {
    throw new UsageError(`--model must be one of ${MODEL_NAMES.join(', ')}, got '${model}'`);
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
  return modelArgs;
}

/** `--tf32-layers a,b` (only with `--precision tf32`). */
export function tf32LayersFromFlags(p: ParsedArgs, precisionText: string | undefined): string[] | undefined {
  const tf32Text = str(p, 'tf32-layers');
  if (tf32Text === undefined) return undefined;
  if (precisionText !== 'tf32') throw new UsageError('--tf32-layers needs --precision tf32');
  const layers = tf32Text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (layers.length === 0) throw new UsageError('--tf32-layers needs at least one layer name (e.g. conv2d_2)');
  return layers;
}

export interface AdapterChoice {
  adapterId: string;
  entry: AdapterEntry;
  selection: AdapterSelection;
  /** Reference precision (only with --adapter reference). */
  precision?: ReferencePrecision;
  tf32Layers?: string[];
}

/**
 * `--adapter ID [--adapter-module file ...] [--precision fp64|fp32|tf32] [--tf32-layers names]`;
 * the last two only for the reference. The adapter is chosen by selectOneAdapter (src/adapters/select.ts).
 */
export async function adapterChoiceFromFlags(p: ParsedArgs, command: 'forward' | 'diagnose'): Promise<AdapterChoice> {
  const { selection, entry } = selectOneAdapter(
    command,
    str(p, 'adapter'),
    await adapterPool(adapterSourcesFromFlags(p)),
  );
  const adapterId = entry.id;
  const precisionText = str(p, 'precision');
  if ((precisionText !== undefined || str(p, 'tf32-layers') !== undefined) && adapterId !== 'reference') {
    throw new UsageError(
      `--precision and --tf32-layers apply only to --adapter reference (got --adapter ${adapterId})`,
    );
  }
  if (precisionText !== undefined && !isReferencePrecision(precisionText)) {
    throw new UsageError(`--precision must be fp64, fp32 or tf32, got '${precisionText}'`);
  }
  return {
    adapterId,
    entry,
    selection,
    precision: precisionText as ReferencePrecision | undefined,
    tf32Layers: tf32LayersFromFlags(p, precisionText),
  };
}
