/**
 * Adapter worker: a child process (forked by the orchestrator, run through tsx) that probes one
 * adapter, describes it and evaluates its cases, sending each result as soon as it is known. A crash
 * here (segfault, abort, out of memory, uncaught exception) only ends this process: the orchestrator
 * records it and goes on.
 *
 * A worker runs one adapter, or the adapters of one process group one after the other
 * (AdapterEntry.processGroup: the browser adapters share this process's Chromium, launched once; the
 * reference adapters its start-up, weight-cache read and compiled code).
 *
 * Cases are run grouped by model arguments (in first-appearance order), so each model is built once.
 * Then, unless turned off, every case that ended 'fail-numeric' (or passed but will be 'regressed'
 * against the baseline: AdapterTask.regressionWatch) is diagnosed (./diagnose-failure),
 * the model still built first.
 */
import { loadManifest } from '../golden/load';
import type { FixtureCase, FixtureManifest } from '../golden/manifest';
import type { Adapter, AdapterEntry, ProbeResult } from '../adapters/types';
import { adapterPool } from '../adapters/pool';
import { BROWSER_PROCESS_GROUP, BrowserHost } from '../adapters/browser/host';
import { diagnoseFailure } from './diagnose-failure';
import { willRegress } from './regression';
import { builtKeyOf, CaseTensorCache, casesByModel, executeCase, type EvaluationContext } from './execute-case';
import type { AdapterTask, StartMessage, WorkerMessage } from './protocol';
import { workerChannel } from '../workers/worker-bootstrap';

// The orchestrator going away (killed, interrupted) ends the worker: nobody will read the results.
const { send, onStart } = workerChannel<WorkerMessage>('src/runner/worker.ts', { exitOnDisconnect: true });

function grouped(cases: FixtureCase[]): FixtureCase[] {
  return [...casesByModel(cases).values()].flat();
}

/** Cases to diagnose, those of the model currently built first (no rebuild), then grouped by model. */
function diagnosisOrder(cases: FixtureCase[], builtKey: string | undefined): FixtureCase[] {
  const g = grouped(cases);
  return [...g.filter((k) => builtKeyOf(k) === builtKey), ...g.filter((k) => builtKeyOf(k) !== builtKey)];
}

/** Probe and describe; false when the adapter is unavailable (its cases are not run). */
async function probeAndDescribe(adapter: Adapter, id: string): Promise<boolean> {
  let probe: ProbeResult;
  const tp = performance.now();
  try {
    probe = await adapter.probe({ dedicatedProcess: true });
  } catch (err) {
    probe = { available: false, reason: `probe threw: ${err instanceof Error ? err.message : String(err)}` };
  }
  await send({
    type: 'probe',
    adapter: id,
    available: probe.available,
    reason: probe.reason,
    fix: probe.fix,
    ...(probe.knownCrash ? { knownCrash: probe.knownCrash } : {}),
    ms: performance.now() - tp,
  });
  if (!probe.available) return false;
  const td = performance.now();
  try {
    const description = await adapter.describe();
    await send({ type: 'describe', adapter: id, description, ms: performance.now() - td });
  } catch (err) {
    await send({
      type: 'describe',
      adapter: id,
      description: null,
      error: err instanceof Error ? err.message : String(err),
      ms: performance.now() - td,
    });
  }
  return true;
}

interface WorkerSetup {
  start: StartMessage;
  manifest: FixtureManifest;
  lookup(id: string): FixtureCase;
  /** Kept only when several adapters run here (a process group): each case's files are read once. */
  caseTensors?: CaseTensorCache;
}

/** One adapter's task: probe, its cases, the diagnoses of its numeric failures, dispose. */
async function runTask(entry: AdapterEntry, task: AdapterTask, loadSetup: () => WorkerSetup): Promise<void> {
  const id = entry.id;
  const adapter = entry.create();
  if (!task.skipProbe && !(await probeAndDescribe(adapter, id))) return;
  const setup = loadSetup();
  const { start } = setup;
  const cases = task.cases.map(setup.lookup);
  const toDiagnose = start.diagnose ? task.diagnoseAlso.map(setup.lookup) : [];
  const ctx: EvaluationContext = {
    fixturesDir: start.fixturesDir,
    manifest: setup.manifest,
    reuseRuns: true,
    ...(setup.caseTensors ? { caseTensors: setup.caseTensors } : {}),
  };
  for (const k of grouped(cases)) {
    await send({ type: 'case-start', adapter: id, case: k.id });
    const result = await executeCase(adapter, entry, k, ctx);
    await send({ type: 'case-result', adapter: id, result });
    if (start.diagnose && (result.status === 'fail-numeric' || willRegress(result, task.regressionWatch)))
      toDiagnose.push(k);
  }
  for (const k of diagnosisOrder(toDiagnose, ctx.built?.key)) {
    await send({ type: 'diagnosis-start', adapter: id, case: k.id });
    const d = await diagnoseFailure(adapter, entry, k, ctx);
    await send({ type: 'diagnosis', adapter: id, case: k.id, ...d });
  }
  try {
    await adapter.dispose();
  } catch {
    /* results are already sent; a failing dispose does not change them */
  }
}

async function work(start: StartMessage): Promise<void> {
  await send({ type: 'ready' });
  const pool = await adapterPool({ modules: start.adapterModules, commands: start.adapterCommands ?? [] });
  const entries = start.tasks.map((t) => {
    const entry = pool.entries.find((e) => e.id === t.adapter);
    if (!entry) throw new Error(`worker: unknown adapter '${t.adapter}'`);
    return entry;
  });
  let loaded: WorkerSetup | undefined;
  // The manifest is read once, when the first available adapter needs it.
  const setup = (): WorkerSetup => {
    if (loaded) return loaded;
    const manifest = loadManifest(start.fixturesDir);
    const byId = new Map(manifest.cases.map((k) => [k.id, k]));
    loaded = {
      start,
      manifest,
      ...(start.tasks.length > 1 ? { caseTensors: new CaseTensorCache() } : {}),
      lookup: (id) => {
        const k = byId.get(id);
        if (!k) throw new Error(`worker: case '${id}' is not in ${start.fixturesDir}/manifest.json`);
        return k;
      },
    };
    return loaded;
  };
  // Browser adapters one after the other keep the one Chromium up in between (the host would close
  // it a moment after an adapter lets go, and the next one would launch another).
  const host =
    entries.length > 1 && entries.some((e) => e.processGroup === BROWSER_PROCESS_GROUP) ? BrowserHost.shared() : null;
  host?.acquire();
  try {
    for (const [i, task] of start.tasks.entries()) {
      await send({ type: 'adapter-start', adapter: task.adapter });
      await runTask(entries[i], task, setup);
      await send({ type: 'adapter-done', adapter: task.adapter });
    }
  } finally {
    host?.release();
  }
}

onStart<StartMessage>('start', async (msg) => {
  await work(msg);
  await send({ type: 'done' });
});
