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

async function adapterJob(job: Extract<BenchJob, { kind: 'adapter' }>): Promise<AdapterJobResult> {
  const tImport = performance.now();
  const memory = require('./memory') as typeof import('./memory');
  const baselineRssMiB = memory.sampleRss().currentMiB;
  const { adapterPool } = require('../adapters/pool') as typeof import('../adapters/pool');
  const { resnet50 } = require('../model/builders') as typeof import('../model/builders');
  const { initModelWeights } = require('../init/model-weights') as typeof import('../init/model-weights');
  const { modelFlops } = require('./flops') as typeof import('./flops');
  const { wantsMoreRuns, nowMs } = require('../util/measure') as typeof import('../util/measure');
  const { median, summarize } = require('../util/stats') as typeof import('../util/stats');
  const { createPairedProducts, pairedCeiling } =
    require('../calibration/paired') as typeof import('../calibration/paired');
  const { noiseBand } = require('../calibration/noise') as typeof import('../calibration/noise');
  const { startCoreProbe, summarizeRoundTrips } =
    require('../calibration/core-latency') as typeof import('../calibration/core-latency');
  const importMs = performance.now() - tImport;

  const res: AdapterJobResult = {
    kind: 'adapter',
    available: false,
    description: null,
    batches: [],
    process: { startupMs: ENTRY_MS, importMs, probeMs: 0, initMs: 0, buildMs: 0, baselineRssMiB, buildPeakRssMiB: 0 },
  };
  const entry = (await adapterPool({ modules: job.adapterModules, commands: job.adapterCommands ?? [] })).entries.find(
    (e) => e.id === job.adapter,
  );
  if (!entry) throw new Error(`bench worker: unknown adapter '${job.adapter}'`);
  const adapter = entry.create();
  let t = nowMs();
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
  res.process.probeMs = nowMs() - t;
  if (!res.available) return res;
  try {
    res.description = await adapter.describe();
  } catch (err) {
    res.error = `describe() threw: ${(err as Error).message}`;
  }

  try {
    memory.resetPeakRss();
    const spec = resnet50({ inputShape: job.model.inputShape, classes: job.model.classes });
    t = nowMs();
    const weights = initModelWeights(spec);
    res.process.initMs = nowMs() - t;
    t = nowMs();
    await adapter.build(spec, weights);
    res.process.buildMs = nowMs() - t;
    res.process.buildPeakRssMiB = memory.sampleRss().peakMiB;
    const flopsPerImage = modelFlops(spec).headline;
    const [h, w, c] = job.model.inputShape;
    const inputs = new Map(
      job.batches.map((batch) => [batch, { shape: [batch, h, w, c], data: pixels(batch * h * w * c) }]),
    );
    const run = (batch: number) => adapter.run(inputs.get(batch)!, { training: false });

    // Pass 1, warm-up and memory: each batch's peak RSS belongs to the adapter alone (no MatMul session exists yet).
    const warm = new Map<number, { warmupMs: number[]; peakMiB: number; cumulative: boolean }>();
    for (const batch of job.batches) {
      memory.resetPeakRss();
      const warmupMs: number[] = [];
      for (let i = 0; i < Math.max(1, job.policy.warmup); i++) {
        const s = nowMs();
        await run(batch);
        warmupMs.push(nowMs() - s);
      }
      const rss = memory.sampleRss();
      warm.set(batch, { warmupMs, peakMiB: rss.peakMiB, cumulative: rss.cumulative });
    }

    // The paired ceiling: MatMul products living next to the adapter (src/calibration/paired.ts).
    const pairing =
      job.pairedCeilingN !== null ? await createPairedProducts(job.pairedCeilingN, job.pairedRuntimes) : null;
    const pairs = pairing?.products ?? [];
    if (pairing && pairs.length === 0)
      res.pairedCeilingProblem = pairing.unpaired.map((u) => `${u.runtime}: ${u.reason}`).join('; ');

    // Where the host put the cores, after every block (src/calibration/core-latency.ts); null on one core.
    const probe = startCoreProbe();

    // Pass 2, timing: blocks of adapter runs (about PAIR_BLOCK_MS each), each followed by one MatMul per configuration.
    for (const batch of job.batches) {
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
          trips.blockMs.push(median(samplesMs.slice(blockFirst)));
        }
        for (let k = 0; k < pairs.length; k++) {
          const s = nowMs();
          await pairs[k].run();
          ceilMs[k].push(nowMs() - s);
        }
      }
      const latencyMs = summarize(samplesMs);
      const flops = flopsPerImage * batch;
      const wm = warm.get(batch)!;
      const paired = pairing && pairs.length ? pairedCeiling(pairs, ceilMs, pairing.unpaired) : null;
      res.batches.push({
        batch,
        warmupMs: wm.warmupMs,
        samplesMs,
        stoppedBy: stoppedBy!,
        latencyMs,
        noise: noiseBand(samplesMs, latencyMs.median),
        imagesPerSec: batch / (latencyMs.median / 1000),
        flops,
        gflops: flops / (latencyMs.median * 1e6),
        peakRssMiB: wm.peakMiB,
        peakRssCumulative: wm.cumulative,
        pairedCeiling: paired,
        // Far or near is judged against the whole bench's lowest round trip (run-bench.ts).
        coreRoundTrip: probe ? summarizeRoundTrips(trips.ns, trips.blockMs, null) : null,
      });
      const rtt = trips.ns.filter((v): v is number => v !== null);
      const rttText = rtt.length
        ? `, core round trip ${Math.min(...rtt).toFixed(0)}–${Math.max(...rtt).toFixed(0)} ns`
        : '';
      await send({
        type: 'progress',
        text: `batch ${batch}: median ${latencyMs.median.toFixed(1)} ms over ${latencyMs.n} runs${paired ? `, paired ceiling ${paired.gflops.toFixed(1)} GFLOP/s` : ''}${rttText}`,
      });
    }
    for (const p of pairs) await p.release();
    await probe?.close();

    // Pass 3 (--layers): the runtime's own profiler, on a session of its own, after all timing.
    if (job.layers) {
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
          b.layers = profileByBlock(spec, modelFlops(spec), profile, b.batch);
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
