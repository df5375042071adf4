/**
 * External adapters through the CLI and the runner (not executeCase directly, see
 * suites/external-command.test.ts for the protocol host itself):
 *   - `run --adapter-module <an .mjs file>` and `--adapter-module <an npm package name>` (CommonJS,
 *     and an ES-module-only package), resolved from the working directory's node_modules;
 *   - `run --adapter-command '<node reference-program>'` (the id from its hello);
 *   - fault-injected programs in one run (garbage frame, wrong shape, exit mid-run, hang with a
 *     short --adapter-timeout): error / fail-shape / crashed / timeout in report.json, while the
 *     cases around each fault and the other adapters of the run complete;
 *   - the companion flags' usage errors;
 *   - CONFORMANCE_ADAPTER_MODULES / CONFORMANCE_ADAPTER_COMMANDS reaching the suites' pool.
 * Only the notebook's block cases run (`--cases 'notebook/*'`): fast on every adapter.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ADAPTERS } from '../src/adapters/registry';
import type { CaseResult, ConformanceReport } from '../src/report/schema';
import { CLI, REPO, runCli, type CliResult } from './helpers/cli';
import {
  COMMANDS_ENV,
  MODULES_ENV,
  recordSuiteSources,
  selectedAdapterIds,
  suiteAdapterEntries,
  suiteAdapterPool,
  suiteAdapterSources,
} from './helpers/selection';

const TSX = require.resolve('tsx/cjs');
const REFERENCE_PROGRAM = path.join(__dirname, 'helpers', 'external', 'reference-program.ts');
const REFERENCE_SRC = path.join(REPO, 'src', 'adapters', 'reference', 'index.ts');
const program = (fault?: string): string =>
  `node --require ${TSX} ${REFERENCE_PROGRAM}${fault ? ` --fault ${fault}` : ''}`;
const CASES = ['--cases', 'notebook/*', '--no-diagnose'];

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ext-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Whether a process is still running (a zombie, exited but not yet reaped, counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  for (let t = 0; t < ms && alive(pid); t += 100) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

function readReport(dir: string): ConformanceReport {
  return JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as ConformanceReport;
}

const statuses = (r: ConformanceReport, adapter: string): Record<string, string> =>
  Object.fromEntries(r.results.filter((x: CaseResult) => x.adapter === adapter).map((x) => [x.case, x.status]));

/** A third party's adapter module: the reference adapter under another id (source: the .mjs text). */
function adapterModuleText(id: string, esm: boolean): string {
  const body = `
  require(${JSON.stringify(TSX)});
  const { ReferenceAdapter } = require(${JSON.stringify(REFERENCE_SRC)});
  const adapters = [{ id: ${JSON.stringify(id)}, summary: 'reference, from outside', profile: 'fp64-reference', outOfTheBox: false,
    create: () => new ReferenceAdapter({ id: ${JSON.stringify(id)}, precision: 'fp64' }) }];`;
  return esm
    ? `import { createRequire } from 'module';\nconst require = createRequire(import.meta.url);\n${body}\nexport { adapters };\n`
    : `${body}\nmodule.exports = { adapters };\n`;
}

function runIn(cwd: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const GOLDEN = [
  'notebook/identity_block/f2-constant1/inference',
  'notebook/identity_block/f3-constant1/training',
  'notebook/convolutional_block/f2-s2/inference',
  'notebook/convolutional_block/f2-s2/training',
];
const allPass = Object.fromEntries(GOLDEN.map((c) => [c, 'pass']));

describe('run --adapter-module', () => {
  test('an .mjs file written here: its adapter passes the golden block cases', async () => {
    const file = path.join(tmp, 'my.mjs');
    fs.writeFileSync(file, adapterModuleText('my-mjs', true));
    const out = path.join(tmp, 'run-mjs');
    const res = await runCli(['run', '--adapter-module', file, '--adapters', 'my-mjs', ...CASES, '--out', out]);
    expect(res.stderr).not.toMatch(/usage|cannot load/i);
    expect(res.code).toBe(0);
    const r = readReport(out);
    expect(r.adapters.map((a) => [a.id, a.available])).toEqual([['my-mjs', true]]);
    expect(statuses(r, 'my-mjs')).toEqual(allPass);
  });

  test('npm package names, resolved from the working directory: a CommonJS package and an ES-module-only one', async () => {
    const cwd = path.join(tmp, 'project');
    const pkg = (name: string, files: Record<string, string>): void => {
      const dir = path.join(cwd, 'node_modules', name);
      fs.mkdirSync(dir, { recursive: true });
      for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
    };
    pkg('my-cjs-adapters', {
      'package.json': JSON.stringify({ name: 'my-cjs-adapters', main: 'lib.js' }),
      'lib.js': adapterModuleText('pkg-cjs', false),
    });
    pkg('@me/esm-adapters', {
      'package.json': JSON.stringify({
        name: '@me/esm-adapters',
        type: 'module',
        exports: { '.': { import: './index.js' } },
      }),
      'index.js': adapterModuleText('pkg-esm', true),
    });
    const out = path.join(tmp, 'run-pkg');
    const res = await runIn(cwd, [
      'run',
      '--adapter-module',
      'my-cjs-adapters',
      '--adapter-module',
      '@me/esm-adapters',
      ...CASES,
      '--adapters',
      'pkg-cjs,pkg-esm',
      '--out',
      out,
    ]);
    expect(res.stderr).not.toMatch(/usage|cannot load/i);
    expect(res.code).toBe(0);
    const r = readReport(out);
    expect(statuses(r, 'pkg-cjs')).toEqual(allPass);
    expect(statuses(r, 'pkg-esm')).toEqual(allPass);
    // A name that resolves nowhere is a usage error naming it and where it looked.
    const bad = await runIn(cwd, [
      'run',
      '--adapter-module',
      'no-such-adapters-pkg',
      ...CASES,
      '--out',
      path.join(tmp, 'never'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      "--adapter-module no-such-adapters-pkg: no such file, and no npm package 'no-such-adapters-pkg' resolves from",
    );
  });
});

describe('run --adapter-command', () => {
  test('the reference behind the protocol passes the golden block cases; its id is its hello name', async () => {
    const out = path.join(tmp, 'run-cmd');
    const res = await runCli([
      'run',
      '--adapter-command',
      program(),
      '--adapters',
      'reference,reference-fp64-over-protocol',
      ...CASES,
      '--out',
      out,
    ]);
    expect(res.code).toBe(0);
    const r = readReport(out);
    expect(r.adapters.map((a) => a.id)).toEqual(['reference', 'reference-fp64-over-protocol']);
    expect(statuses(r, 'reference-fp64-over-protocol')).toEqual(allPass);
    expect(r.adapters[1].description?.notes.join('\n')).toMatch(
      /external program `node --require .*reference-program\.ts`: reference-fp64-over-protocol 1, protocol version 1/,
    );
  });

  test("--verbose passes the program's stderr through; the program's own compute time is in the report next to the harness's", async () => {
    const cmd = `${program()} --say said-on-the-programs-stderr`;
    const args = (out: string) => [
      'run',
      '--adapter-command',
      cmd,
      '--adapters',
      'reference-fp64-over-protocol',
      '--cases',
      'notebook/identity_block/*',
      '--no-diagnose',
      '--out',
      out,
    ];
    const quiet = await runCli(args(path.join(tmp, 'quiet')));
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain('said-on-the-programs-stderr');
    const verbose = await runCli([...args(path.join(tmp, 'verbose')), '--verbose']);
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toContain('said-on-the-programs-stderr');

    const r = readReport(path.join(tmp, 'verbose'));
    const results = r.results.filter((x) => x.adapter === 'reference-fp64-over-protocol');
    expect(results).toHaveLength(2);
    for (const x of results) {
      // computeMs of each run, added up: measured inside the program, so part of the harness's run time.
      expect(x.timings!.programComputeMs).toBeGreaterThan(0);
      expect(x.timings!.programComputeMs!).toBeLessThanOrEqual(x.timings!.runMs);
    }
    const md = fs.readFileSync(path.join(tmp, 'verbose', 'report.md'), 'utf8');
    expect(md).toMatch(
      /\| `reference-fp64-over-protocol` \|.*\| \S+ m?s \(runs \S+ m?s, the program's own compute \S+ m?s\) \|/,
    );
    const html = fs.readFileSync(path.join(tmp, 'verbose', 'report.html'), 'utf8');
    expect(html).toMatch(/run \S+ m?s \(the program's own compute: \S+ m?s\)/);
  });

  test('faulty programs: error, fail-shape, crashed, timeout; the other cases and adapters complete', async () => {
    const out = path.join(tmp, 'run-faults');
    const faults = { garbage: 'error', shape: 'fail-shape', exit: 'crashed', hang: 'timeout' } as const;
    const args = [
      'run',
      '--adapters',
      `reference,${Object.keys(faults)
        .map((f) => `ext-${f}`)
        .join(',')}`,
      ...CASES,
      '--out',
      out,
      '--timeout',
      '60',
    ];
    // Only the hang needs a short request timeout; the others get one no loaded machine runs into.
    for (const f of Object.keys(faults))
      args.push(
        '--adapter-command',
        program(f),
        '--adapter-id',
        `ext-${f}`,
        '--adapter-timeout',
        f === 'hang' ? '5' : '50',
      );
    const res = await runCli(args);
    expect(res.code).toBe(1);
    const r = readReport(out);
    expect(statuses(r, 'reference')).toEqual(allPass);
    for (const [f, status] of Object.entries(faults)) {
      // Faults fire on training-mode runs only: the inference cases around them pass (the program restarted).
      expect([f, statuses(r, `ext-${f}`)]).toEqual([
        f,
        {
          'notebook/identity_block/f2-constant1/inference': 'pass',
          'notebook/identity_block/f3-constant1/training': status,
          'notebook/convolutional_block/f2-s2/inference': 'pass',
          'notebook/convolutional_block/f2-s2/training': status,
        },
      ]);
    }
    const hang = r.results.find((x) => x.adapter === 'ext-hang' && x.status === 'timeout');
    expect(hang?.reason).toMatch(/ExternalProgramTimeout: .*no answer to 'run' .* within 5000 ms/);
    const shape = r.results.find((x) => x.adapter === 'ext-shape' && x.status === 'fail-shape');
    expect(shape?.reason).toMatch(/tensor 'output' has shape \[.*\], the spec says/);
  });

  /** The "<program pid> <grandchild pid>" lines grandchild-program.cjs wrote. */
  const pidsIn = (file: string): number[] =>
    fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
  const killAll = (pids: number[]): void => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  const hangingProgram = (pids: string): string =>
    `node ${path.join(__dirname, 'helpers', 'external', 'grandchild-program.cjs')} --pids ${pids} --hang-at build`;

  test('SIGTERM is handled like SIGINT: workers stopped, their programs and grandchildren killed, no report that looks complete', async () => {
    const pids = path.join(tmp, 'sigterm-pids');
    const out = path.join(tmp, 'run-sigterm');
    try {
      const res = await runCli(
        ['run', '--adapter-command', hangingProgram(pids), '--adapter-id', 'gc', ...CASES, '--out', out],
        {},
        (child) => {
          // Once the worker's program has started (and hangs in build): SIGTERM, as a CI runner or a container stop sends it.
          const poll = setInterval(() => {
            if (pidsIn(pids).length >= 2) {
              clearInterval(poll);
              child.kill('SIGTERM');
            }
          }, 100);
          child.once('exit', () => clearInterval(poll));
        },
      );
      expect(res.stderr).toMatch(/terminated \(SIGTERM\): workers stopped; no complete report in /);
      expect({ code: res.code, signal: res.signal }).toEqual({ code: 143, signal: null });
      expect(fs.existsSync(path.join(out, 'report.json'))).toBe(false);
      const started = pidsIn(pids);
      for (const pid of started) expect({ pid, gone: await waitGone(pid, 10_000) }).toEqual({ pid, gone: true });
    } finally {
      killAll(pidsIn(pids));
    }
  });

  test("the adapter's budget (--timeout) running out kills the worker's hung program and its grandchild", async () => {
    const pids = path.join(tmp, 'budget-pids');
    const out = path.join(tmp, 'run-budget');
    try {
      // The request timeout (19.99 s from the build request) comes after the budget (20 s from the worker's
      // start), however slowly the worker starts; 20 s leaves a loaded machine time to start the program.
      const res = await runCli([
        'run',
        '--adapter-command',
        hangingProgram(pids),
        '--adapter-id',
        'gc',
        '--adapter-timeout',
        '19.99',
        '--timeout',
        '20',
        ...CASES,
        '--out',
        out,
      ]);
      expect(res.code).toBe(1);
      const r = readReport(out);
      expect(Object.values(statuses(r, 'gc'))).toContain('timeout');
      expect(r.results.find((x) => x.adapter === 'gc' && x.status === 'timeout')?.reason).toMatch(/budget/);
      const started = pidsIn(pids);
      expect(started.length).toBeGreaterThanOrEqual(2);
      for (const pid of started) expect({ pid, gone: await waitGone(pid, 10_000) }).toEqual({ pid, gone: true });
    } finally {
      killAll(pidsIn(pids));
    }
  });

  test.each([
    [
      ['--adapter-command', 'a', '--adapter-command', 'b', '--adapter-id', 'x'],
      '--adapter-id given 1 time for 2 --adapter-command; give it once per --adapter-command',
    ],
    [['--adapter-id', 'x'], '--adapter-id belongs to an --adapter-command (none given)'],
    [
      ['--adapter-command', 'a', '--adapter-profile', 'fp16'],
      "--adapter-profile must be fp64-reference, fp32-cpu or tf32-gpu, got 'fp16'",
    ],
    [['--adapter-command', 'a', '--adapter-timeout', '300'], '--adapter-timeout 300 must be below --timeout 300'],
    [['--adapter-command', "python3 'unterminated"], 'unterminated'],
  ])('usage error %j', async (flags, msg) => {
    const res = await runCli(['run', ...flags, ...CASES, '--out', path.join(tmp, 'never')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(msg);
  });
});

describe('the suites: CONFORMANCE_ADAPTER_MODULES and CONFORMANCE_ADAPTER_COMMANDS', () => {
  test('the variables are parsed: modules by path.delimiter, commands as one line or a JSON array', () => {
    expect(suiteAdapterSources({ [MODULES_ENV]: ['a.cjs', 'some-pkg'].join(path.delimiter) }).modules).toEqual([
      'a.cjs',
      'some-pkg',
    ]);
    expect(suiteAdapterSources({ [COMMANDS_ENV]: 'python3 my_runtime.py' }).commands).toEqual([
      { command: 'python3 my_runtime.py' },
    ]);
    expect(suiteAdapterSources({ [COMMANDS_ENV]: '["a x", {"command": "b", "id": "bee"}]' }).commands).toEqual([
      { command: 'a x' },
      { command: 'b', id: 'bee' },
    ]);
    expect(() => suiteAdapterSources({ [COMMANDS_ENV]: '[1]' })).toThrow(
      `${COMMANDS_ENV}: item 0 is neither a command line nor a {command, ...} object`,
    );
    expect(() => suiteAdapterSources({ [COMMANDS_ENV]: '[nope' })).toThrow(`${COMMANDS_ENV}: not valid JSON`);
  });

  test("a module and a program join the suites' pool, the selection, and the entries test files get", async () => {
    const file = path.join(tmp, 'suite-adapters.cjs');
    fs.writeFileSync(
      file,
      "module.exports = { adapters: [{ id: 'suite-mod', summary: 's', profile: 'fp32-cpu', outOfTheBox: false, create() { return {}; } }] };",
    );
    const pool = await suiteAdapterPool({ [MODULES_ENV]: file, [COMMANDS_ENV]: program() });
    const added = ['suite-mod', 'reference-fp64-over-protocol'];
    expect(pool.entries.map((e) => e.id)).toEqual([...ADAPTERS.map((e) => e.id), ...added]);
    expect(selectedAdapterIds(pool)).toEqual(expect.arrayContaining(added));
    const recorded = path.join(tmp, 'sources.json');
    recordSuiteSources(pool, recorded);
    const entries = suiteAdapterEntries(recorded);
    expect(entries.map((e) => e.id).slice(-2)).toEqual(added);
    // The program's entry works in the test file without resolving it again.
    const adapter = entries.at(-1)!.create();
    try {
      expect(await adapter.probe()).toEqual({ available: true });
    } finally {
      await adapter.dispose();
    }
    await expect(suiteAdapterPool({ [MODULES_ENV]: path.join(tmp, 'missing.cjs') })).rejects.toThrow(
      `${MODULES_ENV}: --adapter-module ${path.join(tmp, 'missing.cjs')}: no such file`,
    );
  });
});
