/**
 * Adapter worker: a child process (forked by the orchestrator, run through tsx) that probes one
 * adapter, describes it and evaluates its cases, sending each result as soon as it is known. A crash
 * here (segfault, abort, out of memory, uncaught exception) only ends this process: the orchestrator
 * records it and goes on.
 *
 * Cases are run grouped by model arguments (in first-appearance order), so each model is built once.
 */
import { modelKey, loadManifest } from '../fixtures/load';
import type { FixtureCase } from '../fixtures/manifest';
import type { Adapter, AdapterEntry } from '../adapters/types';
import { runnableAdapters } from './adapters';
import { evaluateCase, type EvaluationContext } from './evaluate';
import type { StartMessage, WorkerMessage } from './protocol';

function send(msg: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error('worker.ts must be started by the orchestrator (child_process.fork with an IPC channel)'));
      return;
    }
    process.send(msg, (err: Error | null) => (err ? reject(err) : resolve()));
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

async function fatal(err: unknown): Promise<never> {
  try {
    await send({ type: 'fatal', error: errorText(err) });
  } finally {
    process.exit(70);
  }
}

process.on('uncaughtException', (err) => void fatal(err));
// The orchestrator went away (killed, interrupted): nobody will read the results.
process.on('disconnect', () => process.exit(0));
process.on('unhandledRejection', (err) => void fatal(err));

function grouped(cases: FixtureCase[]): FixtureCase[] {
  const groups = new Map<string, FixtureCase[]>();
  for (const k of cases) {
    const key = modelKey(k.model);
    const g = groups.get(key);
    if (g) g.push(k);
    else groups.set(key, [k]);
  }
  return [...groups.values()].flat();
}

async function work(start: StartMessage): Promise<void> {
  await send({ type: 'ready' });
  const entry: AdapterEntry | undefined = runnableAdapters().find((e) => e.id === start.adapter);
  if (!entry) throw new Error(`worker: unknown adapter '${start.adapter}'`);
  const adapter: Adapter = entry.create();

  if (!start.skipProbe) {
    let probe;
    try {
      probe = await adapter.probe();
    } catch (err) {
      probe = { available: false, reason: `probe threw: ${err instanceof Error ? err.message : String(err)}` };
    }
    await send({ type: 'probe', available: probe.available, reason: probe.reason, fix: probe.fix });
    if (!probe.available) return;
    try {
      await send({ type: 'describe', description: await adapter.describe() });
    } catch (err) {
      await send({ type: 'describe', description: null, error: err instanceof Error ? err.message : String(err) });
    }
  }

  const manifest = loadManifest(start.fixturesDir);
  const byId = new Map(manifest.cases.map((k) => [k.id, k]));
  const cases = start.cases.map((id) => {
    const k = byId.get(id);
    if (!k) throw new Error(`worker: case '${id}' is not in ${start.fixturesDir}/manifest.json`);
    return k;
  });
  const ctx: EvaluationContext = { fixturesDir: start.fixturesDir, manifest };
  for (const k of grouped(cases)) {
    await send({ type: 'case-start', case: k.id });
    const result = await evaluateCase(adapter, entry, k, ctx);
    await send({ type: 'case-result', result });
  }
  try {
    await adapter.dispose();
  } catch {
    /* results are already sent; a failing dispose does not change them */
  }
}

process.once('message', (msg: StartMessage) => {
  if (msg?.type !== 'start') {
    void fatal(new Error(`worker: expected a start message, got ${JSON.stringify(msg)}`));
    return;
  }
  work(msg).then(
    async () => {
      await send({ type: 'done' });
      // Runtimes may keep thread pools alive; the work is over, so leave explicitly.
      process.exit(0);
    },
    (err) => fatal(err),
  );
});
