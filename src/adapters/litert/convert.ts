/**
 * What every LiteRT.js adapter (litertjs-wasm in its Node program, litertjs-wasm-browser and
 * litertjs-webgpu in Chromium) does before LiteRT.js sees a model: the handed weights written as
 * .npy files, then fixtures/generate/tflite_convert.py run by the pinned Python (.venv) for the
 * input's shape and the capture set, into the content-addressed cache the tflite* adapters share.
 * The converted model's outputs are named Identity, Identity_1, ... in capture order (outputIndex).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeNpy } from '../../tensor/npy';
import type { ModelSpec, ModelWeights, ParamCount } from '../../model/types';
import type { Tensor } from '../../tensor';
import type { RunResult } from '../types';
import { pythonPath, repoRoot } from '../keras/python-env';

/** The converter's stdout line (the provenance JSON plus where the flatbuffer is). */
export interface Converted {
  file: string;
  sha256: string;
  bytes: number;
  operators: string[];
  outputs: string[];
  paramCount: ParamCount;
  cacheHit: boolean;
  path: string;
}

export function converterScript(): string {
  return path.join(repoRoot(), 'fixtures', 'generate', 'tflite_convert.py');
}

/** Position of a converted model's output: 0 the model output, i + 1 the i-th capture. */
export function outputIndex(name: string): number {
  if (name === 'Identity') return 0;
  const m = /^Identity_(\d+)$/.exec(name);
  if (!m) throw new Error(`unexpected output tensor name '${name}' in the converted model`);
  return Number(m[1]);
}

/**
 * A run's result from the converted model's outputs keyed by outputIndex(): the model output and one
 * extra output per capture, in order. A missing or extra output is an error naming `who`.
 */
export function runResultFromOutputs(byIndex: Map<number, Tensor>, capture: readonly string[], who: string): RunResult {
  if (byIndex.size !== 1 + capture.length || !byIndex.has(0))
    throw new Error(`${who}: the converted model has ${byIndex.size} outputs, expected ${1 + capture.length}`);
  const intermediates: Record<string, Tensor> = {};
  capture.forEach((c, i) => {
    const t = byIndex.get(i + 1);
    if (!t) throw new Error(`${who}: the converted model has no output for capture '${c}'`);
    intermediates[c] = t;
  });
  return { output: byIndex.get(0)!, intermediates };
}

const STDERR_KEEP = 64 * 1024;

export class LitertConversion {
  private weightsDir: string | undefined;
  private weightList: { layer: string; name: string; file: string }[] = [];
  private spec: ModelSpec | undefined;
  private counts: ParamCount | undefined;

  constructor(private readonly cacheDir: string) {}

  get built(): boolean {
    return this.spec !== undefined;
  }

  get paramCount(): ParamCount | undefined {
    return this.counts && { ...this.counts };
  }

  /** Writes the weights for the converter (replacing an earlier model's). */
  build(spec: ModelSpec, weights: ModelWeights): void {
    this.dispose();
    this.weightsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'resnet-conformance-litert-'));
    let i = 0;
    let total = 0;
    let trainable = 0;
    for (const [layer, ws] of weights) {
      for (const w of ws) {
        const file = path.join(this.weightsDir, `w${i++}.npy`);
        writeNpy(file, { shape: w.shape, data: w.data });
        this.weightList.push({ layer, name: w.name, file });
        total += w.data.length;
        if (w.trainable) trainable += w.data.length;
      }
    }
    this.spec = spec;
    this.counts = { total, trainable, nonTrainable: total - trainable };
  }

  /**
   * The flatbuffer for this input shape and capture set (converted, or found in the cache). Runs the
   * converter as a child process without blocking this process's event loop (the browser host's
   * page connections stay served while TensorFlow converts a ResNet-50, which takes minutes cold).
   */
  async convert(shape: readonly number[], capture: readonly string[]): Promise<Converted> {
    const spec = this.spec;
    if (!spec || !this.weightsDir) throw new Error('LiteRT conversion: build() must be called before convert()');
    const req = path.join(this.weightsDir, 'request.json');
    fs.writeFileSync(
      req,
      JSON.stringify({ model: spec.model, args: spec.args, inputShape: shape, capture, weights: this.weightList }),
    );
    const script = converterScript();
    const { code, signal, stdout, stderr } = await new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const child = spawn(pythonPath(), [script, req, this.cacheDir], {
        // Conversion runs no convolution; off so TensorFlow's oneDNN cannot hit the Zen 5 SIGFPE (known-crashes.ts).
        env: { ...process.env, TF_ENABLE_ONEDNN_OPTS: '0', TF_CPP_MIN_LOG_LEVEL: '3' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        err = (err + s).slice(-STDERR_KEEP);
      });
      child.on('error', (e) => reject(new Error(`cannot run the converter ${script}: ${e.message}`)));
      child.on('close', (c, s) => resolve({ code: c, signal: s, stdout: out, stderr: err }));
    });
    if (code !== 0) {
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      throw new Error(`the .tflite conversion failed (exit ${code ?? signal}): ${tail}`);
    }
    const line = stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as Converted;
    } catch {
      throw new Error(`the converter ${script} printed no provenance JSON (last line: ${line.slice(0, 200)})`);
    }
  }

  dispose(): void {
    this.spec = undefined;
    this.counts = undefined;
    this.weightList = [];
    if (this.weightsDir) fs.rmSync(this.weightsDir, { recursive: true, force: true });
    this.weightsDir = undefined;
  }
}
