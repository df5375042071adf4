/**
 * The program side of the external adapter protocol (docs/adapter-protocol.md, version 1) for a
 * Node program: serves one in-process Adapter on stdin/stdout. Used by the Dawn WebGPU program
 * (../dawn/program.ts) and by the suites' reference program (suites/helpers/external/).
 *
 * `hooks.beforeRun` may take over a run request (fault injection: never answer, exit, ...);
 * `hooks.sendRun` may replace how a run answer is written. Stray console.log output goes to stderr,
 * never into the protocol stream.
 */
import type { ModelSpec, ModelWeights, WeightTensor } from '../../model/types';
import type { Tensor } from '../../tensor';
import type { Adapter, RunResult } from '../types';
import { encodeFrame, FrameReader, frameTensors, PROTOCOL_VERSION, type Frame, type FrameHeader } from './frames';

export interface ServeHooks {
  /** Answers hello with this protocol version instead (tests). */
  protocol?: number;
  /** Called before a run; true: the hook handled the request (the adapter does not run). */
  beforeRun?(header: FrameHeader): boolean | Promise<boolean>;
  /** Writes the run answer instead of the default; true: written. */
  sendRun?(header: FrameHeader, result: RunResult, computeMs: number): boolean;
}

export type SendFn = (header: { type: string; id: number; [k: string]: unknown }, tensors?: NamedTensor[]) => void;
type NamedTensor = { name: string; tensor: Tensor };

export const send: SendFn = (header, tensors = []) => {
  process.stdout.write(encodeFrame(header, tensors));
};

/** The tensors of a run answer: `output`, then `intermediates/<layer>`. */
export function runTensors(r: RunResult): NamedTensor[] {
  return [
    { name: 'output', tensor: r.output },
    ...Object.entries(r.intermediates).map(([k, t]) => ({ name: `intermediates/${k}`, tensor: t })),
  ];
}

function buildWeights(f: Frame): ModelWeights {
  const tensors = frameTensors(f);
  const weights: ModelWeights = new Map();
  for (const w of f.header.weights as { layer: string; name: string; trainable: boolean; tensor: string }[]) {
    const t = tensors.get(w.tensor);
    if (!t) throw new Error(`build: no tensor '${w.tensor}'`);
    const list = weights.get(w.layer) ?? [];
    list.push({
      name: w.name,
      shape: t.shape,
      data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data),
      trainable: w.trainable,
    } as WeightTensor);
    weights.set(w.layer, list);
  }
  return weights;
}

async function handle(adapter: Adapter, name: string, version: string, hooks: ServeHooks, f: Frame): Promise<void> {
  const { type, id } = f.header;
  const h = f.header;
  switch (type) {
    case 'hello':
      send({ type, id, protocol: hooks.protocol ?? PROTOCOL_VERSION, name, version });
      return;
    case 'probe':
      send({ type, id, ...(await adapter.probe({ dedicatedProcess: true })) });
      return;
    case 'describe':
      send({ type, id, ...(await adapter.describe()) });
      return;
    case 'build':
      await adapter.build(h.spec as ModelSpec, buildWeights(f));
      send({ type, id, paramCount: await adapter.paramCount() });
      return;
    case 'run': {
      if (hooks.beforeRun && (await hooks.beforeRun(h))) return;
      const input = frameTensors(f).get('input');
      if (!input) throw new Error("run: no tensor 'input'");
      const t0 = performance.now();
      const r = await adapter.run(input, { training: h.training as boolean, capture: h.capture as string[] });
      const computeMs = performance.now() - t0;
      if (hooks.sendRun?.(h, r, computeMs)) return;
      send({ type, id, computeMs }, runTensors(r));
      return;
    }
    case 'paramCount':
      send({ type, id, ...(await adapter.paramCount()) });
      return;
    case 'dispose':
      await adapter.dispose();
      send({ type, id });
      return;
    case 'bye':
      process.stdout.write(encodeFrame({ type, id }), () => process.exit(0));
      return;
    default:
      throw new Error(`unknown request type '${type}'`);
  }
}

/** Serves `adapter` on stdin/stdout until stdin ends; requests are handled one after another. */
export function serveAdapter(adapter: Adapter, name: string, version: string, hooks: ServeHooks = {}): void {
  console.log = console.error;
  const reader = new FrameReader('harness');
  let chain: Promise<void> = Promise.resolve();
  process.stdin.on('data', (b: Buffer) => {
    reader.push(b);
    for (;;) {
      const f = reader.next();
      if (!f) break;
      chain = chain.then(() =>
        handle(adapter, name, version, hooks, f).catch((e: Error) => {
          send({ type: 'error', id: f.header.id, message: e.message, traceback: e.stack ?? '' });
        }),
      );
    }
  });
  process.stdin.on('end', () => {
    void chain.then(() => process.exit(0));
  });
}
