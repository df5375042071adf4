import { commandHelp, synopsis, usageLines, UsageError, type CommandSpec } from './args';
import {
  ADAPTERS_SPEC,
  BENCH_SPEC,
  CLASSIFY_SPEC,
  COMPARE_SPEC,
  DIAGNOSE_SPEC,
  EVALUATE_SPEC,
  EXPORT_CASES_SPEC,
  EXPORT_ONNX_SPEC,
  FIXTURES_SPEC,
  FORWARD_SPEC,
  EXPLAIN_SPEC,
  IMPORT_NOTEBOOK_SPEC,
  INIT_SPEC,
  JUDGE_SPEC,
  MERGE_SPEC,
  MUTATE_SPEC,
  REPORT_SPEC,
  RUN_SPEC,
  SUMMARY_SPEC,
  SWEEP_SPEC,
} from './specs';

type Command = (argv: string[]) => Promise<number>;

/*
 * Commands load lazily so that `summary` does not pay for TensorFlow.js or ONNX Runtime; their flag
 * tables (./specs) are loaded here, and drive both their parsers and every usage text below.
 */
export const COMMANDS: Record<string, { spec: CommandSpec; load: () => Command }> = {
  summary: {
    spec: SUMMARY_SPEC,
    load: () => (require('./commands/summary') as typeof import('./commands/summary')).summaryCommand,
  },
  init: { spec: INIT_SPEC, load: () => (require('./commands/init') as typeof import('./commands/init')).initCommand },
  forward: {
    spec: FORWARD_SPEC,
    load: () => (require('./commands/forward') as typeof import('./commands/forward')).forwardCommand,
  },
  adapters: {
    spec: ADAPTERS_SPEC,
    load: () => (require('./commands/adapters') as typeof import('./commands/adapters')).adaptersCommand,
  },
  'export-onnx': {
    spec: EXPORT_ONNX_SPEC,
    load: () => (require('./commands/export-onnx') as typeof import('./commands/export-onnx')).exportOnnxCommand,
  },
  diagnose: {
    spec: DIAGNOSE_SPEC,
    load: () => (require('./commands/diagnose') as typeof import('./commands/diagnose')).diagnoseCommand,
  },
  run: { spec: RUN_SPEC, load: () => (require('./commands/run') as typeof import('./commands/run')).runCommand },
  report: {
    spec: REPORT_SPEC,
    load: () => (require('./commands/report') as typeof import('./commands/report')).reportCommand,
  },
  compare: {
    spec: COMPARE_SPEC,
    load: () => (require('./commands/compare') as typeof import('./commands/compare')).compareCommand,
  },
  merge: {
    spec: MERGE_SPEC,
    load: () => (require('./commands/merge') as typeof import('./commands/merge')).mergeCommand,
  },
  'export-cases': {
    spec: EXPORT_CASES_SPEC,
    load: () => (require('./commands/export-cases') as typeof import('./commands/export-cases')).exportCasesCommand,
  },
  judge: {
    spec: JUDGE_SPEC,
    load: () => (require('./commands/judge') as typeof import('./commands/judge')).judgeCommand,
  },
  fixtures: {
    spec: FIXTURES_SPEC,
    load: () => (require('./commands/fixtures') as typeof import('./commands/fixtures')).fixturesCommand,
  },
  classify: {
    spec: CLASSIFY_SPEC,
    load: () => (require('./commands/classify') as typeof import('./commands/classify')).classifyCommand,
  },
  evaluate: {
    spec: EVALUATE_SPEC,
    load: () => (require('./commands/evaluate') as typeof import('./commands/evaluate')).evaluateCommand,
  },
  'import-notebook': {
    spec: IMPORT_NOTEBOOK_SPEC,
    load: () =>
      (require('./commands/import-notebook') as typeof import('./commands/import-notebook')).importNotebookCommand,
  },
  explain: {
    spec: EXPLAIN_SPEC,
    load: () => (require('./commands/explain') as typeof import('./commands/explain')).explainCommand,
  },
  bench: {
    spec: BENCH_SPEC,
    load: () => (require('./commands/bench') as typeof import('./commands/bench')).benchCommand,
  },
  mutate: {
    spec: MUTATE_SPEC,
    load: () => (require('./commands/mutate') as typeof import('./commands/mutate')).mutateCommand,
  },
  sweep: {
    spec: SWEEP_SPEC,
    load: () => (require('./commands/sweep') as typeof import('./commands/sweep')).sweepCommand,
  },
};

export function usage(): string {
  return [
    'resnet-conformance — does a runtime compute exactly what the Keras ResNet notebook computes?',
    '',
    'Usage:',
    ...Object.values(COMMANDS).flatMap((c) => synopsis(c.spec).map((s) => `  resnet-conformance ${s}`)),
    '',
    '`resnet-conformance help COMMAND` (or `COMMAND --help`, `COMMAND -h`) describes every option of a command;',
    '`resnet-conformance --version` prints the version.',
    '`--json` (every command that has it): the machine-readable result on stdout instead of the text.',
    'Exit codes: 0 success, 1 conformance failure, 2 usage or configuration error.',
  ].join('\n');
}

/** `CMD --help` (and `fixtures verify --help`): the command's, or the subcommand's, full help. */
function helpFor(spec: CommandSpec, rest: string[]): string {
  const sub = spec.subcommands?.find((s) => s.name === `${spec.name} ${rest[0]}`);
  return commandHelp(sub ?? spec);
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    const { toolVersion } = require('../environment/run-info') as typeof import('../environment/run-info');
    process.stdout.write(`${toolVersion()}\n`);
    return 0;
  }
  // `help run` = `run --help`.
  if (name === 'help' && rest.length && COMMANDS[rest[0]]) {
    process.stdout.write(`${helpFor(COMMANDS[rest[0]].spec, rest.slice(1))}\n`);
    return 0;
  }
  if (name === 'help' && rest.length) {
    process.stderr.write(
      `resnet-conformance help: unknown command '${rest[0]}' (expected ${Object.keys(COMMANDS).join(', ')})\n`,
    );
    return 2;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(
      `resnet-conformance: unknown command '${name}' (expected ${Object.keys(COMMANDS).join(', ')})\n`,
    );
    return 2;
  }
  // Options after `--` belong to another program (bench --harness, fixtures generate).
  const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(`${helpFor(cmd.spec, rest)}\n`);
    return 0;
  }
  try {
    return await cmd.load()(rest);
  } catch (err) {
    if (err instanceof UsageError || (err as Error).name === 'UnknownAdapterError') {
      process.stderr.write(`resnet-conformance ${name}: ${(err as Error).message}\n${usageLines(cmd.spec)}\n`);
      return 2;
    }
    throw err;
  }
}
