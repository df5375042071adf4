/**
 * Python's own `ast` inside pyodide (offline, from its npm package), in a worker thread
 * (./pyodide-worker.mjs) loaded once per process. The extractor (./extract.py) only parses and
 * interprets recognised AST shapes; no user code is ever executed.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';

export interface SourceFile {
  role: 'public-tests' | 'outputs' | 'notebook';
  path: string;
  /** The file's bytes (decoded by the extractor as Python decodes a source file). */
  bytes: Buffer;
}

/**
 * A request that has not answered in this long ends the worker (terminated, restarted for the next
 * request). Not a limit the tests rely on: the extractor's own bounds (./extract.py) keep a request to
 * seconds; this is the last line against an unforeseen hang.
 */
export const REQUEST_WATCHDOG_MS = 120_000;

interface PythonAst {
  request(json: string): Promise<string>;
}

let loading: Promise<PythonAst> | undefined;

/** Starts the pyodide worker once per process (it takes a while to start); later calls reuse it. */
export function pythonAst(): Promise<PythonAst> {
  if (!loading) {
    loading = new Promise<PythonAst>((resolve, reject) => {
      const worker = new Worker(path.join(__dirname, 'pyodide-worker.mjs'));
      const pending = new Map<
        number,
        { resolve: (s: string) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }
      >();
      let next = 0;
      let ready = false;
      worker.on('message', (m: { ready?: boolean; id?: number; out?: string; error?: string; fatal?: boolean }) => {
        if (m.ready) {
          ready = true;
          worker.unref();
          resolve({
            request(json: string) {
              return new Promise<string>((res, rej) => {
                const id = next++;
                const timer = setTimeout(() => {
                  fail(new Error(`no answer in ${REQUEST_WATCHDOG_MS / 1000} s; the pyodide worker was ended`));
                  void worker.terminate();
                }, REQUEST_WATCHDOG_MS);
                timer.unref();
                pending.set(id, { resolve: res, reject: rej, timer });
                worker.ref();
                worker.postMessage({ id, request: json });
              });
            },
          });
          return;
        }
        const p = pending.get(m.id!);
        if (!p) return;
        pending.delete(m.id!);
        clearTimeout(p.timer);
        if (pending.size === 0) worker.unref();
        // a fatal pyodide error leaves the interpreter unusable: the worker exits, the next request starts a new one
        if (m.fatal) loading = undefined;
        if (m.error !== undefined) p.reject(new Error(`pyodide extractor failed: ${m.error}`));
        else p.resolve(m.out!);
      });
      const fail = (e: Error) => {
        loading = undefined;
        for (const p of pending.values()) {
          clearTimeout(p.timer);
          p.reject(e);
        }
        pending.clear();
        if (!ready) reject(new Error(`cannot start pyodide (Python's ast): ${e.message}`));
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (code !== 0) fail(new Error(`pyodide worker exited with code ${code}`));
        else loading = undefined;
      });
    });
  }
  return loading;
}

/** Runs the extractor on the files; returns its parsed JSON answer. */
export async function extractWithPython(files: SourceFile[]): Promise<unknown> {
  const py = await pythonAst();
  const request = files.map((f) => ({ role: f.role, path: f.path, b64: f.bytes.toString('base64') }));
  return JSON.parse(await py.request(JSON.stringify({ files: request })));
}
