import type { Adapter, KernelProfile, RunOptions, RunResult } from './types';
import type { Tensor } from '../tensor';

/**
 * Wraps an adapter and forwards every call unchanged; `observeRun` sees each run() call (the
 * runner times runs with it and keeps the last result for a failure diagnosis).
 */
export class ObservedAdapter implements Adapter {
  constructor(
    protected readonly inner: Adapter,
    private readonly observeRun: (call: () => Promise<RunResult>) => Promise<RunResult>,
    private readonly idOverride?: string,
  ) {}
  get id(): string {
    return this.idOverride ?? this.inner.id;
  }
  probe(...a: Parameters<Adapter['probe']>) {
    return this.inner.probe(...a);
  }
  describe() {
    return this.inner.describe();
  }
  build(...a: Parameters<Adapter['build']>) {
    return this.inner.build(...a);
  }
  paramCount() {
    return this.inner.paramCount();
  }
  dispose() {
    return this.inner.dispose();
  }
  /** Present when the wrapped adapter has it. */
  get profileKernels():
    ((input: Tensor, opts: { training: boolean; runs: number }) => Promise<KernelProfile>) | undefined {
    const inner = this.inner;
    return inner.profileKernels ? (input, opts) => inner.profileKernels!(input, opts) : undefined;
  }
  /** Present when the wrapped adapter has it. */
  get runtimeSetupMs(): (() => number) | undefined {
    const inner = this.inner;
    return inner.runtimeSetupMs ? () => inner.runtimeSetupMs!() : undefined;
  }
  /** Present when the wrapped adapter has it. */
  get harnessPrepMs(): (() => number) | undefined {
    const inner = this.inner;
    return inner.harnessPrepMs ? () => inner.harnessPrepMs!() : undefined;
  }
  run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    return this.observeRun(() => this.inner.run(input, opts));
  }
}
