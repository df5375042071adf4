/**
 * An adapter whose runtime can die of a native crash (AdapterEntry.isolate: libtensorflow under
 * tfjs-node, with a known SIGFPE on some CPUs) runs in a child process of its own in the commands
 * that otherwise run adapters inside the harness's process (forward, diagnose, classify, evaluate):
 * the child (./program.ts) serves it over the external adapter protocol, so a crash is that
 * request's 'crashed' error — "the program exited (signal SIGFPE: ...)" with the likely known
 * cause — and the command reports it and exits instead of dying. The runner and the bench run every
 * adapter in a worker process already, and use the in-process adapter there.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CommandAdapter } from '../external/command';
import { likelyKnownCrash } from '../known-crashes';
import type { Adapter, AdapterEntry, ProbeOptions, ProbeResult, RunOptions, RunResult } from '../types';
import type { ModelSpec, ModelWeights, ParamCount } from '../../model/types';
import type { Tensor } from '../../tensor';

/** node [--require tsx/cjs] program: the .ts source in a checkout, the built .js in the package. */
function programArgv(): string[] {
  const js = path.join(__dirname, 'program.js');
  if (fs.existsSync(js)) return [process.execPath, js];
  return [process.execPath, '--require', require.resolve('tsx/cjs'), path.join(__dirname, 'program.ts')];
}

/** Adds the likely known cause to a crash of the child ("exited (signal SIGFPE ...)"). */
function withCause(id: string, err: unknown): unknown {
  const e = err as Error;
  const m = /exited \(signal (SIG[A-Z]+)/.exec(e?.message ?? '');
  const known = m ? likelyKnownCrash(id, m[1]) : undefined;
  if (known)
    e.message += ` — most likely the known crash ${known.id}: ${known.title}; workaround: ${known.workaround}; see ${known.docs}`;
  return err;
}

class IsolatedAdapter implements Adapter {
  private readonly child: CommandAdapter;

  constructor(
    private readonly entry: AdapterEntry,
    modules: readonly string[],
  ) {
    this.child = new CommandAdapter({
      id: entry.id,
      command: [...programArgv(), JSON.stringify({ id: entry.id, modules })],
      env: entry.processEnv,
      summary: entry.summary,
      fix: 'see README.md (adapters)',
    });
  }

  get id(): string {
    return this.entry.id;
  }

  async probe(_opts?: ProbeOptions): Promise<ProbeResult> {
    // The adapter's own probe first, here: it loads nothing into this process (a known crash is
    // found by its child-process probe) and keeps its reasons, fixes and knownCrash as they are.
    const here = this.entry.create();
    try {
      const p = await here.probe();
      if (!p.available) return p;
    } finally {
      await here.dispose().catch(() => undefined);
    }
    return this.child.probe();
  }

  describe() {
    return this.child.describe();
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    await this.child.build(spec, weights).catch((e: unknown) => {
      throw withCause(this.id, e);
    });
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    return this.child.run(input, opts).catch((e: unknown) => {
      throw withCause(this.id, e);
    });
  }

  paramCount(): Promise<ParamCount> {
    return this.child.paramCount();
  }

  dispose(): Promise<void> {
    return this.child.dispose();
  }
}

/**
 * The adapter for a command that runs adapters in its own process: the entry's own adapter, or for
 * an entry marked `isolate` the same adapter in a child process. `modules`: the --adapter-module
 * files of the pool (the child loads them to find a module's entry).
 */
export function adapterForThisProcess(entry: AdapterEntry, modules: readonly string[] = []): Adapter {
  return entry.isolate ? new IsolatedAdapter(entry, modules) : entry.create();
}
