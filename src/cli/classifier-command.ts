/**
 * What `classify` and `evaluate` share: loading the saved ResNet-50 classifier, choosing the
 * adapters, `--max-diff`, and how the model and the skipped adapters are reported. A problem with
 * an input comes back as the message the command prints before exiting with 2.
 */
import { FORMAT_DESCRIPTIONS, importKerasModel, ModelImportError, weightsDigest, type ImportedModel } from '../import';
import { adapterPool } from '../adapters/pool';
import { selectAdapters, type AdapterSelection } from '../adapters/select';
import { planAdapters, type AdapterPlan } from '../import/predict';
import { adapterSourcesFromFlags } from './adapter-sources';
import { str, UsageError, type ParsedArgs } from './args';

/** A value, or the message naming the option that was wrong. */
export type Checked<T> = { value: T; error?: undefined } | { value?: undefined; error: string };

/**
 * `--model`: the saved Keras model, which must be the notebook's ResNet-50 (a block has no class
 * probabilities). `why` is added to the message for another architecture.
 */
export async function loadClassifier(file: string, why = ''): Promise<Checked<ImportedModel>> {
  let model: ImportedModel;
  try {
    model = await importKerasModel(file);
  } catch (err) {
    if (err instanceof ModelImportError) return { error: `--model: ${err.message}` };
    throw err;
  }
  if (model.spec.model !== 'resnet50') {
    return {
      error: `--model: ${file} holds the notebook's ${model.spec.model}, not its ResNet-50 classifier${why ? ` (${why})` : ''}`,
    };
  }
  return { value: model };
}

/** `--adapters` and `--adapter-module` of classify and evaluate, through selectAdapters. */
export async function classifierSelection(p: ParsedArgs, command: 'classify' | 'evaluate'): Promise<AdapterSelection> {
  return selectAdapters(command, str(p, 'adapters'), await adapterPool(adapterSourcesFromFlags(p)));
}

/** The selection, then which of its adapters run here (see planAdapters). */
export async function planClassifierAdapters(
  p: ParsedArgs,
  command: 'classify' | 'evaluate',
): Promise<Checked<AdapterPlan>> {
  try {
    return { value: await planAdapters(await classifierSelection(p, command)) };
  } catch (err) {
    if (err instanceof UsageError)
      return { error: err.message.startsWith('--adapter') ? err.message : `--adapters: ${err.message}` };
    throw err;
  }
}

/** `--max-diff X`: a non-negative number, or undefined when not given. */
export function maxDiffOption(p: ParsedArgs): number | undefined {
  const md = str(p, 'max-diff');
  if (md === undefined) return undefined;
  const maxDiff = Number(md);
  if (!(maxDiff >= 0)) throw new UsageError(`--max-diff must be a non-negative number, got '${md}'`);
  return maxDiff;
}

/** One line on the model: file, format, architecture, shapes, weight digest. */
export function describeModel(file: string, m: ImportedModel): string {
  const d = weightsDigest(m.weights);
  const input = m.spec.layers[0].outputShape;
  const out = m.spec.layers.find((l) => l.name === m.spec.output)!.outputShape;
  const renamed = [...m.layerNames].filter(([s, f]) => s !== f).length;
  return (
    `model: ${file} (${FORMAT_DESCRIPTIONS[m.format]}${m.kerasVersion ? `, keras ${m.kerasVersion}` : ''}): ` +
    `${m.spec.model}, input (${input.join(', ')}), output (${out.join(', ')}); ` +
    `${d.tensors.length} weight tensors, digest ${d.combined.slice(0, 16)}` +
    (renamed ? `; ${renamed} layer(s) named differently in the file than in a fresh session` : '')
  );
}

/** The model as the commands' --json output names it. */
export function modelJson(file: string, m: ImportedModel): Record<string, unknown> {
  return {
    file,
    format: m.format,
    kerasVersion: m.kerasVersion,
    architecture: m.spec.model,
    weightsDigest: weightsDigest(m.weights).combined,
  };
}

/** The text lines naming the adapters that run and those left out as unavailable. */
export function adapterLines(plan: AdapterPlan): string[] {
  const lines = [`adapters: ${plan.entries.map((e) => e.id).join(', ')}`];
  if (plan.skipped.length) {
    lines.push(
      `skipped (unavailable here; \`resnet-conformance adapters\` gives reasons and fixes): ${plan.skipped.map((s) => s.id).join(', ')}`,
    );
  }
  return lines;
}
