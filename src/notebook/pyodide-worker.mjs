// Worker thread holding one pyodide (Python 3 compiled to WebAssembly) with the extractor loaded.
// A thread of its own because pyodide loads its Node modules with dynamic import(), which Jest's
// vm sandbox does not allow; it also keeps the ~1.5 s load out of the caller's thread.
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const { loadPyodide } = await import('pyodide');
const py = await loadPyodide({ stdout: () => undefined, stderr: () => undefined });
py.runPython(readFileSync(new URL('./extract.py', import.meta.url), 'utf8'));
parentPort.on('message', ({ id, request }) => {
  try {
    py.globals.set('REQUEST', request);
    parentPort.postMessage({ id, out: String(py.runPython('extract(REQUEST)')) });
  } catch (e) {
    // pyodide_fatal_error: the interpreter is gone (e.g. its stack overflowed); end this worker
    const fatal = Boolean(e && e.pyodide_fatal_error);
    parentPort.postMessage({ id, error: String((e && e.message) || e), fatal });
    if (fatal) process.exit(3);
  }
});
parentPort.postMessage({ ready: true });
