import { convolutionalBlock, identityBlock, resnet50 } from './builders';
import { parseInitializer } from './initializers';
import type { ModelName, ModelSpec } from './types';

/**
 * A model and its arguments as data: what fixtures, the CLI (`--model`, `--f`, ...) and the
 * Keras subprocess all use. Omitted fields take the notebook's defaults.
 */
export interface ModelArgs {
  model: ModelName;
  f?: number;
  filters?: number[];
  s?: number;
  /** `glorot_uniform`, `random_uniform`, `constant:V`, `zeros`, `ones` (optionally `@seed`). */
  initializer?: string;
  inputShape?: number[];
  classes?: number;
}

export const MODEL_NAMES: readonly ModelName[] = ['resnet50', 'identity_block', 'convolutional_block'];

function shape3(s: number[] | undefined, what: string): [number, number, number] | undefined {
  if (s === undefined) return undefined;
  if (s.length !== 3 || s.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new Error(`${what}: inputShape must be h,w,c (three positive integers), got [${s.join(',')}]`);
  }
  return s as [number, number, number];
}

/** The spec of `args`; `opts.bnEpsilon` (blocks only) replaces Keras's BatchNormalization epsilon 1e-3. */
export function buildModel(args: ModelArgs, opts: { bnEpsilon?: number } = {}): ModelSpec {
  const { bnEpsilon } = opts;
  if (bnEpsilon !== undefined && !(bnEpsilon > 0 && Number.isFinite(bnEpsilon)))
    throw new Error(`bnEpsilon must be a positive number, got ${bnEpsilon}`);
  if (bnEpsilon !== undefined && args.model === 'resnet50')
    throw new Error('resnet50 takes no bnEpsilon (the notebook builds it with Keras defaults)');
  switch (args.model) {
    case 'resnet50':
      if (
        args.f !== undefined ||
        args.filters !== undefined ||
        args.s !== undefined ||
        args.initializer !== undefined
      ) {
        throw new Error(
          'resnet50 takes only inputShape and classes (f, filters, s and initializer are fixed by the notebook)',
        );
      }
      return resnet50({ inputShape: shape3(args.inputShape, 'resnet50'), classes: args.classes });
    case 'identity_block':
      if (args.s !== undefined || args.classes !== undefined) throw new Error('identity_block takes no s or classes');
      return identityBlock(args.f ?? 3, args.filters ?? [4, 4, 3], {
        inputShape: shape3(args.inputShape, 'identity_block'),
        initializer: args.initializer ? parseInitializer(args.initializer) : undefined,
        bnEpsilon,
      });
    case 'convolutional_block':
      if (args.classes !== undefined) throw new Error('convolutional_block takes no classes');
      return convolutionalBlock(args.f ?? 2, args.filters ?? [2, 4, 6], args.s ?? 2, {
        inputShape: shape3(args.inputShape, 'convolutional_block'),
        initializer: args.initializer ? parseInitializer(args.initializer) : undefined,
        bnEpsilon,
      });
    default:
      throw new Error(
        `unknown model '${String((args as { model: unknown }).model)}' (expected ${MODEL_NAMES.join(', ')})`,
      );
  }
}
