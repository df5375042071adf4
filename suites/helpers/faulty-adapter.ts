/**
 * Deliberately faulty adapters for the runner's tests (never in the public registry: a command
 * loads them only when given `--adapter-module suites/helpers/faulty-adapter.ts`, which
 * suites/helpers/cli.ts adds when a test names a faulty adapter).
 *
 * Each wraps the float64 reference adapter (so untouched cases pass exactly against fixtures made
 * with the reference) and misbehaves in one way. Faults that end the process fire only on
 * training-mode cases, so a run shows both the fault and the cases around it completing.
 *
 *   faulty-segv         training cases: the process kills itself with SIGSEGV (a native crash)
 *   faulty-abort        training cases: process.abort() (SIGABRT, as a failed native assertion)
 *   faulty-exit         training cases: process.exit(3)
 *   faulty-uncaught     training cases: an exception thrown outside the awaited promise chain
 *   faulty-hang         training cases: a busy loop that never yields (the event loop is stuck)
 *   faulty-oom          training cases: keeps allocating until V8 runs out of heap (run the CLI with
 *                       NODE_OPTIONS=--max-old-space-size=N to make that quick)
 *   faulty-throw        every case: run() rejects with an Error
 *   faulty-build-throw  every case: build() rejects
 *   faulty-nan          every case: a NaN in the output
 *   faulty-shape        every case: the output loses its last channel
 *   faulty-values       every case: the output scaled by 1.01
 *   faulty-drift        every case: RESNET_CONFORMANCE_FAULTY_DRIFT (default 1e-7) added to every output value
 *   faulty-unavailable  probe says unavailable (with a fix)
 *   faulty-capture-throw every case: output scaled by 1.01; run() with captures rejects (the diagnosis fails)
 *   faulty-capture-segv  every case: output scaled by 1.01; run() with captures: SIGSEGV (the worker dies diagnosing)
 *   faulty-fpe          a native runtime stand-in: every run raises SIGFPE in the process that loads it
 *                       (as TensorFlow 2.21's oneDNN convolution on AMD Zen 5); its entry has
 *                       `isolate`, so forward/diagnose/classify/evaluate run it in a child process
 *   faulty-known-crash  probe finds a known crash on this CPU (probe result with knownCrash)
 *   faulty-env          its entry has processEnv; the probe says unavailable unless this process got it
 *                       (proves the runner and the bench fork adapters with their entry's processEnv)
 *   faulty-group-first, faulty-group-segv, faulty-group-last
 *                       one process group (AdapterEntry.processGroup): first and last are the reference,
 *                       segv as faulty-segv; describe() settings give the worker's pid
 *   faulty-layer        every case: one layer's output (RESNET_CONFORMANCE_FAULTY_LAYER, default
 *                       batch_normalization_1) gets 1e-3 (RESNET_CONFORMANCE_FAULTY_LAYER_DELTA) added, everything else exact in float64
 *                       (suites/helpers/perturbed-adapter.ts): the diagnosis must name that layer
 */
import { knownCrashReport, knownCrashText, TF_ONEDNN_CONV_SIGFPE } from '../../src/adapters/known-crashes';
import { ReferenceAdapter } from '../../src/adapters/reference';
import type {
  Adapter,
  AdapterDescription,
  AdapterEntry,
  ProbeResult,
  RunOptions,
  RunResult,
} from '../../src/adapters/types';
import { PerturbedAdapter } from './perturbed-adapter';
import type { ModelSpec, ModelWeights, ParamCount } from '../../src/model/types';
import type { Tensor } from '../../src/tensor';

export type FaultMode =
  | 'segv'
  | 'abort'
  | 'exit'
  | 'uncaught'
  | 'hang'
  | 'oom'
  | 'throw'
  | 'build-throw'
  | 'nan'
  | 'shape'
  | 'values'
  | 'drift'
  | 'unavailable'
  | 'env'
  | 'capture-throw'
  | 'capture-segv'
  | 'fpe'
  | 'known-crash'
  /** Exactly the reference (the process-group members that pass). */
  | 'none';

export const FAULT_MODES: readonly FaultMode[] = [
  'segv',
  'abort',
  'exit',
  'uncaught',
  'hang',
  'oom',
  'throw',
  'build-throw',
  'nan',
  'shape',
  'values',
  'drift',
  'unavailable',
  'env',
  'capture-throw',
  'capture-segv',
  'fpe',
  'known-crash',
];

export const DRIFT_ENV = 'RESNET_CONFORMANCE_FAULTY_DRIFT';

/** faulty-env: the variable its entry's processEnv sets, and the value its probe requires. */
export const ENV_CHECK_VAR = 'RESNET_CONFORMANCE_FAULTY_ENV_CHECK';
export const ENV_CHECK_VALUE = 'from-the-adapter-entry';

/** faulty-layer: the layer to break (a layer name of the model under test). */
export const FAULTY_LAYER_ENV = 'RESNET_CONFORMANCE_FAULTY_LAYER';
export const DEFAULT_FAULTY_LAYER = 'batch_normalization_1';
/** What faulty-layer adds to every element of that layer's output (RESNET_CONFORMANCE_FAULTY_LAYER_DELTA overrides it). */
export const FAULTY_LAYER_DELTA = 1e-3;
export const FAULTY_LAYER_DELTA_ENV = 'RESNET_CONFORMANCE_FAULTY_LAYER_DELTA';

export class FaultyAdapter implements Adapter {
  readonly id: string;
  private readonly inner = new ReferenceAdapter({ id: 'reference', precision: 'fp64' });

  constructor(readonly mode: FaultMode) {
    this.id = `faulty-${mode}`;
  }

  async probe(): Promise<ProbeResult> {
    if (this.mode === 'unavailable')
      return {
        available: false,
        reason: 'injected: this runtime is not installed',
        fix: 'nothing to fix: a test adapter',
      };
    if (this.mode === 'known-crash') {
      const k = knownCrashReport({
        crash: TF_ONEDNN_CONV_SIGFPE,
        probe: 'injected',
        signal: 'SIGFPE',
        cpu: 'injected CPU',
        cached: false,
      });
      return { available: false, reason: knownCrashText(k), fix: k.workaround, knownCrash: k };
    }
    if (this.mode === 'env' && process.env[ENV_CHECK_VAR] !== ENV_CHECK_VALUE) {
      return {
        available: false,
        reason: `${ENV_CHECK_VAR} is ${JSON.stringify(process.env[ENV_CHECK_VAR] ?? null)} in this process, not '${ENV_CHECK_VALUE}': the entry's processEnv was not applied`,
        fix: "fork the adapter's process with { ...process.env, ...entry.processEnv }",
      };
    }
    return { available: true };
  }

  async describe(): Promise<AdapterDescription> {
    const d = await this.inner.describe();
    return { ...d, runtime: `faulty (${this.mode})`, notes: [...d.notes, `test adapter: ${this.mode}`] };
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    if (this.mode === 'build-throw') throw new Error('injected build failure');
    await this.inner.build(spec, weights);
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    if (this.mode === 'fpe') {
      process.kill(process.pid, 'SIGFPE');
      await new Promise(() => undefined);
    }
    if (opts.training) {
      switch (this.mode) {
        case 'segv':
          process.kill(process.pid, 'SIGSEGV');
          await new Promise(() => undefined);
          break;
        case 'abort':
          process.abort();
          break;
        case 'exit':
          process.exit(3);
          break;
        case 'uncaught':
          setImmediate(() => {
            throw new Error('injected uncaught exception');
          });
          await new Promise(() => undefined);
          break;
        case 'oom': {
          const hoard: number[][] = [];
          for (;;) hoard.push(new Array<number>(1 << 16).fill(hoard.length));
        }
        case 'hang':
          // eslint-disable-next-line no-constant-condition
          for (;;) {
            /* never yields */
          }
        default:
          break;
      }
    }
    if (this.mode === 'throw') throw new Error('injected run failure');
    if (opts.capture?.length) {
      if (this.mode === 'capture-throw') throw new Error('injected: this runtime cannot capture intermediate layers');
      if (this.mode === 'capture-segv') {
        process.kill(process.pid, 'SIGSEGV');
        await new Promise(() => undefined);
      }
    }
    const r = await this.inner.run(input, opts);
    const out = r.output;
    switch (this.mode) {
      case 'nan': {
        const data = Float64Array.from(out.data);
        data[0] = NaN;
        return { ...r, output: { shape: out.shape, data } };
      }
      case 'shape': {
        const c = out.shape[out.shape.length - 1];
        const n = out.data.length / c;
        const data = new Float64Array(n * (c - 1));
        for (let i = 0; i < n; i++) for (let j = 0; j < c - 1; j++) data[i * (c - 1) + j] = out.data[i * c + j];
        return { ...r, output: { shape: [...out.shape.slice(0, -1), c - 1], data } };
      }
      case 'values':
      case 'capture-throw':
      case 'capture-segv':
        return { ...r, output: { shape: out.shape, data: Float64Array.from(out.data, (v) => v * 1.01) } };
      case 'drift': {
        const d = Number(process.env[DRIFT_ENV] ?? '1e-7');
        return { ...r, output: { shape: out.shape, data: Float64Array.from(out.data, (v) => v + d) } };
      }
      default:
        return r;
    }
  }

  paramCount(): Promise<ParamCount> {
    return this.inner.paramCount();
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

/** Process-group members: describe() gives the worker's pid, which tells which process ran the adapter. */
class GroupedAdapter extends FaultyAdapter {
  constructor(member: string, mode: FaultMode) {
    super(mode);
    (this as { id: string }).id = `faulty-group-${member}`;
  }

  override async describe(): Promise<AdapterDescription> {
    const d = await super.describe();
    return { ...d, settings: { ...d.settings, pid: process.pid } };
  }
}

/** The process group of the runner's tests (AdapterEntry.processGroup): first, segv, last, in one worker. */
export const TEST_PROCESS_GROUP = 'faulty-test-group';
const GROUP_MEMBERS: Array<[string, FaultMode]> = [
  ['first', 'none'],
  ['segv', 'segv'],
  ['last', 'none'],
];

/** The adapter-module contract (src/adapters/pool.ts): `adapters: AdapterEntry[]`. */
export const adapters: AdapterEntry[] = [
  ...FAULT_MODES.map((mode): AdapterEntry => ({
    id: `faulty-${mode}`,
    summary: `test adapter: ${mode}`,
    profile: 'fp64-reference',
    outOfTheBox: false,
    ...(mode === 'env' ? { processEnv: { [ENV_CHECK_VAR]: ENV_CHECK_VALUE } } : {}),
    ...(mode === 'fpe' ? { isolate: true } : {}),
    create: () => new FaultyAdapter(mode),
  })),
  ...GROUP_MEMBERS.map(([member, mode]): AdapterEntry => ({
    id: `faulty-group-${member}`,
    summary: `test adapter: process group member (${mode})`,
    profile: 'fp64-reference',
    outOfTheBox: false,
    processGroup: TEST_PROCESS_GROUP,
    create: () => new GroupedAdapter(member, mode),
  })),
  {
    id: 'faulty-layer',
    summary: "test adapter: one layer's output off by 1e-3",
    profile: 'fp64-reference',
    outOfTheBox: false,
    create: () =>
      new PerturbedAdapter({
        id: 'faulty-layer',
        arithmetic: 'fp64',
        perturb: {
          kind: 'add',
          layer: process.env[FAULTY_LAYER_ENV] ?? DEFAULT_FAULTY_LAYER,
          value: Number(process.env[FAULTY_LAYER_DELTA_ENV] ?? FAULTY_LAYER_DELTA),
        },
      }),
  },
];
