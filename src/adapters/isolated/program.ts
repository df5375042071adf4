/**
 * The child side of an isolated adapter (./index.ts): serves one adapter of the pool (the registry,
 * plus the --adapter-module files named in argv) over the external adapter protocol on stdin/stdout.
 * Its runtime is loaded here, so a native crash ends this process only.
 *
 *   node program.js '{"id":"tfjs-node","modules":[]}'
 */
import { serveAdapter } from '../external/serve';
import { adapterPool } from '../pool';

async function main(): Promise<void> {
  const { id, modules } = JSON.parse(process.argv[2] ?? '{}') as { id?: string; modules?: string[] };
  const pool = await adapterPool({ modules: modules ?? [] });
  const entry = pool.entries.find((e) => e.id === id);
  if (!entry) throw new Error(`isolated adapter program: unknown adapter '${id}'`);
  serveAdapter(entry.create(), `resnet-conformance isolated ${entry.id}`, 'protocol-1');
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
