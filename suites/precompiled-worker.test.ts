/**
 * Worker processes start from a bundle precompiled with esbuild (src/workers/precompiled-worker.ts):
 * the bundle must behave like the sources run through tsx — each module's own __dirname, stack
 * traces naming the .ts lines — be rebuilt after any edit of an input, and fall back to tsx.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { prepare, WORKER_CACHE_ENV, type WorkerLaunch } from '../src/workers/precompiled-worker';
import { WORKER_FILE } from '../src/runner/orchestrator';

let tmp: string;
let srcDir: string;
let savedEnv: string | undefined;

function write(rel: string, text: string): string {
  const file = path.join(srcDir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

function runLaunch(l: WorkerLaunch): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...l.execArgv, l.file], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'precompiled-worker-'));
  srcDir = path.join(tmp, 'src');
  savedEnv = process.env[WORKER_CACHE_ENV];
  process.env[WORKER_CACHE_ENV] = path.join(tmp, 'cache');
});

afterEach(() => {
  if (savedEnv === undefined) delete process.env[WORKER_CACHE_ENV];
  else process.env[WORKER_CACHE_ENV] = savedEnv;
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('precompiled worker entries', () => {
  test("the bundle keeps each module's own __dirname/__filename and is reused until an input changes", async () => {
    write(
      'lib/where.ts',
      'export const where = (): string => `${__dirname}|${__filename}`;\nexport const VALUE: number = 1;\n',
    );
    const entry = write(
      'entry.ts',
      "import { where, VALUE } from './lib/where';\nconsole.log(JSON.stringify({ where: where(), value: VALUE, main: __filename }));\n",
    );

    const first = await prepare(entry);
    expect(first).toMatchObject({ mode: 'precompiled', built: true });
    expect(first.file.startsWith(path.join(tmp, 'cache'))).toBe(true);
    const out1 = runLaunch(first);
    expect(out1.status).toBe(0);
    expect(JSON.parse(out1.stdout)).toEqual({
      where: `${path.join(srcDir, 'lib')}|${path.join(srcDir, 'lib', 'where.ts')}`,
      value: 1,
      main: entry,
    });

    expect(await prepare(entry)).toMatchObject({ mode: 'precompiled', built: false, file: first.file });

    // An edit of an imported module (same size, same text length) rebuilds it.
    write(
      'lib/where.ts',
      'export const where = (): string => `${__dirname}|${__filename}`;\nexport const VALUE: number = 2;\n',
    );
    const second = await prepare(entry);
    expect(second).toMatchObject({ mode: 'precompiled', built: true, file: first.file });
    expect(JSON.parse(runLaunch(second).stdout).value).toBe(2);
  });

  test('stack traces name the TypeScript source and line (linked source map, read by the bundle when a stack is formatted)', async () => {
    write(
      'lib/boom.ts',
      "export function boom(): never {\n  // line 2\n  throw new Error('boom from the source');\n}\n",
    );
    const entry = write(
      'entry.ts',
      [
        "import { boom } from './lib/boom';",
        'try {',
        '  boom();',
        '} catch (err) {',
        "  console.log(JSON.stringify({ caught: (err as Error).stack, elsewhere: new Error('x', { cause: 1 }).stack }));",
        '}',
        'boom();',
        '',
      ].join('\n'),
    );
    const l = await prepare(entry);
    expect(l.mode).toBe('precompiled');
    // Not Node's --enable-source-maps: it parses every loaded package's map at load time.
    expect(l.execArgv).not.toContain('--enable-source-maps');
    const r = runLaunch(l);
    const boomAt = `${path.join(srcDir, 'lib', 'boom.ts')}:3`;
    // A stack read in the worker (what a fatal or error message carries) ...
    const out = JSON.parse(r.stdout) as { caught: string; elsewhere: string };
    expect(out.caught).toMatch(/^Error: boom from the source\n    at boom \(/);
    expect(out.caught).toContain(boomAt);
    expect(out.caught).toContain(`${entry}:3`);
    expect(out.caught).not.toContain(l.file);
    expect(out.elsewhere).toContain(`${entry}:5`);
    // ... and the uncaught exception Node prints.
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('boom from the source');
    expect(r.stderr).toContain(boomAt);
    expect(r.stderr).toContain(`${entry}:7`);
  });

  test('a bundle whose map cannot be read keeps its own locations in stack traces', async () => {
    write('lib/boom.ts', "export function boom(): never {\n  throw new Error('no map');\n}\n");
    const entry = write('entry.ts', "import { boom } from './lib/boom';\nboom();\n");
    const l = await prepare(entry);
    fs.rmSync(`${l.file}.map`);
    const r = runLaunch(l);
    expect(r.stderr).toContain('no map');
    expect(r.stderr).toContain(`${l.file}:`);
  });

  test('falls back to tsx, with the reason: cache turned off, or a source that does not compile', async () => {
    const entry = write('entry.ts', 'console.log("ok");\n');
    process.env[WORKER_CACHE_ENV] = 'off';
    const off = await prepare(entry);
    expect(off).toMatchObject({ mode: 'tsx', file: entry, reason: `${WORKER_CACHE_ENV}=off` });
    expect(off.execArgv).toEqual(['--require', require.resolve('tsx/cjs')]);
    expect(runLaunch(off).stdout.trim()).toBe('ok');

    process.env[WORKER_CACHE_ENV] = path.join(tmp, 'cache');
    const broken = write('broken.ts', 'export const x: number = ;\n');
    const b = await prepare(broken);
    expect(b.mode).toBe('tsx');
    expect(b.reason).toMatch(/^precompiling .*broken\.ts failed: /);
  });

  test("the runner's worker entry precompiles", async () => {
    const l = await prepare(WORKER_FILE);
    expect(l).toMatchObject({ mode: 'precompiled' });
    expect(fs.existsSync(l.file)).toBe(true);
    expect(fs.existsSync(`${l.file}.map`)).toBe(true);
  });
});
