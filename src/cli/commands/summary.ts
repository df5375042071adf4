import { descriptors, formatSummary, resnet50, summary } from '../../model';
import { bool, int, intList, parseArgs, UsageError } from '../args';
import { SUMMARY_SPEC } from '../specs';

/** `summary`: the content of Keras model.summary() for the notebook's ResNet50. */
export async function summaryCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, SUMMARY_SPEC.flags);
  if (p.positional.length) throw new UsageError(`summary takes no positional arguments (got '${p.positional[0]}')`);
  const inputShape = intList(p, 'input-shape');
  if (inputShape && inputShape.length !== 3) {
    throw new UsageError(`--input-shape must be h,w,c, got '${inputShape.join(',')}'`);
  }
  const spec = resnet50({ inputShape: inputShape as [number, number, number] | undefined, classes: int(p, 'classes') });
  if (bool(p, 'json')) {
    const s = summary(spec);
    process.stdout.write(
      `${JSON.stringify({ model: spec.model, args: spec.args, totals: s.totals, rows: s.rows, descriptors: descriptors(spec) }, null, 1)}\n`,
    );
  } else {
    process.stdout.write(`${formatSummary(spec)}\n`);
  }
  return 0;
}
