/**
 * Measurement (not a test): how far adapters are from the float64 reference adapter — the accuracy
 * side of what `npm run bench` times (numbers in docs/onnxruntime.md and docs/tfjs.md).
 *
 * Cases: the notebook's identity block (f=3, filters [4,4,3]) and convolutional block (f=2,
 * [2,4,6], s=2), each on the notebook X and on a seeded batch of 3 in [-1, 1); ResNet-50 (64x64x3,
 * notebook initial weights) at each of --batches on seeded images in [0, 1) (batch b: seed 5 + b).
 * Every case in both BatchNormalization modes. Per case the worst |actual − reference| and relative
 * error of the output, and for ResNet-50 of the logits and of the other fixture boundaries (stage 1,
 * every block, average pool; `at` names the worst).
 * --diff a,b: max |a − b| of the outputs and logits of two adapters; default onnxruntime-cpu against
 * onnxruntime-cpu-noopt when both run (what ONNX Runtime's graph optimizations change).
 *
 * Each adapter runs in its own child process (as in the runner: no two tfjs backends or native
 * thread pools share a process). Unavailable adapters are listed with the probe's reason and fix.
 *
 * Usage: npx tsx scripts/accuracy-vs-reference.ts [--adapters onnxruntime-cpu,tfjs-wasm] [--batches 1,4]
 *          [--skip-blocks] [--diff a,b] [--json out.json]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { ReferenceAdapter } from '../src/adapters/reference';
import { createAdapter } from '../src/adapters/registry';
import { compareTensors } from '../src/compare';
import { metricRank } from '../src/compare/metrics';
import { initModelWeights } from '../src/init';
import { notebookX, seededUniform } from '../src/tensor/sample-inputs';
import { convolutionalBlock, identityBlock, resnet50 } from '../src/model/builders';
import type { ModelSpec } from '../src/model/types';
import type { Tensor } from '../src/tensor';

const DEFAULT_ADAPTERS =
  'onnxruntime-cpu,onnxruntime-cpu-noopt,onnxruntime-cuda,onnxruntime-cuda-no-tf32,tfjs-cpu,tfjs-wasm,tfjs-node,tfjs-node-gpu,tfjs-node-gpu-no-tf32';
const DEFAULT_DIFF = ['onnxruntime-cpu', 'onnxruntime-cpu-noopt'];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const flag = (name: string): boolean => process.argv.includes(name);

interface Case {
  label: string;
  spec: ModelSpec;
  input: Tensor;
}

function cases(batches: number[], blocks: boolean): Case[] {
  const out: Case[] = [];
  if (blocks) {
    for (const [name, spec] of [
      ['identity_block', identityBlock(3, [4, 4, 3])],
      ['convolutional_block', convolutionalBlock(2, [2, 4, 6], 2)],
    ] as const) {
      out.push({ label: `${name} notebook X`, spec, input: notebookX() });
      out.push({ label: `${name} random b3`, spec, input: seededUniform([3, 4, 4, 3], 11, -1, 1) });
    }
  }
  const spec = resnet50();
  for (const b of batches)
    out.push({ label: `resnet50 b${b}`, spec, input: seededUniform([b, 64, 64, 3], 5 + b, 0, 1) });
  return out;
}

interface Worst {
  maxAbs: number;
  maxRel: number;
  at: string;
}

interface CaseResult {
  case: string;
  training: boolean;
  output: Worst;
  logits?: Worst;
  boundaries?: Worst;
  /** The adapter's output and logits values, for --diff (not written to --json). */
  values: { output: number[]; logits?: number[] };
}

interface AdapterResult {
  id: string;
  available: boolean;
  reason?: string;
  fix?: string;
  error?: string;
  description?: { runtime: string; version: string; settings: Record<string, unknown> };
  cases: CaseResult[];
}

function worst(pairs: [string, Tensor, Tensor][]): Worst {
  const w: Worst = { maxAbs: 0, maxRel: 0, at: '-' };
  for (const [at, a, e] of pairs) {
    const c = compareTensors(a, e, { atol: 0, rtol: 0 });
    const abs = metricRank(c.maxAbs);
    if (abs > w.maxAbs) {
      w.maxAbs = abs;
      w.at = at;
    }
    w.maxRel = Math.max(w.maxRel, metricRank(c.maxRel));
  }
  return w;
}

/** One adapter, in this process. */
async function measure(id: string, batches: number[], blocks: boolean): Promise<AdapterResult> {
  const result: AdapterResult = { id, available: false, cases: [] };
  const adapter = createAdapter(id);
  const p = await adapter.probe();
  if (!p.available) {
    await adapter.dispose();
    return { ...result, reason: p.reason, fix: p.fix };
  }
  result.available = true;
  result.description = await adapter.describe();
  const ref = new ReferenceAdapter({ precision: 'fp64' });
  try {
    let built: ModelSpec | undefined;
    for (const c of cases(batches, blocks)) {
      const { spec } = c;
      if (spec !== built) {
        const weights = initModelWeights(spec);
        await ref.build(spec, weights);
        await adapter.build(spec, weights);
        built = spec;
      }
      const logits = spec.boundaries.find((b) => b.label === 'logits');
      const inner = spec.boundaries.filter((b) => b.layer !== spec.output && b !== logits);
      const capture = spec.boundaries.filter((b) => b.layer !== spec.output).map((b) => b.layer);
      for (const training of [false, true]) {
        const r = await ref.run(c.input, { training, capture });
        const a = await adapter.run(c.input, { training, capture });
        result.cases.push({
          case: c.label,
          training,
          output: worst([['output', a.output, r.output]]),
          ...(logits
            ? { logits: worst([['logits', a.intermediates[logits.layer], r.intermediates[logits.layer]]]) }
            : {}),
          ...(inner.length
            ? { boundaries: worst(inner.map((b) => [b.label, a.intermediates[b.layer], r.intermediates[b.layer]])) }
            : {}),
          values: {
            output: Array.from(a.output.data),
            ...(logits ? { logits: Array.from(a.intermediates[logits.layer].data) } : {}),
          },
        });
      }
    }
  } catch (err) {
    result.error = (err as Error).message;
  } finally {
    await ref.dispose();
    await adapter.dispose();
  }
  return result;
}

function maxDiff(a: number[], b: number[]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const e = (x: number): string => (Number.isFinite(x) ? x.toExponential(2) : String(x));
const fmt = (w: Worst): string => `${e(w.maxAbs)} / ${e(w.maxRel)}`;

function print(r: AdapterResult): void {
  if (!r.available) {
    console.log(`\n${r.id}: unavailable — ${r.reason}\n  fix: ${r.fix}`);
    return;
  }
  const d = r.description!;
  console.log(`\n${r.id}: ${d.runtime} ${d.version} ${JSON.stringify(d.settings)}`);
  console.log(
    `  ${'case'.padEnd(30)} ${'BN'.padEnd(9)} ${'output maxAbs / maxRel'.padEnd(22)}  ${'logits'.padEnd(19)}  boundaries (worst abs at)`,
  );
  for (const c of r.cases) {
    console.log(
      `  ${c.case.padEnd(30)} ${(c.training ? 'training' : 'inference').padEnd(9)} ${fmt(c.output).padEnd(22)}  ` +
        `${(c.logits ? fmt(c.logits) : '-').padEnd(19)}  ${c.boundaries ? `${fmt(c.boundaries)} (${c.boundaries.at})` : '-'}`,
    );
  }
  if (r.error) console.log(`  ERROR: ${r.error}`);
}

interface DiffRow {
  a: string;
  b: string;
  case: string;
  training: boolean;
  output: number;
  logits?: number;
}

function diffs(results: AdapterResult[], pair: string[]): DiffRow[] {
  const [ra, rb] = pair.map((id) => results.find((r) => r.id === id && r.available));
  if (!ra || !rb) return [];
  return ra.cases.flatMap((ca) => {
    const cb = rb.cases.find((x) => x.case === ca.case && x.training === ca.training);
    if (!cb) return [];
    const logits = ca.values.logits && cb.values.logits ? maxDiff(ca.values.logits, cb.values.logits) : undefined;
    return [
      {
        a: ra.id,
        b: rb.id,
        case: ca.case,
        training: ca.training,
        output: maxDiff(ca.values.output, cb.values.output),
        ...(logits !== undefined ? { logits } : {}),
      },
    ];
  });
}

async function main(): Promise<void> {
  const batches = arg('--batches', '1,4').split(',').map(Number);
  if (batches.some((b) => !Number.isInteger(b) || b < 1))
    throw new Error(`--batches takes positive integers, got '${arg('--batches', '')}'`);
  const blocks = !flag('--skip-blocks');
  if (flag('--child')) {
    const r = await measure(arg('--child', ''), batches, blocks);
    process.stdout.write(`\nACCURACY-RESULT ${JSON.stringify(r)}\n`);
    return;
  }
  const ids = arg('--adapters', DEFAULT_ADAPTERS)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const pair = flag('--diff') ? arg('--diff', '').split(',') : DEFAULT_DIFF;
  if (pair.length !== 2) throw new Error(`--diff takes two adapter ids (a,b), got '${arg('--diff', '')}'`);
  const passOn = ['--batches', batches.join(','), ...(blocks ? [] : ['--skip-blocks'])];
  console.log(
    `Worst error vs the float64 reference adapter (maxAbs / maxRel); boundaries = worst over the fixture boundaries but output and logits`,
  );
  const results: AdapterResult[] = [];
  for (const id of ids) {
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', id, ...passOn], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 << 20,
    });
    const m = /^ACCURACY-RESULT (.*)$/m.exec(child.stdout ?? '');
    const r: AdapterResult = m
      ? (JSON.parse(m[1]) as AdapterResult)
      : {
          id,
          available: false,
          reason: `the measuring process failed (exit ${child.status}${child.signal ? `, ${child.signal}` : ''})`,
          fix: 'run it alone to see its output',
          cases: [],
        };
    print(r);
    results.push(r);
  }
  const rows = diffs(results, pair);
  if (rows.length) {
    console.log(`\nmax |${pair[0]} − ${pair[1]}|`);
    for (const d of rows) {
      console.log(
        `  ${d.case.padEnd(30)} ${(d.training ? 'training' : 'inference').padEnd(9)} output ${e(d.output)}${d.logits !== undefined ? `, logits ${e(d.logits)}` : ''}`,
      );
    }
  }
  const out = arg('--json', '');
  if (out) {
    const adapters = results.map((r) => ({ ...r, cases: r.cases.map(({ values: _values, ...c }) => c) }));
    fs.writeFileSync(
      out,
      `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, adapters, diff: rows }, null, 2)}\n`,
    );
    console.log(`\nwrote ${out}`);
  }
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
