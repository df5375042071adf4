/**
 * The `keras` adapter: real Keras 3 (TensorFlow backend, CPU, float32) in a long-lived Python
 * subprocess of the pinned environment (.venv), building the seed notebook's models with the
 * notebook's layer code (fixtures/generate/notebook_model.py) and loading the weights handed to
 * build() (normally from src/init). The worker also compares every handed weight bit for bit with
 * Keras's own seeded initializer output, so a build proves (or disproves) that src/init is exact.
 */
import { checkInput } from '../input-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readNpy, writeNpy } from '../../tensor/npy';
import type { ModelSpec, ModelWeights, ParamCount } from '../../model/types';
import type { Tensor } from '../../tensor';
import type { Adapter, AdapterDescription, ProbeResult, RunOptions, RunResult } from '../types';
import { probePython, pythonPath, repoRoot, VENV_SETUP_COMMAND, PYTHON_ENV_VAR } from './python-env';
import { PythonWorker, type WorkerReady } from './worker-client';
import { probeKnownCrash, pythonTensorflowProbe, TF_ONEDNN_CONV_SIGFPE } from '../known-crashes';

export const KERAS_WORKER_SCRIPT = path.join(__dirname, 'worker.py');

/** Result of the worker's bit-for-bit comparison of the handed weights with Keras's own initial weights. */
export interface InitCheck {
  weightTensors: number;
  bitExact: number;
  mismatches: { layer: string; name: string; differing: number; maxAbs: number }[];
}

interface BuildResponse {
  layers: number;
  weightTensors: number;
  initBitExact: number;
  initMismatches: InitCheck['mismatches'];
  paramCount: ParamCount;
}

export class KerasAdapter implements Adapter {
  readonly id: string;
  private worker: PythonWorker | undefined;
  private ready: WorkerReady | undefined;
  private tmp: string | undefined;
  private spec: ModelSpec | undefined;
  private built: BuildResponse | undefined;
  private runCount = 0;

  constructor(opts: { id?: string } = {}) {
    this.id = opts.id ?? 'keras';
  }

  async probe(): Promise<ProbeResult> {
    const p = probePython();
    if (p.ok) {
      // A known crash of this TensorFlow on this CPU (child process, cached per machine): the worker
      // would die of it on the first convolution of a large model.
      const crash = probeKnownCrash(TF_ONEDNN_CONV_SIGFPE, pythonTensorflowProbe(p.python, p.tensorflow ?? 'unknown'));
      return crash ?? { available: true };
    }
    const custom = process.env[PYTHON_ENV_VAR];
    return {
      available: false,
      reason: p.reason ?? 'Python with TensorFlow and Keras not found',
      fix: custom
        ? `point ${PYTHON_ENV_VAR} at a Python with tensorflow and keras, or unset it to use .venv`
        : `npm run setup:python (creates .venv with the pinned TensorFlow/Keras), or: ${VENV_SETUP_COMMAND}`,
    };
  }

  private async start(): Promise<PythonWorker> {
    if (!this.worker) {
      const p = probePython();
      if (!p.ok) throw new Error(`${this.id}: ${p.reason}; fix: npm run setup:python, or: ${VENV_SETUP_COMMAND}`);
      this.worker = new PythonWorker(pythonPath(), KERAS_WORKER_SCRIPT);
    }
    this.ready = await this.worker.start();
    return this.worker;
  }

  private tmpDir(): string {
    if (!this.tmp) this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resnet-conformance-keras-'));
    return this.tmp;
  }

  /** The bit-for-bit comparison of the last build's weights with Keras's seeded initial weights. */
  initCheck(): InitCheck | undefined {
    const b = this.built;
    return b && { weightTensors: b.weightTensors, bitExact: b.initBitExact, mismatches: b.initMismatches };
  }

  async describe(): Promise<AdapterDescription> {
    const p = probePython();
    const r = this.ready;
    const notes = [
      `the notebook's own layer code (fixtures/generate/notebook_model.py) run by Keras in ${repoRelative(pythonPath())}`,
      'weights are restored to the built values before every run (Keras updates BatchNorm moving statistics when training=True)',
      'logits capture (<dense>:logits): Keras ops.matmul(x, kernel) + bias on the Dense input, the computation Dense.call does before its softmax',
    ];
    const ic = this.initCheck();
    if (ic) {
      notes.push(
        ic.bitExact === ic.weightTensors
          ? `init check: all ${ic.weightTensors} handed weight tensors are bit-identical to Keras's own seeded initial weights`
          : `init check: ${ic.weightTensors - ic.bitExact} of ${ic.weightTensors} handed weight tensors differ from Keras's own seeded initial weights (first: ${ic.mismatches.map((m) => `${m.layer}/${m.name} (${m.differing} values, max |diff| ${m.maxAbs})`).join(', ')})`,
      );
    }
    return {
      runtime: 'Keras (TensorFlow backend)',
      version: r
        ? `keras ${r.keras}, tensorflow ${r.tensorflow}`
        : p.ok
          ? `keras ${p.keras}, tensorflow ${p.tensorflow}`
          : 'unavailable',
      device: 'cpu',
      precision: 'float32',
      settings: {
        python: r?.python ?? 'not started',
        oneDNN: r?.oneDNN ?? (process.env.TF_ENABLE_ONEDNN_OPTS === '0' ? 'off' : 'default (on)'),
        numpy: r?.numpy ?? p.numpy ?? 'unknown',
      },
      notes,
    };
  }

  async build(spec: ModelSpec, weights: ModelWeights): Promise<void> {
    const worker = await this.start();
    const dir = path.join(this.tmpDir(), 'weights');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const list: { layer: string; name: string; file: string }[] = [];
    let i = 0;
    for (const [layer, ws] of weights) {
      for (const w of ws) {
        const file = path.join(dir, `w${i++}.npy`);
        writeNpy(file, { shape: w.shape, data: w.data });
        list.push({ layer, name: w.name, file });
      }
    }
    try {
      const res = await worker.request('build', {
        model: spec.model,
        args: spec.args,
        layers: spec.layers.map((l) => [l.name, l.className]),
        weights: list,
      });
      this.built = res as unknown as BuildResponse;
      this.spec = spec;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  async run(input: Tensor, opts: RunOptions): Promise<RunResult> {
    const spec = this.spec;
    if (!spec || !this.worker) throw new Error(`${this.id}: build() must be called before run()`);
    const shape = input.shape;
    checkInput(this.id, spec, input);
    if (typeof opts.training !== 'boolean') throw new Error(`${this.id}: run option 'training' must be true or false`);
    const dir = path.join(this.tmpDir(), `run-${this.runCount++}`);
    fs.mkdirSync(dir, { recursive: true });
    try {
      const inFile = path.join(dir, 'input.npy');
      const data = input.data instanceof Float32Array ? input.data : Float32Array.from(input.data);
      writeNpy(inFile, { shape: [...shape], data });
      const res = await this.worker.request('run', {
        input: inFile,
        training: opts.training,
        capture: opts.capture ?? [],
        outDir: dir,
      });
      const output = readNpy(res.output as string);
      const intermediates: Record<string, Tensor> = {};
      for (const [name, file] of Object.entries(res.intermediates as Record<string, string>))
        intermediates[name] = readNpy(file);
      return { output, intermediates };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  async paramCount(): Promise<ParamCount> {
    if (!this.built) throw new Error(`${this.id}: build() must be called before paramCount()`);
    return { ...this.built.paramCount };
  }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    this.spec = undefined;
    this.built = undefined;
    if (w) await w.stop();
    if (this.tmp) fs.rmSync(this.tmp, { recursive: true, force: true });
    this.tmp = undefined;
  }
}

function repoRelative(p: string): string {
  try {
    const rel = path.relative(repoRoot(), p);
    return rel.startsWith('..') ? p : rel;
  } catch {
    return p;
  }
}
