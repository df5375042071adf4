/**
 * The shape of a tfjs backend definition (./backends.ts lists them), apart from the list so that a
 * backend kept in its own file (./webgpu-dawn-backend.ts) can implement it without importing the list.
 */
import type { CrashProbe, KnownCrash } from '../known-crashes';
import type { ProbeResult } from '../types';
import type { ChildProbeArgs } from './child-probe';
import type { Tf } from './tf-loader';

export type TfjsBackendName = 'cpu' | 'wasm' | 'tensorflow' | 'webgpu';
export type Settings = Record<string, string | number | boolean>;

export interface TfjsBackendDef {
  /** Adapter id. */
  id: string;
  /** Name passed to tf.setBackend. */
  backendName: TfjsBackendName;
  /** npm package that provides the backend. */
  packageName: string;
  device: 'cpu' | 'gpu';
  precision: string;
  notes: string[];
  /** The command that makes the adapter available (used when a check fails). */
  fix: string;
  /** Checks what can be checked without loading anything. */
  preflight(): ProbeResult;
  /** Loads the backend package so that `backendName` is registered in tf's engine (idempotent). */
  register(tf: Tf): Promise<void>;
  /** What probe() loads in a child process to check the backend really works (null: preflight is enough). */
  childProbe(): ChildProbeArgs | null;
  /** A known native crash of this backend's runtime and the child process that detects it (./known-crashes). */
  crashProbe?(): { crash: KnownCrash; probe: CrashProbe } | null;
  settings(tf: Tf): Promise<Settings>;
}
