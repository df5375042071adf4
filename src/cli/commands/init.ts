import { initialize } from '../../init';
import { writeNpy } from '../../tensor/npy';
import type { InitializerSpec } from '../../model/types';
import { int, parseArgs, str, usageLines, UsageError } from '../args';
import { INIT_SPEC } from '../specs';

const KINDS: readonly InitializerSpec['kind'][] = ['glorot_uniform', 'random_uniform', 'constant', 'zeros', 'ones'];

function parseShape(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((s) => !/^\d+$/.test(s))) {
    throw new UsageError(`--shape must be comma-separated non-negative integers (e.g. 3,3,64,64), got '${text}'`);
  }
  return parts.map(Number);
}

function parseNumber(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const v = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(v)) throw new UsageError(`--${name} must be a finite number, got '${text}'`);
  return v;
}

function buildSpec(kind: InitializerSpec['kind'], p: ReturnType<typeof parseArgs>): InitializerSpec {
  const seed = int(p, 'seed');
  const value = parseNumber(str(p, 'value'), 'value');
  const minval = parseNumber(str(p, 'minval'), 'minval');
  const maxval = parseNumber(str(p, 'maxval'), 'maxval');
  const random = kind === 'glorot_uniform' || kind === 'random_uniform';
  if (!random && seed !== undefined) throw new UsageError(`--seed does not apply to ${kind}`);
  if (kind !== 'constant' && value !== undefined) throw new UsageError(`--value only applies to constant, not ${kind}`);
  if (kind !== 'random_uniform' && (minval !== undefined || maxval !== undefined)) {
    throw new UsageError(`--minval/--maxval only apply to random_uniform, not ${kind}`);
  }
  if (seed !== undefined && !Number.isSafeInteger(seed))
    throw new UsageError(`--seed must be a safe integer, got ${seed}`);
  switch (kind) {
    case 'glorot_uniform':
      return { kind, seed: seed ?? 0 };
    case 'random_uniform':
      return { kind, seed: seed ?? 0, minval: minval ?? -0.05, maxval: maxval ?? 0.05 };
    case 'constant':
      if (value === undefined) throw new UsageError('constant needs --value V');
      return { kind, value };
    case 'zeros':
    case 'ones':
      return { kind };
  }
}

function describe(spec: InitializerSpec): string {
  switch (spec.kind) {
    case 'glorot_uniform':
      return `glorot_uniform(seed=${spec.seed})`;
    case 'random_uniform':
      return `random_uniform(minval=${spec.minval}, maxval=${spec.maxval}, seed=${spec.seed})`;
    case 'constant':
      return `constant(${spec.value})`;
    default:
      return spec.kind;
  }
}

/**
 * `init`: runs one Keras-exact initializer and writes the float32 result as .npy (C order,
 * little-endian) to --out, or prints the values as JSON when --out is omitted.
 * Bad arguments: message on stderr, exit code 2.
 */
export async function initCommand(args: string[]): Promise<number> {
  let spec: InitializerSpec;
  let shape: number[];
  let out: string | undefined;
  try {
    const p = parseArgs(args, INIT_SPEC.flags);
    if (p.positional.length !== 1) {
      throw new UsageError(
        p.positional.length === 0
          ? `missing initializer (expected one of ${KINDS.join(', ')})`
          : `expected one initializer, got ${p.positional.length}: ${p.positional.join(' ')}`,
      );
    }
    const kind = p.positional[0];
    if (!(KINDS as readonly string[]).includes(kind)) {
      throw new UsageError(`unknown initializer '${kind}' (expected one of ${KINDS.join(', ')})`);
    }
    const shapeText = str(p, 'shape');
    if (shapeText === undefined) throw new UsageError('--shape is required (e.g. --shape 3,3,64,64)');
    shape = parseShape(shapeText);
    spec = buildSpec(kind as InitializerSpec['kind'], p);
    out = str(p, 'out');
    if (out === '') throw new UsageError('--out needs a file name');
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`resnet-conformance init: ${err.message}\n${usageLines(INIT_SPEC)}\n`);
      return 2;
    }
    throw err;
  }

  let data: Float32Array;
  try {
    data = initialize(spec, shape);
  } catch (err) {
    process.stderr.write(`resnet-conformance init: ${(err as Error).message}\n`);
    return 2;
  }
  if (out === undefined) {
    process.stdout.write(
      `${JSON.stringify({ initializer: describe(spec), shape, dtype: 'float32', values: Array.from(data) })}\n`,
    );
    return 0;
  }
  writeNpy(out, { shape, data });
  process.stdout.write(`wrote ${out}: ${describe(spec)} shape [${shape.join(', ')}] float32 (${data.length} values)\n`);
  return 0;
}
