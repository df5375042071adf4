/**
 * Bench worker: a child process (forked by src/bench/spawn.ts, run through tsx) that does one job —
 * benchmark one adapter, or measure the MatMul ceiling — and sends the result over IPC. One process
 * per job keeps runtimes from sharing thread pools, allocators or JIT state, and makes the RSS
 * high-water mark belong to one adapter.
 *
 * Everything is required lazily: ENTRY_MS is then the honest start-up cost of a process
 * (Node + tsx + this file), and importMs the cost of the harness modules an adapter run needs.
 */
import { errorText, workerChannel } from '../workers/worker-bootstrap';
import type { AdapterBatchResult, AdapterJobResult, BenchJob, WorkerReply } from './protocol';
import type { Adapter } from '../adapters/types';
import type { ModelSpec } from '../model/types';

const ENTRY_MS = performance.now();

/** Length of a block of adapter runs between two paired MatMul measurements. */
const PAIR_BLOCK_MS = 250;
/** Profiled runs per batch for --layers (after the profiler's own warm-up). */
const LAYER_PROFILE_RUNS = 20;

const { send, onStart } = workerChannel<WorkerReply>('src/bench/worker.ts');

/** Deterministic pixels in [0, 1): the same input for every adapter and run. */
function pixels(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = ((Math.imul(i, 2654435761) >>> 0) % 1000) / 1000;
  return a;
}

type AdapterJob = Extract<BenchJob, { kind: 'adapter' }>;

/** The modules an adapter job needs, required here (not at the top) so that importMs measures them. */
function loadModules() {
  const tImport = performance.now();
  const m = {
    memory: require('./memory') as typeof import('./memory'),
    pool: require('../adapters/pool') as typeof import('../adapters/pool'),
    builders: require('../model/builders') as typeof import('../model/builders'),
    init: require('../init/model-weights') as typeof import('../init/model-weights'),
    flops: require('./flops') as typeof import('./flops'),
    measure: require('../util/measure') as typeof import('../util/measure'),
    stats: require('../util/stats') as typeof import('../util/stats'),
    paired: require('../calibration/paired') as typeof import('../calibration/paired'),
    noise: require('../calibration/noise') as typeof import('../calibration/noise'),
    core: require('../calibration/core-latency') as typeof import('../calibration/core-latency'),
  };
  return { m, importMs: performance.now() - tImport };
}
type Modules = ReturnType<typeof loadModules>['m'];
type Input = { shape: number[]; data: Float32Array };
type Pairing = Awaited<ReturnType<Modules['paired']['createPairedProducts']>>;
type CoreProbe = ReturnType<Modules['core']['startCoreProbe']>;
type Warm = { warmupMs: number[]; peakMiB: number; cumulative: boolean };

/** Probe and describe into `res`; false when the adapter is unavailable. */
async function probeInto(adapter: Adapter, res: AdapterJobResult, m: Modules): Promise<boolean> {
  const t = m.measure.nowMs();
  try {
    const probe = await adapter.probe({ dedicatedProcess: true });
    res.available = probe.available;
    if (!probe.available) {
      res.unavailableReason = probe.reason ?? 'the probe gave no reason';
      if (probe.fix) res.fix = probe.fix;
    }
  } catch (err) {
    res.unavailableReason = `probe threw: ${(err as Error).message ?? String(err)}`;
  }
  res.process.probeMs = m.measure.nowMs() - t;
  if (!res.available) return false;
  try {
    res.description = await adapter.describe();
  } catch (err) {
    res.error = `describe() threw: ${(err as Error).message}`;
  }
  return true;
}

/** Pass 1, warm-up and memory: each batch's peak RSS belongs to the adapter alone (no MatMul session exists yet). */
async function warmUp(
  job: AdapterJob,
  run: (batch: number) => Promise<unknown>,
  m: Modules,
): Promise<Map<number, Warm>> {
  const warm = new Map<number, Warm>();
  for (const batch of job.batches) {
    m.memory.resetPeakRss();
    const warmupMs: number[] = [];
    for (let i = 0; i < Math.max(1, job.policy.warmup); i++) {
      const s = m.measure.nowMs();
      await run(batch);
      warmupMs.push(m.measure.nowMs() - s);
    }
    const rss = m.memory.sampleRss();
    warm.set(batch, { warmupMs, peakMiB: rss.peakMiB, cumulative: rss.cumulative });
  }
  return warm;
}

/** Pass 2 for one batch: blocks of adapter runs (about PAIR_BLOCK_MS each), each followed by one MatMul per configuration. */
async function timeBatch(
  job: AdapterJob,
  batch: number,
  run: (batch: number) => Promise<unknown>,
  ctx: { m: Modules; pairing: Pairing | null; probe: CoreProbe; warm: Warm; flopsPerImage: number },
): Promise<AdapterBatchResult> {
  const { m, pairing, probe } = ctx;
  const { nowMs, wantsMoreRuns } = m.measure;
  const pairs = pairing?.products ?? [];
  const samplesMs: number[] = [];
  const ceilMs = pairs.map(() => [] as number[]);
  const trips = { ns: [] as Array<number | null>, blockMs: [] as number[] };
  let elapsed = 0;
  let stoppedBy = wantsMoreRuns(job.policy, 0, 0);
  while (!stoppedBy) {
    const blockStart = nowMs();
    const blockFirst = samplesMs.length;
    do {
      const s = nowMs();
      await run(batch);
      const dt = nowMs() - s;
      samplesMs.push(dt);
      elapsed += dt;
      stoppedBy = wantsMoreRuns(job.policy, samplesMs.length, elapsed);
    } while (!stoppedBy && nowMs() - blockStart < PAIR_BLOCK_MS);
    if (probe) {
      trips.ns.push(probe.measure());
      trips.blockMs.push(m.stats.median(samplesMs.slice(blockFirst)));
    }
    for (let k = 0; k < pairs.length; k++) {
      const s = nowMs();
      await pairs[k].run();
      ceilMs[k].push(nowMs() - s);
    }
  }
  const latencyMs = m.stats.summarize(samplesMs);
  const flops = ctx.flopsPerImage * batch;
  const paired = pairing && pairs.length ? m.paired.pairedCeiling(pairs, ceilMs, pairing.unpaired) : null;
  const result: AdapterBatchResult = {
    batch,
    warmupMs: ctx.warm.warmupMs,
    samplesMs,
    stoppedBy: stoppedBy!,
    latencyMs,
    noise: m.noise.noiseBand(samplesMs, latencyMs.median),
    imagesPerSec: batch / (latencyMs.median / 1000),
    flops,
    gflops: flops / (latencyMs.median * 1e6),
    peakRssMiB: ctx.warm.peakMiB,
    peakRssCumulative: ctx.warm.cumulative,
    pairedCeiling: paired,
    // Far or near is judged against the whole bench's lowest round trip (run-bench.ts).
    coreRoundTrip: probe ? m.core.summarizeRoundTrips(trips.ns, trips.blockMs, null) : null,
  };
  const rtt = trips.ns.filter((v): v is number => v !== null);
  const rttText = rtt.length
    ? `, core round trip ${Math.min(...rtt).toFixed(0)}–${Math.max(...rtt).toFixed(0)} ns`
    : '';
  await send({
    type: 'progress',
    text: `batch ${batch}: median ${latencyMs.median.toFixed(1)} ms over ${latencyMs.n} runs${paired ? `, paired ceiling ${paired.gflops.toFixed(1)} GFLOP/s` : ''}${rttText}`,
  });
  return result;
}

/** Pass 3 (--layers): the runtime's own profiler, on a session of its own, after all timing. */
async function profileLayers(
  adapter: Adapter,
  spec: ModelSpec,
  inputs: Map<number, Input>,
  res: AdapterJobResult,
  m: Modules,
): Promise<void> {
  const { profileByBlock } = require('./layers') as typeof import('./layers');
  if (!adapter.profileKernels) res.layersProblem = 'the adapter has no kernel profiler (Adapter.profileKernels)';
  for (const b of res.batches) {
    if (!adapter.profileKernels) {
      b.layers = null;
      continue;
    }
    try {
      const profile = await adapter.profileKernels(inputs.get(b.batch)!, {
        training: false,
        runs: LAYER_PROFILE_RUNS,
      });
      b.layers = profileByBlock(spec, m.flops.modelFlops(spec), profile, b.batch);
      await send({
        type: 'progress',
        text: `batch ${b.batch}: profiled ${LAYER_PROFILE_RUNS} runs (${b.layers.kernelMs.toFixed(1)} ms of kernels per run)`,
      });
    } catch (err) {
      b.layers = null;
      res.layersProblem = `batch ${b.batch}: ${errorText(err).split('\n')[0]}`;
    }
  }
}

/** Builds ResNet-50 and measures it: warm-up and memory, timing with the paired ceiling, --layers. */
async function measure(adapter: Adapter, job: AdapterJob, res: AdapterJobResult, m: Modules): Promise<void> {
  const { nowMs } = m.measure;
  m.memory.resetPeakRss();
  const spec = m.builders.resnet50({ inputShape: job.model.inputShape, classes: job.model.classes });
  let t = nowMs();
  const weights = m.init.initModelWeights(spec);
  res.process.initMs = nowMs() - t;
  t = nowMs();
  await adapter.build(spec, weights);
  res.process.buildMs = nowMs() - t;
  res.process.buildPeakRssMiB = m.memory.sampleRss().peakMiB;
  const flopsPerImage = m.flops.modelFlops(spec).headline;
  const [h, w, c] = job.model.inputShape;
  const inputs = new Map(
    job.batches.map((batch): [number, Input] => [batch, { shape: [batch, h, w, c], data: pixels(batch * h * w * c) }]),
  );
  const run = (batch: number) => adapter.run(inputs.get(batch)!, { training: false });
  const warm = await warmUp(job, run, m);

  // The paired ceiling: MatMul products living next to the adapter (src/calibration/paired.ts).
  const pairing =
    job.pairedCeilingN !== null ? await m.paired.createPairedProducts(job.pairedCeilingN, job.pairedRuntimes) : null;
  if (pairing && pairing.products.length === 0)
    res.pairedCeilingProblem = pairing.unpaired.map((u) => `${u.runtime}: ${u.reason}`).join('; ');
  // Where the host put the cores, after every block (src/calibration/core-latency.ts); null on one core.
  const probe = m.core.startCoreProbe();
  for (const batch of job.batches)
    res.batches.push(await timeBatch(job, batch, run, { m, pairing, probe, warm: warm.get(batch)!, flopsPerImage }));
  for (const p of pairing?.products ?? []) await p.release();
  await probe?.close();
  if (job.layers) await profileLayers(adapter, spec, inputs, res, m);
}

async function adapterJob(job: AdapterJob): Promise<AdapterJobResult> {
  const { m, importMs } = loadModules();
  const baselineRssMiB = m.memory.sampleRss().currentMiB;
  const res: AdapterJobResult = {
    kind: 'adapter',
    available: false,
    description: null,
    batches: [],
    process: { startupMs: ENTRY_MS, importMs, probeMs: 0, initMs: 0, buildMs: 0, baselineRssMiB, buildPeakRssMiB: 0 },
  };
  const entry = (
    await m.pool.adapterPool({ modules: job.adapterModules, commands: job.adapterCommands ?? [] })
  ).entries.find((e) => e.id === job.adapter);
  if (!entry) throw new Error(`bench worker: unknown adapter '${job.adapter}'`);
  const adapter = entry.create();
  if (!(await probeInto(adapter, res, m))) return res;
  try {
    await measure(adapter, job, res, m);
  } catch (err) {
    res.error = errorText(err);
  }
  try {
    await adapter.dispose();
  } catch {
    /* the measurements are taken; a failing dispose does not change them */
  }
  return res;
}

async function work(job: BenchJob): Promise<void> {
  if (job.kind === 'adapter') {
    await send({ type: 'result', result: await adapterJob(job) });
  } else {
    const { measureCeiling } = require('../calibration/ceiling') as typeof import('../calibration/ceiling');
    await send({ type: 'result', result: { kind: 'ceiling', ...(await measureCeiling(job.ceiling)) } });
  }
}

onStart<{ type: 'job'; job: BenchJob }>('job', (msg) => work(msg.job));
