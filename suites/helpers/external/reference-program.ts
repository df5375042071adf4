/**
 * A protocol program (docs/adapter-protocol.md, version 1) that wraps the TypeScript reference
 * adapter, so the external-adapter host path is exercised end to end against golden values, and the
 * protocol's overhead can be measured against the same code in-process.
 *
 *   node --require tsx/cjs suites/helpers/external/reference-program.ts [--precision fp64|fp32] [--fault MODE]
 *
 * Fault modes (for suites/external-command.test.ts); the run faults fire on training-mode runs only,
 * so the cases around them show the run going on:
 *   garbage     training runs: text on stdout instead of a frame
 *   bad-npy     training runs: a frame whose 'output' tensor is not .npy bytes
 *   shape       training runs: the output loses its last channel
 *   exit        training runs: process.exit(3) mid-request
 *   hang        training runs: never answers
 *   error       training runs: an `error` message (the program stays usable)
 *   version     hello answers protocol version 99
 *   no-hello    exits with code 2 at start, before hello, after a line on stderr
 */
import { ReferenceAdapter, type ReferencePrecision } from '../../../src/adapters/reference';
import {
  encodeFrame,
  FrameReader,
  frameTensors,
  PROTOCOL_VERSION,
  type Frame,
} from '../../../src/adapters/external/frames';
import type { ModelSpec, ModelWeights, WeightTensor } from '../../../src/spec/types';
import type { Tensor } from '../../../src/tensor';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const precision = (arg('--precision') ?? 'fp64') as ReferencePrecision;
const fault = arg('--fault') ?? 'none';
// Stray logging must never reach the protocol stream.
console.log = console.error;

if (fault === 'no-hello') {
  process.stderr.write('reference-program: refusing to start (fault no-hello)\n');
  process.exit(2);
}

const adapter = new ReferenceAdapter({ id: 'reference-over-protocol', precision });

function send(
  header: { type: string; id: number; [k: string]: unknown },
  tensors: { name: string; tensor: Tensor }[] = [],
): void {
  process.stdout.write(encodeFrame(header, tensors));
}

async function handle(f: Frame): Promise<void> {
  const { type, id } = f.header;
  const h = f.header;
  switch (type) {
    case 'hello':
      send({
        type,
        id,
        protocol: fault === 'version' ? 99 : PROTOCOL_VERSION,
        name: `reference-${precision}-over-protocol`,
        version: '1',
      });
      return;
    case 'probe':
      send({ type, id, ...(await adapter.probe()) });
      return;
    case 'describe':
      send({ type, id, ...(await adapter.describe()) });
      return;
    case 'build': {
      const tensors = frameTensors(f);
      const weights: ModelWeights = new Map();
      for (const w of h.weights as { layer: string; name: string; trainable: boolean; tensor: string }[]) {
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
      await adapter.build(h.spec as ModelSpec, weights);
      send({ type, id, paramCount: await adapter.paramCount() });
      return;
    }
    case 'run': {
      const input = frameTensors(f).get('input');
      if (!input) throw new Error("run: no tensor 'input'");
      const training = h.training as boolean;
      if (training && fault === 'exit') process.exit(3);
      if (training && fault === 'hang') {
        setInterval(() => undefined, 1000);
        return;
      }
      if (training && fault === 'error') throw new Error('deliberate failure (fault error)');
      if (training && fault === 'garbage') {
        process.stdout.write('Traceback: something printed to stdout\n');
        return;
      }
      const t0 = performance.now();
      const r = await adapter.run(input, { training, capture: h.capture as string[] });
      const computeMs = performance.now() - t0;
      let output = r.output;
      if (training && fault === 'shape') {
        const c = output.shape[output.shape.length - 1];
        const keep = output.data.filter((_, i) => i % c !== c - 1) as Float64Array;
        output = { shape: [...output.shape.slice(0, -1), c - 1], data: keep };
      }
      const tensors = [
        { name: 'output', tensor: output },
        ...Object.entries(r.intermediates).map(([k, t]) => ({ name: `intermediates/${k}`, tensor: t })),
      ];
      if (training && fault === 'bad-npy') {
        const frame = encodeFrame({ type, id, computeMs }, tensors);
        // Corrupt the first .npy magic byte of the payload.
        const hlen = frame.readUInt32LE(0);
        frame[4 + hlen + 8] = 0x00;
        process.stdout.write(frame);
        return;
      }
      send({ type, id, computeMs }, tensors);
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

const reader = new FrameReader('harness');
let chain: Promise<void> = Promise.resolve();
process.stdin.on('data', (b: Buffer) => {
  reader.push(b);
  for (;;) {
    const f = reader.next();
    if (!f) break;
    chain = chain.then(() =>
      handle(f).catch((e: Error) => {
        send({ type: 'error', id: f.header.id, message: e.message, traceback: e.stack ?? '' });
      }),
    );
  }
});
process.stdin.on('end', () => {
  void chain.then(() => process.exit(0));
});
