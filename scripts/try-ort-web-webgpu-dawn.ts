/**
 * Why there is no `onnxruntime-web-webgpu-node` adapter (docs/browser.md, "WebGPU in Node (Dawn)"):
 * onnxruntime-web 1.30's webgpu EP (dist/ort.webgpu.min.mjs) on Dawn in Node, on the 2-value probe
 * model of src/onnx/probe-model.ts, with each phase timed.
 *
 *   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
 *     npx tsx scripts/try-ort-web-webgpu-dawn.ts [--no-copy]
 *
 * --no-copy leaves GPUQueue.writeBuffer as Dawn has it: Dawn rejects ORT's views on the wasm
 * module's SharedArrayBuffer memory ("Invalid argument"); by default they are copied first.
 */
import * as path from 'path';
import { pathToFileURL } from 'url';
import { checkProbeOutput, PROBE_INPUT, probeModelBytes } from '../src/onnx/probe-model';

type Ort = typeof import('onnxruntime-web');
interface Queue {
  writeBuffer(buffer: unknown, offset: number, data: ArrayBufferView, dataOffset?: number, size?: number): void;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const ms = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { create, globals } = require('webgpu') as {
    create(f: string[]): { requestAdapter(): Promise<{ info: Record<string, unknown> } | null> };
    globals: { GPUQueue: { prototype: Queue } };
  };
  Object.assign(globalThis, globals);
  const gpu = create([]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  const a = await gpu.requestAdapter();
  if (!a) throw new Error('Dawn found no WebGPU adapter (LD_LIBRARY_PATH, VK_ICD_FILENAMES?)');
  console.log(`adapter: ${a.info.vendor} / ${a.info.architecture} (${a.info.description}) [${ms()}]`);
  if (!process.argv.includes('--no-copy')) {
    const write = globals.GPUQueue.prototype.writeBuffer;
    globals.GPUQueue.prototype.writeBuffer = function (buffer, offset, data, dataOffset, size) {
      if (data.buffer instanceof SharedArrayBuffer && data instanceof Uint8Array) {
        const copy = new Uint8Array(data.byteLength);
        copy.set(data);
        return write.call(this, buffer, offset, copy, dataOffset, size);
      }
      return write.call(this, buffer, offset, data, dataOffset, size);
    };
  }
  const dist = path.join(path.dirname(require.resolve('onnxruntime-web/package.json')), 'dist');
  const ort = (await import(pathToFileURL(path.join(dist, 'ort.webgpu.min.mjs')).href)) as Ort;
  ort.env.wasm.numThreads = 1;
  console.log(`onnxruntime-web ${ort.env.versions.web} loaded [${ms()}]`);
  const s = await ort.InferenceSession.create(probeModelBytes(), { executionProviders: ['webgpu'] });
  console.log(`session created [${ms()}]`);
  const r = await s.run({ x: new ort.Tensor('float32', Float32Array.from(PROBE_INPUT), [2]) });
  const y = (r.y.location === 'cpu' ? r.y.data : await r.y.getData()) as Float32Array;
  console.log(`run: y = [${Array.from(y).join(', ')}] (${r.y.location}) [${ms()}]`);
  checkProbeOutput(y);
  console.log('probe output right');
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
