/**
 * WebGPU in Node.js on Dawn: `tfjs-webgpu-node`. The runtime runs in a program of its own
 * (./program.ts) spoken to over the external adapter protocol (../external/command.ts: a crash,
 * hang or lost device of that process is the call's crashed / timeout, the program is restarted and
 * the model rebuilt for the next call), started with the Vulkan environment of ./environment.ts.
 * Loads nothing at import.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CommandAdapter } from '../external/command';
import type { Adapter } from '../types';
import { dawnEnvironment, dawnEnvironmentProblem, dawnTimeoutMs } from './environment';

export { DAWN_FIX, DAWN_ICD_ENV, dawnEnvironment, dawnEnvironmentProblem } from './environment';
export type { DawnIcdMode } from './environment';

/** node [--require tsx/cjs] program: the .ts source in a checkout, the built .js in the package. */
export function dawnProgramArgv(): string[] {
  const js = path.join(__dirname, 'program.js');
  if (fs.existsSync(js)) return [process.execPath, js];
  return [process.execPath, '--require', require.resolve('tsx/cjs'), path.join(__dirname, 'program.ts')];
}

export interface DawnAdapterOptions {
  /** Extra environment for the program (tests: a fault, another ICD). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

export function tfjsDawnAdapter(id = 'tfjs-webgpu-node', opts: DawnAdapterOptions = {}): Adapter {
  const vars = { ...process.env, ...opts.env };
  const problem = dawnEnvironmentProblem(vars);
  const env = problem ? {} : dawnEnvironment(vars).env;
  const adapter = new CommandAdapter({
    id,
    command: dawnProgramArgv(),
    env: { ...opts.env, ...env },
    timeoutMs: opts.timeoutMs ?? dawnTimeoutMs(vars),
    helloTimeoutMs: 60_000,
    fix: 'npm ci; see docs/browser.md, "WebGPU in Node (Dawn)"',
  });
  if (problem) {
    adapter.probe = async () => ({ ...problem });
  }
  return adapter;
}
