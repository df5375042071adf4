import { BENCH_USAGE } from '../bench/usage';
import { UsageError } from './args';
import { COMPARE_USAGE, RUN_USAGE } from './usage';

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
  'export-onnx': {
    usage: 'export-onnx --model resnet50|identity_block|convolutional_block [--f N] [--filters a,b,c] [--s N] [--initializer ...] '
      + '[--input-shape h,w,c] [--classes N] [--training] [--capture names] --out model.onnx',
    load: () => (require('./commands/export-onnx') as typeof import('./commands/export-onnx')).exportOnnxCommand,
  },
  diagnose: {
    usage: 'diagnose --adapter ID --model resnet50|identity_block|convolutional_block [model args as forward] [--input x.npy] '
      + '[--training] [--precision P --tf32-layers names (reference only)] [--profile P] [--arithmetics list] [--json|--markdown] [--html out.html]',
    load: () => (require('./commands/diagnose') as typeof import('./commands/diagnose')).diagnoseCommand,
  },
  run: {
    usage: RUN_USAGE,
    load: () => (require('./commands/run') as typeof import('./commands/run')).runCommand,
  },
  report: {
    usage: 'report <report.json|run-dir> --format html|md|junit|json [--out file]',
    load: () => (require('./commands/report') as typeof import('./commands/report')).reportCommand,
  },
  compare: {
    usage: COMPARE_USAGE,
    load: () => (require('./commands/compare') as typeof import('./commands/compare')).compareCommand,
  },
  merge: {
    usage: 'merge <report.json|run-dir> ... --out dir',
    load: () => (require('./commands/merge') as typeof import('./commands/merge')).mergeCommand,
  },
  fixtures: {
    usage: 'fixtures verify [--dir fixtures] [--json] | fixtures generate [--no-setup] [-- generator args] '
      + '| fixtures check [--exact] [--keep] [--json] [--no-setup]',
    load: () => (require('./commands/fixtures') as typeof import('./commands/fixtures')).fixturesCommand,
  },
  classify: {
    usage: 'classify --model m.h5|m.keras --image a.jpg [--image b.png ...] [--adapters a,b|all] [--max-diff X] [--json]',
    load: () => (require('./commands/classify') as typeof import('./commands/classify')).classifyCommand,
  },
  evaluate: {
    usage: 'evaluate --model m.h5|m.keras --dataset test_signs.h5 [--adapters a,b|all] [--baseline ID] [--batch 8] [--max-diff X] [--json]',
    load: () => (require('./commands/evaluate') as typeof import('./commands/evaluate')).evaluateCommand,
  },
  'import-notebook': {
    usage: 'import-notebook --public-tests p.py [--outputs o.py] [--notebook n.ipynb] --name NAME [--out DIR] [--json]',
    load: () => (require('./commands/import-notebook') as typeof import('./commands/import-notebook')).importNotebookCommand,
  },
  explain: {
    usage: 'explain (--baseline-set NAME [--baselines-dir DIR] | --public-tests p.py [--outputs o.py] [--notebook n.ipynb]) [--epsilons 1e-3,1e-5,1e-6] [--json]',
    load: () => (require('./commands/explain') as typeof import('./commands/explain')).explainCommand,
  },
  bench: {
    usage: BENCH_USAGE,
    load: () => (require('./commands/bench') as typeof import('./commands/bench')).benchCommand,
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
