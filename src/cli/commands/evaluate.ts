/**
 * `evaluate`: the notebook's test-set evaluation on every adapter. Loads a saved Keras model and a
 * dataset in the notebook's SIGNS layout (test_set_x uint8 (N,64,64,3), test_set_y, list_classes),
 * divides the images by 255 as the notebook does, predicts with training=False, and prints per
 * adapter the accuracy (argmax == label) and how many predicted classes differ from the baseline
 * adapter's (keras when it runs, else reference, else the first), with the largest probability
 * difference.
 *
 * Exit codes: 0 done; 1 an adapter failed (non-finite probabilities included: NaN/Inf is never a
 * result), or --max-diff was given and exceeded; 2 bad input (a NaN/Inf weight included).
 */
import { DatasetError, datasetBatch, loadSignsDataset, type SignsDataset } from '../../datasets';
import { argmax, predictOnAdapter, type AdapterPredictions } from '../../import/predict';
import type { Tensor } from '../../tensor';
import type { AdapterSelection } from '../../adapters/select';
import { bool, int, parseArgs, required, str, usageLines, UsageError, type ParsedArgs } from '../args';
import {
  adapterLines,
  classifierSelection,
  describeModel,
  loadClassifier,
  maxDiffOption,
  modelJson,
  planClassifierAdapters,
} from '../classifier-command';
import { EVALUATE_SPEC } from '../specs';

/** `--adapters` / `--adapter-module` as `evaluate` resolves them (through selectAdapters). */
export async function adapterSelection(argv: string[]): Promise<AdapterSelection> {
  return classifierSelection(parseArgs(argv, EVALUATE_SPEC.flags), 'evaluate');
}

export interface AdapterEvaluation {
  id: string;
  correct: number;
  accuracy: number;
  /** Predicted classes that differ from the baseline adapter's. */
  differFromBaseline: number;
  /** max |p - p_baseline| over all images and classes. */
  maxAbsDiffFromBaseline: number;
  classes: number[];
}

export function evaluatePredictions(
  preds: AdapterPredictions[],
  labels: number[],
  baseline: string,
): AdapterEvaluation[] {
  const base = preds.find((p) => p.id === baseline && !p.error);
  return preds
    .filter((p) => !p.error)
    .map((p) => {
      const classes = p.rows.map(argmax);
      const correct = classes.filter((c, i) => c === labels[i]).length;
      let differ = 0;
      let maxAbs = 0;
      if (base) {
        classes.forEach((c, i) => {
          if (c !== argmax(base.rows[i])) differ++;
        });
        p.rows.forEach((row, i) =>
          row.forEach((v, k) => {
            maxAbs = Math.max(maxAbs, Math.abs(v - base.rows[i][k]));
          }),
        );
      }
      return {
        id: p.id,
        correct,
        accuracy: labels.length ? correct / labels.length : 0,
        differFromBaseline: differ,
        maxAbsDiffFromBaseline: maxAbs,
        classes,
      };
    });
}

export async function evaluateCommand(argv: string[]): Promise<number> {
  const fail = (message: string): number => {
    process.stderr.write(`resnet-conformance evaluate: ${message}\n`);
    return 2;
  };
  let modelFile: string;
  let datasetFile: string;
  let p: ParsedArgs;
  let baselineArg: string | undefined;
  let batchSize: number;
  let maxDiff: number | undefined;
  let json: boolean;
  try {
    p = parseArgs(argv, EVALUATE_SPEC.flags);
    if (p.positional.length) throw new UsageError(`unexpected argument '${p.positional[0]}' (options start with --)`);
    modelFile = required(p, 'model');
    datasetFile = required(p, 'dataset');
    baselineArg = str(p, 'baseline');
    batchSize = int(p, 'batch') ?? 8;
    if (batchSize <= 0) throw new UsageError(`--batch must be a positive integer, got ${batchSize}`);
    maxDiff = maxDiffOption(p);
    json = bool(p, 'json');
  } catch (err) {
    if (err instanceof UsageError) return fail(`${err.message}\n${usageLines(EVALUATE_SPEC)}`);
    throw err;
  }

  const loaded = await loadClassifier(modelFile);
  if (loaded.error !== undefined) return fail(loaded.error);
  const model = loaded.value;
  let ds: SignsDataset;
  try {
    ds = await loadSignsDataset(datasetFile);
  } catch (err) {
    if (err instanceof DatasetError) return fail(`--dataset: ${err.message}`);
    throw err;
  }
  const [h, w] = model.spec.layers[0].outputShape;
  const units = model.spec.layers.find((l) => l.name === model.spec.output)!.outputShape[0];
  if (ds.height !== h || ds.width !== w)
    return fail(`--dataset: images are ${ds.width}x${ds.height}, the model takes ${w}x${h}`);
  if (ds.classes.length !== units)
    return fail(`--dataset: ${ds.classes.length} classes in list_classes, the model has ${units} outputs`);

  const planned = await planClassifierAdapters(p, 'evaluate');
  if (planned.error !== undefined) return fail(planned.error);
  const plan = planned.value;
  const ids = plan.entries.map((e) => e.id);
  if (baselineArg !== undefined && !ids.includes(baselineArg)) {
    return fail(`--baseline ${baselineArg} is not among the adapters that run (${ids.join(', ')})`);
  }
  const baseline = baselineArg ?? (ids.includes('keras') ? 'keras' : ids.includes('reference') ? 'reference' : ids[0]);

  const batches: Tensor[] = [];
  for (let s = 0; s < ds.count; s += batchSize) batches.push(datasetBatch(ds, s, Math.min(ds.count, s + batchSize)));
  const results: AdapterPredictions[] = [];
  for (const e of plan.entries)
    results.push(await predictOnAdapter(e, model, batches, (i) => `${ds.split}_set_x[${i}]`, plan.modules));
  const failed = results.filter((r) => r.error);
  const evals = evaluatePredictions(results, ds.labels, baseline);
  const baseOk = !results.find((r) => r.id === baseline)?.error;

  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          model: modelJson(modelFile, model),
          dataset: { file: datasetFile, split: ds.split, count: ds.count, classes: ds.classes.length },
          baseline,
          skipped: plan.skipped,
          adapters: evals.map((e) => ({ ...e, seconds: results.find((r) => r.id === e.id)!.seconds })),
          failed: failed.map((r) => ({ id: r.id, error: r.error })),
        },
        null,
        1,
      )}\n`,
    );
  } else {
    const lines = [describeModel(modelFile, model)];
    lines.push(
      `dataset: ${datasetFile} (${ds.split}_set_x: ${ds.count} images ${ds.width}x${ds.height}, ${ds.classes.length} classes; inputs = images / 255)`,
    );
    lines.push(...adapterLines(plan));
    lines.push(`baseline: ${baseline}${baseOk ? '' : ' (FAILED: no comparison)'}`);
    const idw = Math.max(8, ...evals.map((e) => e.id.length));
    const cols = ['accuracy', `differ from ${baseline}`, `max |p - p_${baseline}|`, 'seconds'];
    const w = [Math.max(cols[0].length, 16), cols[1].length, cols[2].length];
    lines.push(`  ${'adapter'.padEnd(idw)}  ${cols[0].padEnd(w[0])}  ${cols[1]}  ${cols[2]}  ${cols[3]}`);
    for (const e of evals) {
      const isBase = e.id === baseline;
      const acc = `${e.accuracy.toFixed(4)} (${e.correct}/${ds.count})`;
      const differ = isBase ? '-' : String(e.differFromBaseline);
      const maxAbs = isBase ? '-' : e.maxAbsDiffFromBaseline.toExponential(2);
      lines.push(
        `  ${e.id.padEnd(idw)}  ${acc.padEnd(w[0])}  ${differ.padStart(w[1])}  ${maxAbs.padStart(w[2])}  ` +
          `${results
            .find((r) => r.id === e.id)!
            .seconds.toFixed(1)
            .padStart(cols[3].length)}`,
      );
    }
    for (const r of failed) lines.push(`  ${r.id.padEnd(idw)}  ERROR: ${r.error}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  for (const r of failed) process.stderr.write(`resnet-conformance evaluate: adapter '${r.id}' ${r.error}\n`);
  if (failed.length) return 1;
  const worst = Math.max(0, ...evals.map((e) => e.maxAbsDiffFromBaseline));
  if (maxDiff !== undefined && !(worst <= maxDiff)) {
    process.stderr.write(
      `resnet-conformance evaluate: largest probability difference from ${baseline} ${worst.toExponential(3)} exceeds --max-diff ${maxDiff}\n`,
    );
    return 1;
  }
  return 0;
}
