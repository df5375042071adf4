import { UsageError } from './args';

type Command = (argv: string[]) => Promise<number>;

/* Commands load lazily so that `summary` does not pay for TensorFlow.js or ONNX Runtime. */
const COMMANDS: Record<string, { usage: string; load: () => Command }> = {
  summary: {
    usage: 'summary [--input-shape 64,64,3] [--classes 6] [--json]',
    load: () => (require('./commands/summary') as typeof import('./commands/summary')).summaryCommand,
  },
  init: {
    usage: 'init <glorot_uniform|random_uniform|constant|zeros|ones> --shape 3,3,64,64 [--seed 0] [--value V] [--minval A --maxval B] [--out w.npy]',
    load: () => (require('./commands/init') as typeof import('./commands/init')).initCommand,
  },
  forward: {
    usage: 'forward --model resnet50|identity_block|convolutional_block [--f N] [--filters a,b,c] [--s N] '
      + '[--initializer glorot_uniform|random_uniform|constant:V] [--input-shape h,w,c] [--classes N] --input x.npy '
      + '[--training] --adapter ID [--precision fp64|fp32|tf32] [--tf32-layers names] --out y.npy',
    load: () => (require('./commands/forward') as typeof import('./commands/forward')).forwardCommand,
  },
  adapters: {
    usage: 'adapters [--json]',
    load: () => (require('./commands/adapters') as typeof import('./commands/adapters')).adaptersCommand,
  },
};

function usage(): string {
  return [
    'resnet-conformance — does a runtime compute exactly what the Keras ResNet notebook computes?',
    '',
    'Usage:',
    ...Object.values(COMMANDS).map((c) => `  resnet-conformance ${c.usage}`),
    '',
    'Exit codes: 0 success, 1 conformance failure, 2 usage or configuration error.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`resnet-conformance: unknown command '${name}' (expected ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`resnet-conformance ${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.load()(rest);
  } catch (err) {
    if (err instanceof UsageError || (err as Error).name === 'UnknownAdapterError') {
      process.stderr.write(`resnet-conformance ${name}: ${(err as Error).message}\nusage: resnet-conformance ${cmd.usage}\n`);
      return 2;
    }
    throw err;
  }
}
