/**
 * `classify`: the notebook's last cell on every adapter. Loads a saved Keras model (.h5 Keras 2 or
 * Keras 3 layout, or .keras), prepares each image as the notebook does (load_img(target_size=(64, 64)),
 * img_to_array, expand_dims, /255.0), runs it with training=False on each adapter and prints the
 * probability vector and class per image and adapter, and the largest disagreement between adapters.
 *
 * Exit codes: 0 done; 1 an adapter failed (non-finite probabilities included: NaN/Inf is never a
 * result), or --max-diff was given and exceeded; 2 bad input (a NaN/Inf weight included)
 * (unreadable/corrupt model, not the notebook's architecture, unreadable image, usage).
 */
import { argmax, largestDisagreement, predictOnAdapter, type AdapterPredictions } from '../../import/predict';
import {
  decodeImageFile,
  ImageReadError,
  resizeNearest,
  toNotebookTensor,
  type DecodedImage,
  type PreparedImage,
} from '../../images';
import type { AdapterSelection } from '../../adapters/select';
import { bool, list, parseArgs, required, usageLines, UsageError, type ParsedArgs } from '../args';
import {
  adapterLines,
  classifierSelection,
  describeModel,
  loadClassifier,
  maxDiffOption,
  modelJson,
  planClassifierAdapters,
} from '../classifier-command';
import { CLASSIFY_SPEC } from '../specs';

/** `--adapters` / `--adapter-module` as `classify` resolves them (through selectAdapters). */
export async function adapterSelection(argv: string[]): Promise<AdapterSelection> {
  return classifierSelection(parseArgs(argv, CLASSIFY_SPEC.flags), 'classify');
}

function fmt(p: number): string {
  return p.toFixed(6);
}

export async function classifyCommand(argv: string[]): Promise<number> {
  const fail = (message: string): number => {
    process.stderr.write(`resnet-conformance classify: ${message}\n`);
    return 2;
  };
  let modelFile: string;
  let images: string[];
  let p: ParsedArgs;
  let maxDiff: number | undefined;
  let json: boolean;
  try {
    p = parseArgs(argv, CLASSIFY_SPEC.flags);
    images = list(p, 'image');
    if (p.positional.length) throw new UsageError(`unexpected argument '${p.positional[0]}' (images go with --image)`);
    modelFile = required(p, 'model');
    if (images.length === 0) throw new UsageError('at least one --image is required');
    maxDiff = maxDiffOption(p);
    json = bool(p, 'json');
  } catch (err) {
    if (err instanceof UsageError) return fail(`${err.message}\n${usageLines(CLASSIFY_SPEC)}`);
    throw err;
  }

  // Images first (cheap): an unreadable image is reported before the model is loaded.
  const decoded: DecodedImage[] = [];
  for (const file of images) {
    try {
      decoded.push(decodeImageFile(file));
    } catch (err) {
      if (err instanceof ImageReadError) return fail(`--image: ${err.message}`);
      throw err;
    }
  }
  const loaded = await loadClassifier(modelFile, 'classify needs class probabilities');
  if (loaded.error !== undefined) return fail(loaded.error);
  const model = loaded.value;
  const [h, w] = model.spec.layers[0].outputShape;
  const prepared: PreparedImage[] = decoded.map((d, i) => {
    const resized = resizeNearest(d, w, h);
    return { file: images[i], decoded: d, resized, x: toNotebookTensor(resized) };
  });
  const planned = await planClassifierAdapters(p, 'classify');
  if (planned.error !== undefined) return fail(planned.error);
  const plan = planned.value;

  // One batch per image: the notebook predicts a batch of one.
  const batches = prepared.map((p) => p.x);
  const results: AdapterPredictions[] = [];
  for (const e of plan.entries)
    results.push(await predictOnAdapter(e, model, batches, (i) => prepared[i].file, plan.modules));

  const failed = results.filter((r) => r.error);
  const worst = largestDisagreement(results);
  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          model: modelJson(modelFile, model),
          adapters: results.map((r) => ({ id: r.id, seconds: r.seconds, ...(r.error ? { error: r.error } : {}) })),
          skipped: plan.skipped,
          images: prepared.map((p, i) => ({
            file: p.file,
            format: p.decoded.format,
            pilMode: p.decoded.pilMode,
            size: [p.decoded.width, p.decoded.height],
            decoder: p.decoded.decoder,
            predictions: results
              .filter((r) => !r.error)
              .map((r) => ({ adapter: r.id, probabilities: r.rows[i], class: argmax(r.rows[i]) })),
            largestDisagreement: largestDisagreement(results, [i]) ?? null,
          })),
          largestDisagreement: worst ?? null,
        },
        null,
        1,
      )}\n`,
    );
  } else {
    const lines: string[] = [describeModel(modelFile, model), ...adapterLines(plan)];
    const idw = Math.max(8, ...results.map((r) => r.id.length));
    prepared.forEach((p, i) => {
      lines.push('');
      const d = p.decoded;
      lines.push(`${p.file}: ${d.format} ${d.pilMode} ${d.width}x${d.height} -> ${w}x${h}, ${d.decoder}`);
      lines.push(
        `  ${'adapter'.padEnd(idw)}  class  probabilities [p(0), ..., p(${(results.find((r) => !r.error)?.rows[i].length ?? 1) - 1})]`,
      );
      for (const r of results) {
        if (r.error) {
          lines.push(`  ${r.id.padEnd(idw)}  ERROR  ${r.error}`);
          continue;
        }
        lines.push(`  ${r.id.padEnd(idw)}  ${String(argmax(r.rows[i])).padEnd(5)}  [${r.rows[i].map(fmt).join(', ')}]`);
      }
      const dis = largestDisagreement(results, [i]);
      const classes = [...new Set(results.filter((r) => !r.error).map((r) => argmax(r.rows[i])))];
      if (dis) {
        lines.push(
          `  largest disagreement: ${dis.maxAbs.toExponential(2)} (${dis.a} vs ${dis.b}, p(${dis.cls})); ` +
            (classes.length === 1
              ? `all adapters say class ${classes[0]}`
              : `ADAPTERS DISAGREE on the class: ${classes.join(' vs ')}`),
        );
      }
    });
    lines.push('');
    if (worst)
      lines.push(
        `largest disagreement over all images: ${worst.maxAbs.toExponential(2)} (${worst.a} vs ${worst.b}, ${prepared[worst.row].file}, p(${worst.cls}))`,
      );
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  for (const r of failed) process.stderr.write(`resnet-conformance classify: adapter '${r.id}' ${r.error}\n`);
  if (failed.length) return 1;
  if (maxDiff !== undefined && worst && !(worst.maxAbs <= maxDiff)) {
    process.stderr.write(
      `resnet-conformance classify: largest disagreement ${worst.maxAbs.toExponential(3)} exceeds --max-diff ${maxDiff}\n`,
    );
    return 1;
  }
  return 0;
}
