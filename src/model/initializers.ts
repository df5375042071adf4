import type { InitializerSpec } from './types';

/** Keras class names of initializers, as the notebook's summary() reports them. */
export function initializerClassName(init: InitializerSpec): string {
  switch (init.kind) {
    case 'glorot_uniform':
      return 'GlorotUniform';
    case 'random_uniform':
      return 'RandomUniform';
    case 'constant':
      return 'Constant';
    case 'zeros':
      return 'Zeros';
    case 'ones':
      return 'Ones';
  }
}

export function glorotUniform(seed = 0): InitializerSpec {
  return { kind: 'glorot_uniform', seed };
}

export function randomUniform(seed = 0, minval = -0.05, maxval = 0.05): InitializerSpec {
  return { kind: 'random_uniform', seed, minval, maxval };
}

export function constantInit(value: number): InitializerSpec {
  return { kind: 'constant', value };
}

/**
 * Parses the CLI/fixture form: `glorot_uniform`, `random_uniform`, `constant:V`, `zeros`, `ones`,
 * optionally with `@seed` (e.g. `glorot_uniform@1`). The notebook uses seed 0 everywhere.
 */
export function parseInitializer(text: string, seed = 0): InitializerSpec {
  const [head, seedText] = text.split('@');
  const s = seedText === undefined ? seed : Number(seedText);
  if (!Number.isInteger(s)) throw new Error(`initializer '${text}': seed must be an integer`);
  if (head === 'glorot_uniform') return glorotUniform(s);
  if (head === 'random_uniform') return randomUniform(s);
  if (head === 'zeros') return { kind: 'zeros' };
  if (head === 'ones') return { kind: 'ones' };
  if (head.startsWith('constant:')) {
    const v = Number(head.slice('constant:'.length));
    if (!Number.isFinite(v)) throw new Error(`initializer '${text}': constant value must be a finite number`);
    return constantInit(v);
  }
  throw new Error(`unknown initializer '${text}' (expected glorot_uniform, random_uniform, constant:V, zeros or ones)`);
}
