/**
 * Python's own `ast` inside pyodide (offline, from its npm package). The extractor (./extract.py)
 * only parses and interprets recognised AST shapes; no user code is ever executed.
 */
import * as fs from 'fs';
import * as path from 'path';

interface Pyodide {
  runPython(code: string): unknown;
  globals: { set(name: string, value: unknown): void; get(name: string): unknown };
}

let loading: Promise<Pyodide> | undefined;

/** Loads pyodide once per process (about 1.5 s) and defines the extractor in its globals. */
export function pythonAst(): Promise<Pyodide> {
  if (!loading) {
    loading = (async () => {
      const { loadPyodide } = require('pyodide') as { loadPyodide: (o?: Record<string, unknown>) => Promise<Pyodide> };
      const py = await loadPyodide({ stdout: () => undefined, stderr: () => undefined });
      py.runPython(fs.readFileSync(path.join(__dirname, 'extract.py'), 'utf8'));
      return py;
    })();
    loading.catch(() => { loading = undefined; });
  }
  return loading;
}

export interface SourceFile {
  role: 'public-tests' | 'outputs' | 'notebook';
  path: string;
  text: string;
}

/** Runs the extractor on the files; returns its parsed JSON answer. */
export async function extractWithPython(files: SourceFile[]): Promise<unknown> {
  const py = await pythonAst();
  py.globals.set('REQUEST', JSON.stringify({ files }));
  const out = py.runPython('extract(REQUEST)');
  return JSON.parse(String(out));
}
