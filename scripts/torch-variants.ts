/**
 * Measurements for docs/torch.md (issue 28): the PyTorch adapter's variants
 * (clients/python/examples/torch_adapter.py with oneDNN off, channels_last, torch.compile) against the
 * plain `torch` adapter on every fixture case, through the stdio protocol: whether each returned
 * tensor (output and the case's captures) is bit for bit the plain adapter's, the largest |Δ| when
 * not, and the time of each case's first and second run (a compiled forward compiles on the first).
 *
 *   node --require tsx/cjs scripts/torch-variants.ts [--variants mkldnn-off,channels-last,compile] [--cases SUBSTRING]
 * Needs .venv-torch (npm run setup:torch). Prints one JSON line per (variant, case) and a summary.
 */
import * as path from 'path';
import { createCommandAdapterEntry } from '../src/adapters/external/command';
import type { Adapter, RunResult } from '../src/adapters/types';
import { loadCaseTensors, loadManifest, modelKey } from '../src/golden/load';
import type { FixtureCase } from '../src/golden/manifest';
import { FIXTURES_DIR } from '../src/golden/paths';
import { captureNames } from '../src/golden/run-case';
import { initModelWeights } from '../src/init';
import { buildModel } from '../src/model/model-args';
import type { Tensor } from '../src/tensor';

const ROOT = path.join(__dirname, '..');
const PYTHON = path.join(ROOT, '.venv-torch', 'bin', 'python');
const SCRIPT = path.join(ROOT, 'clients', 'python', 'examples', 'torch_adapter.py');
const VARIANT_ARGS: Record<string, string[]> = {
  torch: [],
  'mkldnn-off': ['--mkldnn', 'off'],
  'channels-last': ['--memory-format', 'channels_last'],
  compile: ['--compile'],
};
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const variants = (arg('--variants') ?? 'mkldnn-off,channels-last,compile').split(',').filter(Boolean);
const caseFilter = arg('--cases') ?? '';

function adapterFor(variant: string): Adapter {
  const args = VARIANT_ARGS[variant];
  if (!args) throw new Error(`unknown variant '${variant}': ${Object.keys(VARIANT_ARGS).join(', ')}`);
  const id = variant === 'torch' ? 'torch' : `torch-${variant}`;
  return createCommandAdapterEntry({
    command: [PYTHON, SCRIPT, '--device', 'cpu', ...args, '--name', id],
    id,
    profile: 'fp32-cpu',
    timeoutMs: 600_000,
  }).create();
}

interface CaseOutputs {
  tensors: Record<string, Tensor>;
  firstMs: number;
  secondMs: number;
}

/** Starts a variant's program; builds models and runs cases on demand. */
async function open(variant: string) {
  const adapter = adapterFor(variant);
  const probe = await adapter.probe();
  if (!probe.available) throw new Error(`${adapter.id}: unavailable: ${probe.reason} (fix: ${probe.fix})`);
  let built = '';
  return {
    adapter,
    /** Runs the case twice (the first run of a compiled forward compiles): outputs and both times. */
    async run(k: FixtureCase): Promise<CaseOutputs> {
      if (modelKey(k.model) !== built) {
        const spec = buildModel(k.model);
        await adapter.build(spec, initModelWeights(spec));
        built = modelKey(k.model);
      }
      const input = loadCaseTensors(FIXTURES_DIR, k).input;
      console.error(`${adapter.id}: ${k.id}`);
      const capture = captureNames(k);
      const opts = { training: k.training, capture: capture.length ? capture : undefined };
      let t0 = performance.now();
      const r: RunResult = await adapter.run(input, opts);
      const firstMs = performance.now() - t0;
      t0 = performance.now();
      await adapter.run(input, opts);
      const secondMs = performance.now() - t0;
      return { tensors: { output: r.output, ...r.intermediates }, firstMs, secondMs };
    },
  };
}

function diff(a: Tensor, b: Tensor): { identical: boolean; maxAbs: number } {
  if (a.shape.join() !== b.shape.join()) return { identical: false, maxAbs: Infinity };
  let identical = true;
  let maxAbs = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (!Object.is(a.data[i], b.data[i])) identical = false;
    const d = Math.abs(a.data[i] - b.data[i]);
    if (!(d <= maxAbs)) maxAbs = d;
  }
  return { identical, maxAbs };
}

async function main(): Promise<void> {
  const cases = loadManifest().cases.filter((k) => k.id.includes(caseFilter));
  const base = await open('torch');
  const summary: string[] = [];
  try {
    for (const v of variants) {
      const t0 = performance.now();
      const other = await open(v);
      let identicalCases = 0;
      let worst = 0;
      try {
        // Case by case, both programs up: each line is printed as soon as its case is done.
        for (const k of cases) {
          const b = await base.run(k);
          const g = await other.run(k);
          let identical = true;
          let maxAbs = 0;
          for (const [name, t] of Object.entries(b.tensors)) {
            const d = g.tensors[name] ? diff(g.tensors[name], t) : { identical: false, maxAbs: Infinity };
            identical &&= d.identical;
            maxAbs = Math.max(maxAbs, d.maxAbs);
          }
          if (identical) identicalCases++;
          worst = Math.max(worst, maxAbs);
          console.log(
            JSON.stringify({
              variant: v,
              case: k.id,
              caseClass: k.caseClass,
              bitIdentical: identical,
              maxAbsVsTorch: maxAbs,
              outputMaxAbsVsTorch: diff(g.tensors.output, b.tensors.output).maxAbs,
              firstMs: +g.firstMs.toFixed(1),
              secondMs: +g.secondMs.toFixed(1),
              torchFirstMs: +b.firstMs.toFixed(1),
              torchSecondMs: +b.secondMs.toFixed(1),
            }),
          );
        }
      } finally {
        await other.adapter.dispose();
      }
      const wallS = (performance.now() - t0) / 1000;
      summary.push(
        `${v}: ${identicalCases}/${cases.length} cases bit-identical to torch, max |Δ| ${worst.toExponential(2)}, ${wallS.toFixed(1)} s in all`,
      );
      console.log(summary[summary.length - 1]);
    }
  } finally {
    await base.adapter.dispose();
  }
  console.log(`summary:\n${summary.join('\n')}`);
}

process.on('beforeExit', () => {
  // Nothing left to wait for before main() settled: a request whose answer never came.
  if (!done) console.error('torch-variants: the event loop emptied before the measurements finished');
});
let done = false;
// Observed here: without a handle of its own, Node exits silently inside dispose() when the program
// takes over 3 s to exit after `bye` (torch --compile: Inductor's worker pool). The bye answer
// unrefs the child's handles (process.ts onData) while stop() still awaits the exit, and after the
// 3 s kill timer nothing keeps the event loop up. The interval keeps this script up.
const keepAlive = setInterval(() => undefined, 1000);
main()
  .then(() => (done = true))
  .finally(() => clearInterval(keepAlive))
  .catch((e) => {
    done = true;
    console.error(e);
    process.exitCode = 1;
  });
