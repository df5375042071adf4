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
  text: string;
}

interface PythonAst {
  request(json: string): Promise<string>;
}

let loading: Promise<PythonAst> | undefined;

/** Starts the pyodide worker once per process (about 1.5 s); later calls reuse it. */
export function pythonAst(): Promise<PythonAst> {
  if (!loading) {
    loading = new Promise<PythonAst>((resolve, reject) => {
      const worker = new Worker(path.join(__dirname, 'pyodide-worker.mjs'));
      const pending = new Map<number, { resolve: (s: string) => void; reject: (e: Error) => void }>();
      let next = 0;
      let ready = false;
      worker.on('message', (m: { ready?: boolean; id?: number; out?: string; error?: string }) => {
        if (m.ready) {
          ready = true;
          worker.unref();
          resolve({
            request(json: string) {
              return new Promise<string>((res, rej) => {
                const id = next++;
                pending.set(id, { resolve: res, reject: rej });
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
        if (pending.size === 0) worker.unref();
        if (m.error !== undefined) p.reject(new Error(`pyodide extractor failed: ${m.error}`));
        else p.resolve(m.out!);
      });
      const fail = (e: Error) => {
        loading = undefined;
        for (const p of pending.values()) p.reject(e);
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
  return JSON.parse(await py.request(JSON.stringify({ files })));
}
