/**
 * Loads a tfjs backend in a short-lived child process and runs one op. probe() uses it so that
 * probing never loads TensorFlow.js into the probing process: tfjs keeps its engine and kernel
 * registry on the global object, and a loaded engine leaks into later contexts of that process
 * (Jest copies the outer globals into each test context). It also turns a native crash (e.g. a
 * libtensorflow built for CPU features this machine lacks) into "unavailable" instead of a crash.
 */
import { spawnSync } from 'child_process';

const SCRIPT = `
const [tfPath, pkgPath, backendName, wasmPrefix] = JSON.parse(process.argv[1]);
(async () => {
  const tf = require(tfPath);
  if (pkgPath) {
    const m = require(pkgPath);
    if (wasmPrefix) m.setWasmPaths(wasmPrefix);
  }
  if (!(await tf.setBackend(backendName))) throw new Error("tf.setBackend('" + backendName + "') returned false");
  await tf.ready();
  const y = tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync();
  if (y[0] !== 4 || y[1] !== 6) throw new Error('[1,2] + [3,4] gave [' + Array.from(y) + ']');
  const b = tf.engine().registry[backendName];
  process.stdout.write('PROBE-RESULT ' + JSON.stringify({ gpu: Boolean(b && b.isUsingGpuDevice) }) + '\\n');
})().catch((e) => {
  process.stdout.write('PROBE-ERROR ' + String((e && e.message) || e).split('\\n')[0] + '\\n');
  process.exit(1);
});
`;

export interface ChildProbeArgs {
  /** Directory of @tensorflow/tfjs. */
  tfjs: string;
  /** Directory of the backend package to load (null: the union package's cpu backend). */
  pkg: string | null;
  backendName: string;
  /** setWasmPaths prefix (wasm backend only). */
  wasmPrefix: string | null;
}

export type ChildProbeResult = { ok: true; gpu: boolean; seconds: number } | { ok: false; error: string };

export function childProbe(a: ChildProbeArgs, timeoutMs = 120_000): ChildProbeResult {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['-e', SCRIPT, JSON.stringify([a.tfjs, a.pkg, a.backendName, a.wasmPrefix])], {
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  const out = r.stdout ?? '';
  const ok = /^PROBE-RESULT (.*)$/m.exec(out);
  if (r.status === 0 && ok)
    return { ok: true, gpu: (JSON.parse(ok[1]) as { gpu: boolean }).gpu, seconds: (Date.now() - t0) / 1000 };
  const err = /^PROBE-ERROR (.*)$/m.exec(out);
  if (err) return { ok: false, error: err[1] };
  if (r.error) return { ok: false, error: `could not run the probe process: ${r.error.message}` };
  const lastErr = (r.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? '';
  return {
    ok: false,
    error: `probe process ${r.signal ? `killed by ${r.signal}` : `exited with ${r.status}`}${lastErr ? `: ${lastErr}` : ''}`,
  };
}
