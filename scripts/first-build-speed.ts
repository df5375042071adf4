/**
 * The first ResNet-50 (64x64x3, 6 classes) build of an adapter in a fresh process, as a run's worker
 * meets it: the weights come from the weight cache, then adapter.build + paramCount. Each repetition
 * is a child process of its own (started with the workers' GLIBC_TUNABLES, src/runner/orchestrator.ts);
 * it prints build, runtime setup inside it and own = build − runtime setup, min / median.
 *   npx tsx scripts/first-build-speed.ts [--reps 7] [--adapter onnxruntime-web-wasm|onnxruntime-cpu] [--no-block]
 * --no-block transposes the kernels one array at a time (OihwKernelMemo.prepare disabled), for an A/B
 * in the same conditions. `bench --harness` is the measurement of record; this is a probe.
 */
import { execFileSync } from 'child_process';
import { loadavg } from 'os';
import { OnnxRuntimeAdapter } from '../src/adapters/onnxruntime';
import { ortWebNodeAdapter } from '../src/adapters/onnxruntime-web';
import { runtimeSetupOf } from '../src/adapters/setup-clock';
import { cachedInitModelWeights } from '../src/init/weight-cache';
import { resnet50 } from '../src/model/builders';
import { OihwKernelMemo } from '../src/onnx/exporter';
import { workerEnv } from '../src/runner/orchestrator';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

async function child(id: string, block: boolean): Promise<void> {
  if (!block) OihwKernelMemo.prototype.prepare = () => undefined;
  const spec = resnet50({ inputShape: [64, 64, 3], classes: 6 });
  const weights = cachedInitModelWeights(spec).weights;
  const a =
    id === 'onnxruntime-web-wasm'
      ? ortWebNodeAdapter(id)
      : new OnnxRuntimeAdapter({ id, executionProvider: 'cpu', graphOptimizationLevel: 'all' });
  const t = performance.now();
  await a.build(spec, weights);
  await a.paramCount();
  const build = performance.now() - t;
  const setup = runtimeSetupOf(a) ?? 0;
  process.stdout.write(JSON.stringify({ build, setup, own: build - setup }) + '\n');
  await a.dispose();
}

function main(): void {
  const reps = Number(arg('--reps', '7'));
  const id = arg('--adapter', 'onnxruntime-web-wasm');
  const block = !process.argv.includes('--no-block');
  const rows: { build: number; setup: number; own: number }[] = [];
  for (let r = 0; r < reps; r++) {
    const out = execFileSync(process.execPath, [...process.execArgv, __filename, '--child', id, String(block)], {
      env: workerEnv({}),
      encoding: 'utf8',
    });
    rows.push(JSON.parse(out.trim().split('\n').pop()!));
  }
  const stat = (k: 'build' | 'setup' | 'own'): string => {
    const v = rows.map((x) => x[k]).sort((p, q) => p - q);
    return `${v[0].toFixed(0)} / ${v[v.length >> 1].toFixed(0)}`;
  };
  console.log(
    `${id} first ResNet-50 build, ${block ? 'kernels in one block' : 'kernels one by one (--no-block)'}, ${reps} processes, load ${loadavg()[0].toFixed(1)}; min / median ms`,
  );
  console.log(`  build ${stat('build')}  runtime setup ${stat('setup')}  own ${stat('own')}`);
}

if (process.argv[2] === '--child') void child(process.argv[3], process.argv[4] === 'true');
else main();
