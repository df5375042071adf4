/**
 * Adapter worker: a child process (forked by the orchestrator, run through tsx) that probes one
 * adapter, describes it and evaluates its cases, sending each result as soon as it is known. A crash
 * here (segfault, abort, out of memory, uncaught exception) only ends this process: the orchestrator
 * records it and goes on.
 *
 * Cases are run grouped by model arguments (in first-appearance order), so each model is built once.
 * Then, unless turned off, every case that ended 'fail-numeric' is diagnosed (./diagnose-failure),
 * the model still built first.
 */
import { loadManifest } from '../golden/load';
import type { FixtureCase } from '../golden/manifest';
import type { Adapter, AdapterEntry, ProbeResult } from '../adapters/types';
import { adapterPool } from '../adapters/pool';
import { diagnoseFailure } from './diagnose-failure';
import { builtKeyOf, casesByModel, executeCase, type EvaluationContext } from './execute-case';
import type { StartMessage, WorkerMessage } from './protocol';
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

async function work(start: StartMessage): Promise<void> {
  await send({ type: 'ready' });
  const entry: AdapterEntry | undefined = (
    await adapterPool({ modules: start.adapterModules, commands: start.adapterCommands ?? [] })
  ).entries.find((e) => e.id === start.adapter);
  if (!entry) throw new Error(`worker: unknown adapter '${start.adapter}'`);
  const adapter: Adapter = entry.create();

  if (!start.skipProbe) {
    let probe: ProbeResult;
    try {
      probe = await adapter.probe({ dedicatedProcess: true });
    } catch (err) {
      probe = { available: false, reason: `probe threw: ${err instanceof Error ? err.message : String(err)}` };
    }
    await send({
      type: 'probe',
      available: probe.available,
      reason: probe.reason,
      fix: probe.fix,
      ...(probe.knownCrash ? { knownCrash: probe.knownCrash } : {}),
    });
    if (!probe.available) return;
    try {
      await send({ type: 'describe', description: await adapter.describe() });
    } catch (err) {
      await send({ type: 'describe', description: null, error: err instanceof Error ? err.message : String(err) });
    }
  }

  const manifest = loadManifest(start.fixturesDir);
  const byId = new Map(manifest.cases.map((k) => [k.id, k]));
  const lookup = (id: string): FixtureCase => {
    const k = byId.get(id);
    if (!k) throw new Error(`worker: case '${id}' is not in ${start.fixturesDir}/manifest.json`);
    return k;
  };
  const cases = start.cases.map(lookup);
  const toDiagnose = start.diagnose ? start.diagnoseAlso.map(lookup) : [];
  const ctx: EvaluationContext = { fixturesDir: start.fixturesDir, manifest };
  for (const k of grouped(cases)) {
    await send({ type: 'case-start', case: k.id });
    const result = await executeCase(adapter, entry, k, ctx);
    await send({ type: 'case-result', result });
    if (start.diagnose && result.status === 'fail-numeric') toDiagnose.push(k);
  }
  for (const k of diagnosisOrder(toDiagnose, ctx.built?.key)) {
    await send({ type: 'diagnosis-start', case: k.id });
    const d = await diagnoseFailure(adapter, entry, k, ctx);
    await send({ type: 'diagnosis', case: k.id, ...d });
  }
  try {
    await adapter.dispose();
  } catch {
    /* results are already sent; a failing dispose does not change them */
  }
}

onStart<StartMessage>('start', async (msg) => {
  await work(msg);
  await send({ type: 'done' });
});
