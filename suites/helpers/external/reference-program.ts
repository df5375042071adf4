/**
 * A protocol program (docs/adapter-protocol.md, version 1) that wraps the TypeScript reference
 * adapter, so the external-adapter host path is exercised end to end against golden values, and the
 * protocol's overhead can be measured against the same code in-process.
 *
 *   node --require tsx/cjs suites/helpers/external/reference-program.ts [--precision fp64|fp32] [--fault MODE] [--say TEXT] [--record-build FILE]
 *
 * Fault modes (for suites/external-command.test.ts); the run faults fire on training-mode runs only,
 * so the cases around them show the run going on:
 *   garbage     training runs: text on stdout instead of a frame
 *   bad-npy     training runs: a frame whose 'output' tensor is not .npy bytes
 *   shape       training runs: the output loses its last channel
 *   exit        training runs: process.exit(3) mid-request
 *   hang        training runs: never answers
 *   error       training runs: an `error` message (the program stays usable)
 *   huge-frame  training runs: a frame header announcing a 4 GiB payload, then 64 MiB of it, then silence
 *   version     hello answers protocol version 99
 *   no-hello    exits with code 2 at start, before hello, after a line on stderr
 */
import * as fs from 'fs';
import { ReferenceAdapter, type ReferencePrecision } from '../../../src/adapters/reference';
import type { ModelSpec, ModelWeights } from '../../../src/model/types';
import { encodeFrame, PROTOCOL_VERSION } from '../../../src/adapters/external/frames';
import { runTensors, send, serveAdapter } from '../../../src/adapters/external/serve';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const precision = (arg('--precision') ?? 'fp64') as ReferencePrecision;
const fault = arg('--fault') ?? 'none';
/** `--say TEXT`: written to stderr before every run (what `run --verbose` must pass through). */
const say = arg('--say');

if (fault === 'no-hello') {
  process.stderr.write('reference-program: refusing to start (fault no-hello)\n');
  process.exit(2);
}

/** `--record-build FILE`: the ModelSpec of each build request, as received, written to FILE (docs/adapter-protocol.md's example is checked against it). */
const recordBuild = arg('--record-build');

class Recording extends ReferenceAdapter {
  override async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    if (recordBuild) fs.writeFileSync(recordBuild, JSON.stringify(spec));
    return super.build(spec, weights);
  }
}

const adapter = new Recording({ id: 'reference-over-protocol', precision });

serveAdapter(adapter, `reference-${precision}-over-protocol`, '1', {
  protocol: fault === 'version' ? 99 : PROTOCOL_VERSION,
  beforeRun(h) {
    if (say !== undefined) process.stderr.write(`${say}\n`);
    if (!h.training) return false;
    if (fault === 'exit') process.exit(3);
    if (fault === 'hang') {
      setInterval(() => undefined, 1000);
      return true;
    }
    if (fault === 'error') throw new Error('deliberate failure (fault error)');
    if (fault === 'garbage') {
      process.stdout.write('Traceback: something printed to stdout\n');
      return true;
    }
    return false;
  },
  sendRun(h, r, computeMs) {
    if (!h.training) return false;
    const { type, id } = h;
    if (fault === 'shape') {
      const output = r.output;
      const c = output.shape[output.shape.length - 1];
      const keep = output.data.filter((_, i) => i % c !== c - 1) as Float64Array;
      send(
        { type, id, computeMs },
        runTensors({ ...r, output: { shape: [...output.shape.slice(0, -1), c - 1], data: keep } }),
      );
      return true;
    }
    if (fault === 'huge-frame') {
      const h = Buffer.from(
        JSON.stringify({ type, id, tensors: [{ name: 'output', offset: 0, length: 4 * 2 ** 30 }] }),
      );
      const head = Buffer.alloc(4 + h.length + 8);
      head.writeUInt32LE(h.length, 0);
      h.copy(head, 4);
      head.writeBigUInt64LE(BigInt(4 * 2 ** 30), 4 + h.length);
      process.stdout.write(head);
      const chunk = Buffer.alloc(1 << 20);
      let sent = 0;
      const more = (): void => {
        while (sent < 64 && process.stdout.write(chunk)) sent++;
        if (sent < 64) process.stdout.once('drain', more);
      };
      more();
      setInterval(() => undefined, 1000);
      return true;
    }
    if (fault === 'bad-npy') {
      const frame = encodeFrame({ type, id, computeMs }, runTensors(r));
      // Corrupt the first .npy magic byte of the payload.
      const hlen = frame.readUInt32LE(0);
      frame[4 + hlen + 8] = 0x00;
      process.stdout.write(frame);
      return true;
    }
    return false;
  },
});
