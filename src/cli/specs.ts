/**
 * Every command's flag table: the one declaration that drives both its parser (parseArgs) and its
 * usage text (`--help`, the command list, the usage line after an error). No imports beyond
 * ./args: the CLI's command table loads this at start-up.
 */
import type { CommandSpec, Flag } from './args';

/** The flags that pick a notebook model and its arguments (forward, export-onnx, diagnose). */
export const MODEL_FLAGS: Flag[] = [
  { name: 'model', value: 'resnet50|identity_block|convolutional_block', help: 'the notebook model', required: true },
  { name: 'f', value: 'N', help: "block kernel size (default: the notebook's)" },
  { name: 'filters', value: 'a,b,c', help: 'block filters' },
  { name: 's', value: 'N', help: 'convolutional block stride' },
  {
    name: 'initializer',
    value: 'glorot_uniform|random_uniform|constant:V',
    help: "initial weights (default: the notebook's)",
  },
  { name: 'input-shape', value: 'h,w,c', help: "input size (default: the model's, or the --input file's)" },
  { name: 'classes', value: 'N', help: 'ResNet-50 classes' },
];

const ADAPTER_MODULE: Flag = {
  name: 'adapter-module',
  value: 'file.mjs|package',
  repeatable: true,
  help: 'adds the adapters a .js/.cjs/.mjs/.ts file or an npm package exports as `adapters` (docs/adapters.md: adapters from a module)',
};

/** `--adapter-command` and its companions (src/cli/adapter-sources.ts): an external protocol program as an adapter. */
const ADAPTER_COMMAND: Flag[] = [
  {
    name: 'adapter-command',
    value: "'CMD args'",
    repeatable: true,
    help: 'adds a program speaking docs/adapter-protocol.md as an adapter (docs/adapters.md: external programs)',
  },
  {
    name: 'adapter-id',
    value: 'ID',
    repeatable: true,
    help: 'its adapter id (default: the name in its hello); once per --adapter-command',
  },
  {
    name: 'adapter-profile',
    value: 'fp64-reference|fp32-cpu|tf32-gpu',
    repeatable: true,
    help: 'its tolerance profile (default fp32-cpu); once per --adapter-command',
  },
  {
    name: 'adapter-timeout',
    value: 'SECONDS',
    repeatable: true,
    help: 'its per-request timeout (default 300, run/bench: half of --timeout); once per --adapter-command',
  },
];

/** Every flag that adds adapters besides the registry's. */
const ADAPTER_SOURCES: Flag[] = [ADAPTER_MODULE, ...ADAPTER_COMMAND];

const ONE_ADAPTER: Flag[] = [
  { name: 'adapter', value: 'ID', help: 'the adapter (`resnet-conformance adapters` lists them)', required: true },
  ...ADAPTER_SOURCES,
];

const REFERENCE_PRECISION: Flag[] = [
  { name: 'precision', value: 'fp64|fp32|tf32', help: 'reference arithmetic (--adapter reference only)' },
  { name: 'tf32-layers', value: 'names', help: 'TF32 only in these layers (with --precision tf32)' },
];

export const SUMMARY_SPEC: CommandSpec = {
  name: 'summary',
  summary: "Keras model.summary() content of the notebook's ResNet-50",
  flags: [
    { name: 'input-shape', value: '64,64,3', help: 'input size' },
    { name: 'classes', value: '6', help: 'classes' },
    { name: 'json', help: 'machine-readable output' },
  ],
};

export const INIT_SPEC: CommandSpec = {
  name: 'init',
  summary: 'Keras-exact initial weights as a float32 .npy',
  operands: '<glorot_uniform|random_uniform|constant|zeros|ones>',
  flags: [
    { name: 'shape', value: '3,3,64,64', help: 'the tensor shape', required: true },
    { name: 'seed', value: '0', help: 'the initializer seed' },
    { name: 'value', value: 'V', help: 'constant value' },
    { name: 'minval', value: '-0.05', help: 'random_uniform lower bound' },
    { name: 'maxval', value: '0.05', help: 'random_uniform upper bound' },
    { name: 'out', value: 'w.npy', help: 'output file (default: a summary on stdout)' },
  ],
};

export const FORWARD_SPEC: CommandSpec = {
  name: 'forward',
  summary: 'one forward pass of a notebook model through one adapter',
  flags: [
    ...MODEL_FLAGS,
    { name: 'input', value: 'x.npy', help: 'NHWC input batch', required: true },
    { name: 'training', help: 'BatchNormalization on batch statistics (Keras training=True)' },
    ...ONE_ADAPTER,
    ...REFERENCE_PRECISION,
    { name: 'out', value: 'y.npy', help: 'output file', required: true },
  ],
};

export const ADAPTERS_SPEC: CommandSpec = {
  name: 'adapters',
  summary:
    'the registered adapters: what runs here, or why not and the fix; with --adapter-command/--adapter-module, checks only those (hello, probe, describe) without a run',
  flags: [...ADAPTER_SOURCES, { name: 'json', help: 'machine-readable output' }],
};

export const EXPORT_ONNX_SPEC: CommandSpec = {
  name: 'export-onnx',
  summary: 'the exact graph as ONNX, for other ONNX tools',
  flags: [
    ...MODEL_FLAGS,
    { name: 'training', help: 'training-mode BatchNormalization' },
    { name: 'capture', value: 'layer,layer,...', help: 'also output these intermediate layers' },
    { name: 'out', value: 'model.onnx', help: 'output file', required: true },
  ],
};

export const DIAGNOSE_SPEC: CommandSpec = {
  name: 'diagnose',
  summary: 'per-layer error against the fp64 reference, first diverging layer, arithmetic per layer',
  flags: [
    ...ONE_ADAPTER,
    {
      name: 'case',
      value: 'ID',
      help: 'a golden case (e.g. from a report): its model arguments, initial weights, input and BatchNorm mode; instead of --model and its arguments, --input and --training',
    },
    { name: 'fixtures', value: 'dir', help: 'golden data directory of --case (default: fixtures)' },
    ...MODEL_FLAGS.map((f) => (f.name === 'model' ? { ...f, required: false, help: `${f.help} (or --case)` } : f)),
    { name: 'input', value: 'x.npy', help: 'input batch (default: seeded uniform noise)' },
    { name: 'training', help: 'training-mode BatchNormalization' },
    ...REFERENCE_PRECISION,
    {
      name: 'profile',
      value: 'fp64-reference|fp32-cpu|tf32-gpu',
      help: "precision profile of the budgets (default: the adapter's)",
    },
    { name: 'arithmetics', value: 'fp32,tf32,bf16,fp16', help: 'arithmetics to test each layer against' },
    { name: 'json', help: 'the diagnosis as JSON' },
    { name: 'markdown', help: 'the diagnosis as Markdown' },
    { name: 'html', value: 'out.html', help: 'also write an HTML page' },
  ],
};

export const RUN_SPEC: CommandSpec = {
  name: 'run',
  summary: 'the conformance run: every selected adapter on every golden case',
  flags: [
    {
      name: 'adapters',
      value: 'a,b|all',
      help: 'adapters to run (default: every out-of-the-box adapter, plus those of --adapter-module/--adapter-command)',
    },
    ...ADAPTER_SOURCES,
    { name: 'cases', value: 'pattern,...', help: 'case ids or globs (default: every case)' },
    {
      name: 'list',
      help: 'print the case ids --cases selects (and the near ids a glob leaves out) and run nothing',
    },
    { name: 'out', value: 'reports/<run-id>', help: 'report directory' },
    { name: 'baseline', value: 'report.json', help: 'flag error growth against an earlier report' },
    { name: 'regression-factor', value: '2', help: 'allowed growth of the error against the baseline' },
    { name: 'shard', value: 'i/n', help: 'run shard i of n (merge the reports with merge)' },
    { name: 'timeout', value: '300', help: 'seconds per adapter' },
    { name: 'jobs', value: '2', help: 'adapter workers at once' },
    { name: 'fixtures', value: 'dir', help: 'golden data directory (default: fixtures)' },
    {
      name: 'baseline-set',
      value: 'NAME',
      help: 'check against a notebook revision imported with import-notebook (baselines/NAME)',
    },
    { name: 'baselines-dir', value: 'DIR', help: 'where imported baselines live (default: baselines)' },
    { name: 'bench', value: 'bench.json', help: 'embed a bench result in the perf section' },
    { name: 'no-diagnose', help: 'do not diagnose numeric failures per layer' },
    {
      name: 'verbose',
      help: "forward worker output to stderr, an --adapter-command program's stderr included",
    },
  ],
};

export const REPORT_SPEC: CommandSpec = {
  name: 'report',
  summary: 're-render a report from report.json',
  operands: '<report.json|run-dir>',
  flags: [
    { name: 'format', value: 'html|md|junit|json', help: 'output format', required: true },
    { name: 'out', value: 'file', help: 'output file (default: stdout)' },
  ],
};

export const COMPARE_SPEC: CommandSpec = {
  name: 'compare',
  summary: 'what changed between two reports (or two bench results)',
  flags: [
    { name: 'regression-factor', value: '2', help: 'reports: allowed growth of the error' },
    { name: 'noise-floor', value: '0.1', help: 'bench results: smallest change that counts (fraction)' },
    { name: 'noise-profile', value: 'noise.json', help: 'bench results: per-row noise bands (bench --noise)' },
    { name: 'normalize', value: 'auto|always|never', help: 'bench results: compare relative to the ceiling' },
    { name: 'json', help: 'machine-readable output' },
    { name: 'format', value: 'text|md|json', help: 'reports: md for CI step summaries and comments (json = --json)' },
  ],
  modes: [
    { head: '<old-report.json> <new-report.json>', flags: ['regression-factor', 'json', 'format'] },
    { head: '<old-bench.json> <new-bench.json>', flags: ['noise-floor', 'noise-profile', 'normalize', 'json'] },
  ],
};

export const MERGE_SPEC: CommandSpec = {
  name: 'merge',
  summary: 'combine shard reports into one',
  operands: '<report.json|run-dir> <report.json|run-dir> ...',
  flags: [
    { name: 'out', value: 'dir', help: 'merged report directory', required: true },
    {
      name: 'allow-partial',
      help: 'merge an incomplete or mixed set (a shard missing, other --cases or baselines); the report is marked partial and fails',
    },
  ],
};

export const FIXTURES_SPEC: CommandSpec = {
  name: 'fixtures',
  summary: 'golden data: digests, regeneration, freshness, pre-trained models',
  flags: [],
  subcommands: [
    {
      name: 'fixtures verify',
      summary: 'check every fixture file against the manifest digests',
      flags: [
        { name: 'dir', value: 'fixtures', help: 'fixtures directory' },
        { name: 'json', help: 'machine-readable output' },
      ],
    },
    {
      name: 'fixtures generate',
      summary: 'regenerate the golden data with Keras (.venv)',
      flags: [{ name: 'no-setup', help: 'do not create or update the Python environment' }],
      tail: '[-- generator args, e.g. --out DIR]',
    },
    {
      name: 'fixtures check',
      summary: 'regenerate into a temporary directory and compare with the committed data',
      flags: [
        { name: 'dir', value: 'fixtures', help: 'fixtures directory' },
        { name: 'exact', help: 'require bit-identical tensors' },
        { name: 'keep', help: 'keep the regenerated directory' },
        { name: 'json', help: 'machine-readable output' },
        { name: 'no-setup', help: 'do not create or update the Python environment' },
      ],
    },
    {
      name: 'fixtures materialize',
      summary: 'write the pre-trained model files from their committed small form',
      flags: [
        { name: 'dir', value: 'fixtures/pretrained', help: 'pre-trained fixtures directory' },
        { name: 'out', value: 'DIR', help: 'write there instead' },
      ],
    },
  ],
};

export const CLASSIFY_SPEC: CommandSpec = {
  name: 'classify',
  summary: 'a saved Keras model on images, every adapter',
  flags: [
    { name: 'model', value: 'm.h5|m.keras', help: 'the saved Keras model', required: true },
    { name: 'image', value: 'a.jpg', help: 'an image', required: true, repeatable: true },
    { name: 'adapters', value: 'a,b|all', help: 'adapters (default: every adapter available here)' },
    ...ADAPTER_SOURCES,
    { name: 'max-diff', value: 'X', help: 'exit 1 when adapters disagree by more' },
    { name: 'json', help: 'machine-readable output' },
  ],
};

export const EVALUATE_SPEC: CommandSpec = {
  name: 'evaluate',
  summary: 'accuracy of a saved Keras model on a dataset, per adapter',
  flags: [
    { name: 'model', value: 'm.h5|m.keras', help: 'the saved Keras model', required: true },
    { name: 'dataset', value: 'test_signs.h5', help: 'the dataset', required: true },
    { name: 'adapters', value: 'a,b|all', help: 'adapters (default: every adapter available here)' },
    ...ADAPTER_SOURCES,
    { name: 'baseline', value: 'ID', help: 'adapter the others are compared with (default: keras, else reference)' },
    { name: 'batch', value: '8', help: 'images per batch' },
    { name: 'max-diff', value: 'X', help: 'exit 1 when an adapter differs from the baseline by more' },
    { name: 'json', help: 'machine-readable output' },
  ],
};

export const BENCH_SPEC: CommandSpec = {
  name: 'bench',
  summary: "ResNet-50 latency per adapter against the machine's MatMul ceiling; comparing bench results",
  flags: [
    {
      name: 'adapters',
      value: 'a,b|all',
      help: 'adapters (default: every out-of-the-box adapter, plus those of --adapter-module/--adapter-command)',
    },
    ...ADAPTER_SOURCES,
    { name: 'batch', value: '1,8', help: 'batch sizes' },
    { name: 'runs', value: 'N', help: 'timed runs per batch (default: until --min-time-ms)' },
    { name: 'warmup', value: 'N', help: 'untimed runs first' },
    { name: 'min-time-ms', value: '2000', help: 'time each batch at least this long' },
    { name: 'json', help: 'machine-readable output: the result as JSON on stdout instead of the text' },
    { name: 'json-out', value: 'out.json', help: 'also write the result as JSON to this file' },
    { name: 'md', value: 'out.md', help: 'write the result as Markdown' },
    { name: 'no-ceiling', help: 'do not measure the MatMul ceiling' },
    { name: 'no-paired-ceiling', help: "do not interleave MatMul runs with the adapter's" },
    { name: 'ceiling-n', value: '2048', help: 'MatMul size of the ceiling' },
    { name: 'ceiling-runtimes', value: 'onnxruntime-node,tfjs-node,tfjs-wasm', help: 'runtimes measuring the ceiling' },
    { name: 'timeout', value: '600', help: 'seconds per worker' },
    { name: 'layers', help: "kernel time and GFLOP/s per stage (the runtime's profiler)" },
    {
      name: 'verbose',
      help: "forward worker output to stderr, an --adapter-command program's stderr included",
    },
    { name: 'compare', help: 'compare two bench results' },
    { name: 'noise-floor', value: '0.1', help: 'smallest change that counts (fraction)' },
    { name: 'noise-profile', value: 'noise.json', help: 'per-row noise bands (bench --noise)' },
    { name: 'normalize', value: 'auto|always|never', help: 'compare relative to the ceiling' },
    { name: 'noise', help: 'noise profile of repeated bench results of the same code' },
    { name: 'harness', help: 'the cost of one conformance run, by phase' },
    { name: 'run-args', value: '"<run options>"', help: "the run's options in one argument (instead of after --)" },
  ],
  modes: [
    {
      flags: [
        'adapters',
        'adapter-module',
        'adapter-command',
        'adapter-id',
        'adapter-profile',
        'adapter-timeout',
        'batch',
        'runs',
        'warmup',
        'min-time-ms',
        'json',
        'json-out',
        'md',
        'no-ceiling',
        'no-paired-ceiling',
        'ceiling-n',
        'ceiling-runtimes',
        'timeout',
        'layers',
        'verbose',
      ],
    },
    { head: '--compare a.json b.json', flags: ['noise-floor', 'noise-profile', 'normalize', 'json', 'json-out'] },
    { head: '--noise r1.json r2.json [...]', flags: ['json', 'json-out'] },
    {
      head: '--harness',
      flags: ['json', 'json-out', 'run-args'],
      tail: '[-- <run options, e.g. --adapters reference --out dir>]',
    },
  ],
};

export const MUTATE_SPEC: CommandSpec = {
  name: 'mutate',
  summary:
    "the mutation score: the mutant bank (src/mutants, docs/mutants.md) through run's default cases; caught, localized, control false alarms",
  flags: [
    { name: 'mutants', value: 'id,glob*', help: 'bank entries to run (default: all; --list shows them)' },
    { name: 'cases', value: 'PATTERNS', help: "cases (default: run's default case set, every case of the manifest)" },
    { name: 'fixtures', value: 'DIR', help: 'fixtures directory (default: the packaged fixtures)' },
    { name: 'out', value: 'DIR', help: 'write mutation.json and mutation.md there (default: reports/mutate-<time>)' },
    { name: 'json', help: 'print the report as JSON instead of the summary' },
    { name: 'no-diagnose', help: 'skip the per-layer diagnosis (no localization)' },
    { name: 'min-caught', value: 'PCT', help: 'also exit 1 when fewer than PCT% of non-equivalent mutants are caught' },
    { name: 'list', help: 'list the bank (id, kind, what it changes) and exit' },
  ],
};

export const SWEEP_SPEC: CommandSpec = {
  name: 'sweep',
  summary:
    'oracle-driven sweep: generated layer and block configurations on each adapter, judged by error bounds derived from the arithmetic; failures shrunk to standalone reproductions (docs/sweep.md)',
  flags: [
    { name: 'adapters', value: 'a,b|all', help: 'adapters to sweep (default: the out-of-the-box ones)' },
    { name: 'seed', value: 'S', help: 'generator seed (default 1)' },
    { name: 'budget', value: 'N', help: 'configuration indices to generate (default 100)' },
    { name: 'seconds', value: 'T', help: 'instead of --budget: generate until T seconds have passed' },
    { name: 'kinds', value: 'conv,bn,pool,dense,block', help: 'configuration kinds (default: all)' },
    { name: 'shard', value: 'i/n', help: 'only configuration indices k with k mod n = i-1' },
    { name: 'max-shrink', value: 'N', help: 'failing configurations shrunk per adapter (default 10; 0: none)' },
    {
      name: 'config-timeout',
      value: 'S',
      help: 'longest build + run of one configuration, seconds (default 300); past it: timeout, adapter restarted',
    },
    { name: 'baseline', value: 'sweep.json', help: 'compare with an earlier sweep (exit 1 on a new failure group)' },
    { name: 'no-verify-repro', help: 'write the reproduction scripts without running them' },
    { name: 'out', value: 'DIR', help: 'write sweep.json, sweep.md and repro/ there (default: reports/sweep-<time>)' },
    { name: 'json', help: 'print the report as JSON instead of the summary' },
  ],
};

export const IMPORT_NOTEBOOK_SPEC: CommandSpec = {
  name: 'import-notebook',
  summary: "a notebook revision's test files as a named baseline (parsed with Python's ast in pyodide, never executed)",
  flags: [
    { name: 'public-tests', value: 'p.py', help: "the revision's public_tests.py", required: true },
    { name: 'outputs', value: 'o.py', help: 'its outputs.py (expected arrays named by the tests)' },
    { name: 'notebook', value: 'n.ipynb', help: 'the notebook, for the printed outputs of its cells' },
    { name: 'name', value: 'NAME', help: "the baseline's name", required: true },
    { name: 'out', value: 'DIR', help: 'where to write it (default: baselines/NAME)' },
    { name: 'json', help: 'machine-readable output' },
  ],
};

export const EXPLAIN_SPEC: CommandSpec = {
  name: 'explain',
  summary: "which (RNG kind, TF32 layers, BatchNorm epsilon) reproduces a revision's values",
  flags: [
    { name: 'baseline-set', value: 'NAME', help: 'an imported baseline (or give the files, below)' },
    { name: 'baselines-dir', value: 'DIR', help: 'where imported baselines live (default: baselines)' },
    { name: 'public-tests', value: 'p.py', help: "the revision's public_tests.py, imported on the fly" },
    { name: 'outputs', value: 'o.py', help: 'its outputs.py' },
    { name: 'notebook', value: 'n.ipynb', help: 'the notebook' },
    { name: 'epsilons', value: '1e-3,1e-5,1e-6', help: 'BatchNorm epsilons to search' },
    { name: 'json', help: 'machine-readable output' },
  ],
};

export const EXPORT_CASES_SPEC: CommandSpec = {
  name: 'export-cases',
  summary: 'the golden cases as a case pack (inputs, weights, spec JSON, manifest, .npy) for a device without Node',
  flags: [
    { name: 'out', value: 'pack/', help: 'the pack folder (new or empty)', required: true },
    { name: 'cases', value: 'pattern,...', help: 'case ids or globs (default: every case)' },
    { name: 'adapter', value: 'ID', help: "judge's default adapter id (and, for a known adapter, its profile)" },
    { name: 'profile', value: 'fp32-cpu|tf32-gpu|fp64-reference|webgl-f16', help: "judge's default precision profile" },
    { name: 'no-diagnosis', help: 'do not ask the device for the all-layer run the per-layer diagnosis needs' },
    { name: 'fixtures', value: 'dir', help: 'golden data directory (default: fixtures)' },
  ],
};

export const JUDGE_SPEC: CommandSpec = {
  name: 'judge',
  summary: 'outputs a device recorded from a case pack, judged as `run` judges (report.json/md/html, junit.xml)',
  flags: [
    { name: 'pack', value: 'pack/', help: 'the case pack export-cases wrote', required: true },
    { name: 'outputs', value: 'outs/', help: 'the outputs the device wrote for it', required: true },
    {
      name: 'adapter-id',
      value: 'NAME',
      help: "the adapter's id in the report (default: the name the device recorded, else the pack's)",
    },
    {
      name: 'profile',
      value: 'fp32-cpu|tf32-gpu|fp64-reference|webgl-f16',
      help: "tolerance column (default: the pack's)",
    },
    { name: 'cases', value: 'pattern,...', help: 'judge only these cases of the pack' },
    { name: 'out', value: 'reports/<run-id>', help: 'report directory' },
    { name: 'fixtures', value: 'dir', help: 'golden data directory (default: fixtures)' },
    { name: 'no-diagnose', help: 'do not diagnose numeric failures per layer' },
  ],
};
